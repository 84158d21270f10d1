"""The domain room imports only the standard library and ``eventsourcing`` (ARCHITECTURE)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "domain"


def test_domain_imports_only_the_standard_library_and_eventsourcing():
    outside = []
    for path in sorted(DOMAIN.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("eventsourcing", "domain"):
                    outside.append(f"{path.relative_to(DOMAIN.parent)}: {name}")
    assert outside == []

