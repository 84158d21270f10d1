"""Where a decision's time goes: one unit's scoring, step by step.

    .venv/bin/python bench/profile_write.py [--units 20]

Starts the embedded stack in this process (fresh data dir), sets up one cycle as
bench/latency.py does, then submits scorings first one at a time (the cost of a decision with
nothing else going on) and then ``--units`` at once, timing each step by wrapping it:

  HTTP request (client)                     POST /cycles/{key}/units/{unit}/scoring, whole
  └ Temporal update (Gateway._update)        API → server → unit workflow task → activity → back
    └ activity use case (Assessments.submit_scoring)
      ├ load aggregates (repository.get)
      └ event store insert (recorder.insert_events, with the hash chain link)
    └ activity's extra read (Assessments.cycle)  the stages returned to the workflow
  └ settle (Services.caught_up)                  until the read models include the position

Prints the mean and p50 of each step in ms, as the table in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import secrets
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import latency  # noqa: E402  (bench/latency.py: the same setup)

from services import Services  # noqa: E402
from kaohe.runtime import free_port, start_stack  # noqa: E402
from kaohe.settings import Settings  # noqa: E402
from adapters.gateway import Gateway  # noqa: E402

times: dict[str, list[float]] = defaultdict(list)


def timed_sync(name, fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            times[name].append((time.perf_counter() - t) * 1000)

    return wrapper


def timed_async(name, fn):
    @functools.wraps(fn)
    async def wrapper(*a, **kw):
        t = time.perf_counter()
        try:
            return await fn(*a, **kw)
        finally:
            times[name].append((time.perf_counter() - t) * 1000)

    return wrapper


STEPS = [
    ("http", "HTTP request, whole (client side)"),
    ("update", "Temporal update (API → workflow → activity → back)"),
    ("use_case", "activity: Assessments.submit_scoring"),
    ("load", "  load aggregates (repository.get)"),
    ("insert", "  event store insert + chain link"),
    ("cycle", "activity: read the cycle's stages for the workflow"),
    ("settle", "settle: until the read models include it"),
]


def report(label: str) -> None:
    print(f"\n{label}")
    print("| step | mean ms | p50 ms | n |")
    print("| --- | ---: | ---: | ---: |")
    for key, text in STEPS:
        v = times.get(key, [])
        if v:
            print(f"| {text} | {sum(v) / len(v):.1f} | {latency.pct(v, 50):.1f} | {len(v)} |")
    http, update, use, cyc, settle = (times.get(k, []) for k in ("http", "update", "use_case", "cycle", "settle"))
    if http and update and settle:
        m = lambda v: sum(v) / len(v)  # noqa: E731
        print(f"| Temporal itself (update − activity work) | {m(update) - m(use) - m(cyc):.1f} | | |")
        print(f"| HTTP, auth, FastAPI (whole − update − settle) | {m(http) - m(update) - m(settle):.1f} | | |")
    times.clear()


async def main(units: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="kaohe-profile-"))
    password = secrets.token_urlsafe(12)
    settings = Settings(data_dir=work / "data", api_port=free_port(), temporal_port=free_port(), temporal_ui_port=free_port(), admin_password=password)
    Gateway._update = timed_async("update", Gateway._update)
    Services.caught_up = timed_async("settle", Services.caught_up)
    stack = await start_stack(settings, embedded_temporal=True)
    app = stack.app
    app.submit_scoring = timed_sync("use_case", app.submit_scoring)
    app.cycle = timed_sync("cycle", app.cycle)
    app.repository.get = timed_sync("load", app.repository.get)
    app.recorder.insert_events = timed_sync("insert", app.recorder.insert_events)
    try:
        async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=100)) as http:
            api = latency.Api(stack.api_url, http)
            (key,) = await latency.setup(api, ("admin", password), units, 1)
            times.clear()
            scores = {code: str(mx) for code, mx in latency.POINTS}
            half = units // 2
            for i in range(1, half + 1):
                t = time.perf_counter()
                await api.call("POST", f"/cycles/{key}/units/U{i:02d}/scoring", f"b-eva{i:02d}", {"scores": scores})
                times["http"].append((time.perf_counter() - t) * 1000)
            report(f"one at a time ({half} scorings)")

            async def one(i: int) -> None:
                t = time.perf_counter()
                await api.call("POST", f"/cycles/{key}/units/U{i:02d}/scoring", f"b-eva{i:02d}", {"scores": scores})
                times["http"].append((time.perf_counter() - t) * 1000)

            await asyncio.gather(*(one(i) for i in range(half + 1, units + 1)))
            report(f"{units - half} at once")
    finally:
        await stack.stop()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--units", type=int, default=20)
    asyncio.run(main(p.parse_args().units))
    from kaohe.runtime import hard_exit

    hard_exit(0)
