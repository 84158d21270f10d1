"""Benchmark: what `kaohe simulate` costs per unit, against a trivial workflow, and how the cost
grows with the number of units.

    .venv/bin/python bench/simulate_cost.py [--units 300]          # per unit ÷ trivial workflow
    .venv/bin/python bench/simulate_cost.py --growth 1000 2000     # cost growth, per phase

Each run starts the embedded stack as `kaohe simulate` does for a new user (the Temporal dev
server, the worker, the projections and the API in one process, a fresh data dir), then:

1. measures a trivial workflow (one workflow, one activity that returns at once) on the same
   server and worker process: alone (the median of 30 one after the other) and 8 at a time, as
   the simulation keeps 8 requests in flight (wall time ÷ count: the yardstick, the same measure
   as the simulation's time per unit);
2. simulates a scenario from examples/generate_large.py through the API and times each phase.

Goals (issue 8): per unit ≤ 3× the trivial workflow; from 1,000 to 2,000 units the whole run
≤ 2.1× and no phase above 2.2×. Every figure is printed with its ratio to its goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation import runner as simulate  # noqa: E402
from kaohe.runtime import free_port, read_credentials, start_stack  # noqa: E402
from simulation.scenario import load  # noqa: E402
from kaohe.settings import Settings  # noqa: E402


@activity.defn(name="bench.nothing")
async def nothing(x: int) -> int:
    return x


@workflow.defn(name="BenchTrivial", sandboxed=False)
class Trivial:
    @workflow.run
    async def run(self, x: int) -> int:
        return await workflow.execute_activity(nothing, x, start_to_close_timeout=timedelta(seconds=10))


class Phases(simulate.Progress):
    """Records when each phase of the simulation starts."""

    def __init__(self) -> None:
        super().__init__(quiet=True)
        self.marks: list[tuple[str, float]] = []

    def step(self, text: str) -> None:
        self.marks.append((text.split(" / ")[-1].split(" ")[0], time.monotonic()))

    def durations(self, end: float) -> dict[str, float]:
        out = {}
        for (name, at), (_, nxt) in zip(self.marks, [*self.marks[1:], ("end", end)]):
            if name != "done":  # the last mark: nothing is done after it
                out[name] = out.get(name, 0.0) + nxt - at
        return out


async def trivial_ms(stack, runs: int = 30, concurrency: int = 1) -> float:
    """A trivial workflow's cost: alone, the median of ``runs`` one after the other; with
    ``concurrency`` > 1, the wall time of ``runs`` workflows kept ``concurrency`` at a time,
    divided by ``runs`` (the same measure as the simulation's time per unit)."""
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    async with Worker(stack.client, task_queue=queue, workflows=[Trivial], activities=[nothing]):
        for i in range(3):  # warm the worker up
            await stack.client.execute_workflow(Trivial.run, i, id=f"{queue}-warm-{i}", task_queue=queue)
        if concurrency == 1:
            times = []
            for i in range(runs):
                t = time.perf_counter()
                await stack.client.execute_workflow(Trivial.run, i, id=f"{queue}-{i}", task_queue=queue)
                times.append((time.perf_counter() - t) * 1000)
            return statistics.median(times)
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                await stack.client.execute_workflow(Trivial.run, i, id=f"{queue}-c{i}", task_queue=queue)

        t = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(runs)))
        return (time.perf_counter() - t) * 1000 / runs


async def one_run(units: int, seed: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"kaohe-cost-{units}-"))
    scenario_file = work / "scenario.json"
    subprocess.run(
        [sys.executable, str(ROOT / "examples/generate_large.py"), "--units", str(units), "--seed", str(seed), "--out", str(scenario_file)],
        check=True, capture_output=True,
    )
    scenario = load(scenario_file)
    settings = Settings(data_dir=work / "data")
    stack = await start_stack(settings, embedded_temporal=True, api_port=free_port(), temporal_port=free_port(), ui_port=free_port())
    try:
        yardstick = await trivial_ms(stack)
        yardstick_parallel = await trivial_ms(stack, runs=8 * simulate.CONCURRENCY, concurrency=simulate.CONCURRENCY)
        phases = Phases()
        started = time.monotonic()
        results = await simulate.run(stack.api_url, read_credentials(settings), scenario, phases)
        end = time.monotonic()
        assert results == stack.app.results(scenario["cycle"]["key"]), "simulate and replay differ"
        return {
            "units": units, "wall_s": end - started, "trivial_ms": yardstick, "trivial_parallel_ms": yardstick_parallel,
            "phases": phases.durations(end),
        }
    finally:
        await stack.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--growth", type=int, nargs=2, metavar=("SMALL", "LARGE"), help="compare two sizes")
    args = p.parse_args()
    sizes = args.growth or [args.units]
    runs = []
    for n in sizes:
        r = asyncio.run(one_run(n, args.seed))
        runs.append(r)
        per_unit = r["wall_s"] * 1000 / n
        ratio = per_unit / r["trivial_parallel_ms"]
        print(f"units {n}: simulate {r['wall_s']:.1f} s = {per_unit:.0f} ms per unit (the simulation keeps "
              f"{simulate.CONCURRENCY} requests in flight)")
        print(f"    trivial workflow: alone {r['trivial_ms']:.1f} ms (median of 30); {simulate.CONCURRENCY} at a time "
              f"{r['trivial_parallel_ms']:.1f} ms each (wall ÷ count)")
        print(f"    per unit ÷ trivial at the same concurrency = {ratio:.1f}× (goal ≤ 3×: ratio to goal {ratio / 3:.2f}); "
              f"÷ trivial alone = {per_unit / r['trivial_ms']:.1f}×")
        for name, s in r["phases"].items():
            print(f"    {name:<12} {s:7.1f} s")
    if args.growth:
        small, large = runs
        total = large["wall_s"] / small["wall_s"]
        print(f"growth {small['units']} → {large['units']} units: whole run {total:.2f}× (goal ≤ 2.1×: ratio to goal {total / 2.1:.2f})")
        for name, s in large["phases"].items():
            g = s / max(small["phases"].get(name, s), 1e-9)
            print(f"    {name:<12} {g:5.2f}× (goal ≤ 2.2×: ratio to goal {g / 2.2:.2f})")
    print(json.dumps(runs, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
