"""The production shape under fire: PostgreSQL, a Temporal server of its own, ``kaohe api`` and
two ``kaohe worker`` processes. A 25-unit scenario is simulated through the API while the
workers are SIGKILLed six times, the API three times and the Temporal server three times, each
started again a moment later. The cycle must finish with the exact results (the grading rules
applied to the scenario by hand, ``tests/domain/test_grading._facts_from_scenario``), nothing
stored twice, and the audit chain holding.

The simulation retries a refused connection or a 503 with the same Idempotency-Key (that is
what lets it ride out every restart); the kills are spread over the cycle by the growth of
the event log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.application import Assessments
from domain.grading import allocate, results_document
from simulation import runner as simulate
from services.audit import Auditor
from kaohe.devserver import temporal_path
from kaohe.runtime import free_port
from kaohe.settings import Settings
from tests.domain.test_grading import _facts_from_scenario
from tests.test_worker_restart import assert_nothing_twice, expected_event_kinds, log_events

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[1]
KAOHE = Path(sys.executable).parent / "kaohe"
ADMIN = ("admin", "admin-pass-chaos-123")
UNITS = 25
#: What is killed, in order: six worker kills (alternating), three API and three Temporal kills.
PLAN = ["worker", "api", "worker", "temporal", "worker", "api", "worker", "temporal", "worker", "api", "worker", "temporal"]


class Proc:
    """A child process with its output in a log file; killed with SIGKILL, started again alike."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.argv, self.env, self.folder = name, argv, env, folder
        self.starts = 0
        self.process: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        out = open(self.log, "wb")
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=self.folder, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


async def wait_until(check, what: str, proc: Proc | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return
        if proc is not None and not proc.alive():
            raise AssertionError(f"{proc.name} exited {proc.process.returncode}:\n{proc.text()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready in {timeout:.0f} s" + (f":\n{proc.text()[-3000:]}" if proc else ""))
        await asyncio.sleep(0.2)


def expected_results(scenario: dict[str, Any]) -> dict[str, Any]:
    sc = json.loads(json.dumps(scenario), parse_float=Decimal)
    facts, categories, policy, ties, overrides = _facts_from_scenario(sc)
    allocation = allocate(facts, categories, policy, ties=ties, overrides=overrides)
    assert allocation.approvable, allocation.problems()
    return json.loads(json.dumps(results_document(sc["cycle"]["key"], allocation)))


async def test_a_cycle_survives_killed_workers_api_and_temporal_server(pg_database: str, tmp_path: Path) -> None:
    scenario_file = tmp_path / "scenario-25.json"
    subprocess.run(
        [sys.executable, str(ROOT / "examples" / "generate_large.py"), "--units", str(UNITS), "--seed", "25", "--out", str(scenario_file)],
        check=True, capture_output=True,
    )
    scenario = json.loads(scenario_file.read_text("utf-8"))
    expected = expected_results(scenario)
    key = scenario["cycle"]["key"]

    temporal_port, api_port = free_port(), free_port()
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_database, task_queue="kaohe-chaos")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env.update(
        KAOHE_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}", KAOHE_DATABASE_URL=pg_database,
        KAOHE_TASK_QUEUE=settings.task_queue, KAOHE_DATA_DIR=str(settings.data_dir),
        KAOHE_API_PORT=str(api_port), KAOHE_ADMIN_USER=ADMIN[0], KAOHE_ADMIN_PASSWORD=ADMIN[1], PYTHONUNBUFFERED="1",
    )
    (tmp_path / "temporal").mkdir()
    temporal = Proc("temporal", [
        temporal_path(), "server", "start-dev", "--db-filename", str(tmp_path / "temporal" / "temporal.db"),
        "--ip", "127.0.0.1", "--port", str(temporal_port), "--ui-port", str(free_port()), "--headless", "--log-level", "error",
    ], env, tmp_path)
    api = Proc("api", [str(KAOHE), "api"], env, tmp_path)
    workers = [Proc("worker-a", [str(KAOHE), "worker"], env, tmp_path), Proc("worker-b", [str(KAOHE), "worker"], env, tmp_path)]
    url = f"http://127.0.0.1:{api_port}"

    async def temporal_up() -> bool:
        from temporalio.client import Client

        try:
            client = await Client.connect(f"127.0.0.1:{temporal_port}")
            return await client.service_client.check_health()
        except Exception:
            return False

    async def api_up() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(url + "/api/v1/health")).status_code == 200
        except httpx.HTTPError:
            return False

    def worker_up(w: Proc):
        async def up() -> bool:
            return "is up" in w.text()
        return up

    app = Assessments(env=settings.event_store_env())
    run: asyncio.Task | None = None
    done: list[str] = []
    try:
        temporal.start()
        await wait_until(temporal_up, "the Temporal server", temporal)
        for w in workers:
            w.start()
        api.start()
        for w in workers:
            await wait_until(worker_up(w), w.name, w)
        await wait_until(api_up, "the API", api)

        # Spread the kills from the cycle's opening (after 2 events per unit registered) to
        # shortly before its last event.
        total = sum(expected_event_kinds(scenario).values())
        opened = 2 * UNITS + 2
        step = max((total - opened) // (len(PLAN) + 1), 3)
        run = asyncio.create_task(simulate.run(url, ADMIN, scenario, simulate.Progress(quiet=True)))
        next_kill = opened + step // 2
        worker_turn = 0
        for what in PLAN:
            deadline = time.monotonic() + 240
            while (app.recorder.max_notification_id() or 0) < next_kill:
                assert not run.done(), f"the simulation ended after {done} kills: {run.exception() if run.done() else ''}"
                assert time.monotonic() < deadline, f"the log did not grow to {next_kill} events in 240 s (after {done})"
                await asyncio.sleep(0.05)
            if what == "worker":
                w = workers[worker_turn % 2]
                worker_turn += 1
                w.kill()
                await asyncio.sleep(0.5)
                w.start()
            elif what == "api":
                api.kill()
                await asyncio.sleep(1.0)
                api.start()
            else:
                temporal.kill()
                await asyncio.sleep(1.0)
                temporal.start()
                await wait_until(temporal_up, "the Temporal server after a kill", temporal)
            done.append(what)
            next_kill += step
        assert Counter(done) == {"worker": 6, "api": 3, "temporal": 3}

        try:
            results = await asyncio.wait_for(run, timeout=600)
        except simulate.SimulationError as err:
            pytest.fail(f"the simulation failed after {done}: {err}")
        assert results == expected
        assert app.results(key) == expected  # the audit replay, from events alone

        events = log_events(app)
        positions = [i for i, _ in events]
        assert positions == sorted(set(positions))
        assert Auditor(app).verify().ok
        assert_nothing_twice(events)
        assert Counter(type(e).__qualname__ for _, e in events) == expected_event_kinds(scenario)
    finally:
        if run is not None and not run.done():
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
        for p in (api, *workers, temporal):
            p.kill()
