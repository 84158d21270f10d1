"""Benchmark: a large scenario end to end through the API (``kaohe simulate``), timed.

    .venv/bin/python bench/simulate_large.py [--units 300] [--keep DIR]

Generates the scenario with examples/generate_large.py, runs `kaohe simulate` on a fresh data
dir (which starts the embedded stack on free ports), checks the result against
`kaohe audit replay`, and prints wall time, events stored and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KAOHE = str(Path(sys.executable).parent / "kaohe")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--units", type=int, default=300)
    p.add_argument("--keep", help="data dir to use (kept afterwards)")
    args = p.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="kaohe-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    scenario = work / f"scenario-{args.units}.json"
    subprocess.run([sys.executable, str(ROOT / "examples/generate_large.py"), "--units", str(args.units), "--out", str(scenario)], check=True)
    env = {**os.environ, "KAOHE_DATA_DIR": str(work / "data"), "KAOHE_API_PORT": "1"}  # nothing listens on port 1
    started = time.monotonic()
    sim = subprocess.run([KAOHE, "simulate", str(scenario), "--out", str(work / "results.json")], env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if sim.returncode != 0:
        print(sim.stderr, file=sys.stderr)
        return 1
    key = json.loads(scenario.read_text("utf-8"))["cycle"]["key"]
    replay = subprocess.run([KAOHE, "audit", "replay", "--cycle", key], env=env, capture_output=True, text=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    import sqlite3

    events = sqlite3.connect(work / "data" / "events.sqlite").execute("select count(*) from stored_events").fetchone()[0]
    print(f"units: {args.units}")
    print(f"simulate wall time: {elapsed:.1f} s")
    print(f"events stored: {events}")
    print(f"peak RSS of a child process: {peak_mb:.0f} MiB")
    print(f"audit replay equals simulate: {replay.stdout == sim.stdout}")
    return 0 if replay.stdout == sim.stdout else 1


if __name__ == "__main__":
    raise SystemExit(main())
