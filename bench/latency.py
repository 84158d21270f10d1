"""Benchmark: latency of decisions and reads on the embedded stack (issue 8).

    .venv/bin/python bench/latency.py [--units 20] [--rounds 3] [--readers 50] [--seconds 15]

Starts the embedded stack (``kaohe.runtime.start_stack``: Temporal dev server, worker,
projection runner and API in one process) in a child process on free ports and a fresh data
dir, so that the load generator here does not share the server's interpreter. Through the HTTP
API it sets up ``--rounds`` cycles, each with ``--units`` units on the default scheme (43
points), self-reviews submitted and the scoring stage open, then measures

  (a) decisions: in each cycle, ``--units`` evaluators submit their unit's scoring at the same
      moment (``POST /cycles/{key}/units/{unit}/scoring``, which returns once the read models
      show it); p50/p95/p99 against the goal p99 <= 250 ms;
  (b) reads: ``--readers`` clients, each in a loop over the four read routes
      (``GET /cycles/{key}``, ``/tasks``, ``/cycles/{key}/units``, ``/cycles/{key}/debrief``) for
      ``--seconds``; p50/p99 and reads/s against the goal p99 <= 100 ms;
  (c) both at once: one more cycle's scoring round while the readers read (every event moves
      the read models on, so kept answers are recomputed).

Ratios are measured / goal: at most 1.0 meets the goal. The machine is shared: run it 2-3
times and quote the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCHEME = json.loads((ROOT / "domain/data/default-scheme.json").read_text("utf-8"))
POINTS = [(p["code"], p["max"]) for i in SCHEME["indicators"] for c in i["children"] for p in c["points"]]
GOAL_SCORING_P99 = 250.0
GOAL_READ_P99 = 100.0


# ----------------------------------------------------------------------------- the server side


def serve(data_dir: str) -> None:
    """Child process: start the embedded stack, print where it listens, run until stdin closes."""
    from kaohe.runtime import free_port, hard_exit, start_stack
    from kaohe.settings import Settings

    async def main() -> None:
        password = secrets.token_urlsafe(12)
        settings = Settings(
            data_dir=Path(data_dir), api_port=free_port(), temporal_port=free_port(), temporal_ui_port=free_port(),
            admin_password=password,
        )
        stack = await start_stack(settings, embedded_temporal=True)
        if os.environ.get("BENCH_GC_LOG"):  # diagnostics: how long the collector stops the world
            import gc

            started = {}

            def watch(phase, info):
                if phase == "start":
                    started["t"] = time.perf_counter()
                else:
                    ms = (time.perf_counter() - started.get("t", time.perf_counter())) * 1000
                    if ms > 5:
                        print(f"gc gen{info['generation']} {ms:.0f} ms, {info['collected']} collected", file=sys.stderr, flush=True)

            gc.callbacks.append(watch)
        print(json.dumps({"api": stack.api_url, "admin": ["admin", password], "pid": os.getpid()}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # the parent closes our stdin to stop us
        await stack.stop()

    asyncio.run(main())
    hard_exit(0)


# ----------------------------------------------------------------------------- the client side


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))  # nearest rank
    return s[k]


class Api:
    def __init__(self, base: str, http: httpx.AsyncClient) -> None:
        self.base = base + "/api/v1"
        self.http = http
        self.tokens: dict[str, str] = {}

    async def call(self, method: str, path: str, who: str, body: Any = None) -> httpx.Response:
        r = await self.http.request(method, self.base + path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"})
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path} as {who}: {r.status_code} {r.text}")
        return r

    async def login(self, username: str, password: str) -> None:
        r = await self.http.post(self.base + "/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        self.tokens[username] = r.json()["access_token"]


async def gather_limited(n: int, coros) -> list:
    sem = asyncio.Semaphore(n)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def setup(api: Api, admin: tuple[str, str], units: int, rounds: int) -> list[str]:
    await api.login(*admin)
    people = {"b-org": ("organizer", None), "b-com": ("committee", None), "b-aud": ("auditor", None)}
    for i in range(1, units + 1):
        people[f"b-eva{i:02d}"] = ("evaluator", None)
        people[f"b-unit{i:02d}"] = ("unit", f"U{i:02d}")

    async def put(name: str) -> None:
        role, unit = people[name]
        password = secrets.token_urlsafe(12)
        await api.call("PUT", f"/users/{name}", "admin", {"role": role, "unit": unit, "password": password})
        await api.login(name, password)

    await gather_limited(4, [put(n) for n in sorted(people)])
    keys = []
    registered = [{"key": f"U{i:02d}", "name": f"第{i}基层党支部", "org_type": "grassroots_branch"} for i in range(1, units + 1)]
    self_scores = {code: str(mx) for code, mx in POINTS}
    for r in range(1, rounds + 1):
        key = f"bench-{r}"
        await api.call("POST", "/cycles", "b-org", {"key": key, "year": 2026, "name": f"基准测试周期 {r}", "schemes": {"grassroots_branch": "default"}})
        await api.call("POST", f"/cycles/{key}/units", "b-org", {"units": registered})
        await api.call("POST", f"/cycles/{key}/open", "b-org")
        await gather_limited(8, [
            api.call("POST", f"/cycles/{key}/units/U{i:02d}/self-review", f"b-unit{i:02d}", {"scores": self_scores})
            for i in range(1, units + 1)
        ])
        await api.call("POST", f"/cycles/{key}/stages/scoring/open", "b-org")
        await api.call("POST", f"/cycles/{key}/stages/self_review/close", "b-org", {"reason": "自评截止"})
        keys.append(key)
    return keys


async def scoring_round(api: Api, key: str, units: int) -> list[float]:
    scores = {code: str(mx - 1 if mx > 2 else mx) for code, mx in POINTS}
    start = asyncio.Event()

    async def one(i: int) -> float:
        await start.wait()
        t = time.perf_counter()
        await api.call("POST", f"/cycles/{key}/units/U{i:02d}/scoring", f"b-eva{i:02d}", {"scores": scores})
        return (time.perf_counter() - t) * 1000

    tasks = [asyncio.create_task(one(i)) for i in range(1, units + 1)]
    await asyncio.sleep(0.2)
    start.set()
    return list(await asyncio.gather(*tasks))


class Connection:
    """A bare HTTP/1.1 keep-alive connection for GETs: the load generator must cost far less CPU
    than the server it measures (httpx costs about as much per request as the server does, and
    both share these 2 cores)."""

    def __init__(self, base: str) -> None:
        u = urlparse(base)
        self.host, self.port = u.hostname, u.port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, token: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for h in head.split(b"\r\n"):
            if h[:15].lower() == b"content-length:":
                length = int(h[15:])
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def reads(api: Api, key: str, readers: int, seconds: float) -> tuple[dict[str, list[float]], int, float]:
    routes = [f"/api/v1/cycles/{key}", "/api/v1/tasks", f"/api/v1/cycles/{key}/units", f"/api/v1/cycles/{key}/debrief"]
    who = [n for n in api.tokens if n.startswith("b-") and not n.startswith("b-unit")]
    samples: dict[str, list[float]] = {r.replace(key, "{key}").removeprefix("/api/v1"): [] for r in routes}
    errors = 0
    deadline = time.perf_counter() + seconds

    async def reader(n: int) -> None:
        nonlocal errors
        token = api.tokens[who[n % len(who)]]
        conn = Connection(api.base)
        i = n
        try:
            while time.perf_counter() < deadline:
                route = routes[i % len(routes)]
                i += 1
                t = time.perf_counter()
                status = await conn.get(route, token)
                ms = (time.perf_counter() - t) * 1000
                if status != 200:
                    errors += 1
                samples[route.replace(key, "{key}").removeprefix("/api/v1")].append(ms)
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(reader(n) for n in range(readers)))
    return samples, errors, time.perf_counter() - started


def line(label: str, values: list[float], goal: float | None = None) -> str:
    text = f"{label}: n={len(values)} p50 {pct(values, 50):.0f} ms, p95 {pct(values, 95):.0f} ms, p99 {pct(values, 99):.0f} ms"
    if goal is not None:
        text += f" (goal p99 <= {goal:.0f} ms, ratio {pct(values, 99) / goal:.2f})"
    return text


async def measure(base: str, admin: tuple[str, str], args: argparse.Namespace) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        api = Api(base, http)
        t = time.perf_counter()
        keys = await setup(api, admin, args.units, args.rounds + 1)
        mixed_key = keys.pop()  # (c): scored while the readers read
        print(f"setup: {len(keys)} cycles x {args.units} units in {time.perf_counter() - t:.1f} s", flush=True)
        scoring: list[float] = []
        for key in keys:
            one = await scoring_round(api, key, args.units)
            print(line(f"  scoring round {key}", one), flush=True)
            scoring.extend(one)
            await asyncio.sleep(1.0)
        print(line(f"(a) {args.units} evaluators scoring at once", scoring, GOAL_SCORING_P99), flush=True)
        alone, _, took = await reads(api, keys[0], 1, min(3.0, args.seconds))
        solo = [v for vs in alone.values() for v in vs]
        print(line("  one reader alone", solo) + f"; {len(solo) / took:.0f} reads/s", flush=True)
        samples, errors, elapsed = await reads(api, keys[0], args.readers, args.seconds)
        every = [v for vs in samples.values() for v in vs]
        for route, vs in samples.items():
            print(line(f"  GET {route}", vs), flush=True)
        print(line(f"(b) {args.readers} concurrent readers", every, GOAL_READ_P99) + f"; {len(every) / elapsed:.0f} reads/s, {errors} errors", flush=True)
        # (c) both at once: every stored event moves the read models on, so kept answers go stale
        # and are recomputed — the readers' figure with writes going on.
        read_task = asyncio.create_task(reads(api, keys[0], args.readers, 4.0))
        await asyncio.sleep(1.0)
        during = await scoring_round(api, mixed_key, args.units)
        mixed, mixed_errors, mixed_elapsed = await read_task
        mixed_all = [v for vs in mixed.values() for v in vs]
        print(line(f"(c) {args.units} scorings while {args.readers} read", during, GOAL_SCORING_P99), flush=True)
        print(line(f"(c) {args.readers} readers while {args.units} score", mixed_all, GOAL_READ_P99)
              + f"; {len(mixed_all) / mixed_elapsed:.0f} reads/s, {mixed_errors} errors", flush=True)
        return {
            "mixed": {"scoring_p99": pct(during, 99), "reads_p50": pct(mixed_all, 50), "reads_p99": pct(mixed_all, 99)},
            "scoring": {"p50": pct(scoring, 50), "p95": pct(scoring, 95), "p99": pct(scoring, 99)},
            "reads": {"p50": pct(every, 50), "p99": pct(every, 99), "per_second": len(every) / elapsed, "errors": errors},
        }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--units", type=int, default=20, help="units per cycle = evaluators scoring at once")
    p.add_argument("--rounds", type=int, default=3, help="cycles, one scoring round each")
    p.add_argument("--readers", type=int, default=50)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--keep", help="data dir to use (kept afterwards)")
    p.add_argument("--json", help="also write the figures to this file")
    p.add_argument("--serve", help=argparse.SUPPRESS)  # internal: run the stack in this process
    args = p.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    work = Path(args.keep or tempfile.mkdtemp(prefix="kaohe-latency-"))
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(work / "data")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        info = json.loads(child.stdout.readline())
        print(f"stack: {info['api']} (pid {info['pid']}), data in {work}", flush=True)
        figures = asyncio.run(measure(info["api"], tuple(info["admin"]), args))
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=1), "utf-8")
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
