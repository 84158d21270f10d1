"""``kaohe simulate`` rides out an API that is not up yet and one that is killed mid-run: every
step is retried with its Idempotency-Key, honouring Retry-After (issue 8, item 5). Against an API
that never comes back it exits 1 with one ``kaohe:`` line within its (shortened) retry limit.

Real processes: ``kaohe api`` and ``kaohe simulate`` are console-script subprocesses; the worker
runs in this process against the shared Temporal dev server; SQLite is shared between them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from kaohe.runtime import free_port, start_stack
from kaohe.settings import Settings
from tests.conftest import CONTRACT, temporal_address

pytestmark = pytest.mark.temporal

KAOHE = Path(sys.executable).parent / "kaohe"
SCENARIO = CONTRACT / "example-2026.json"
EXPECTED = CONTRACT / "example-2026.results.json"
#: Kill the API once the log is past the scoring stage (see tests/test_worker_restart.py).
KILL_AFTER = 47


def base_env(data_dir: Path, task_queue: str, address: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env.update(
        KAOHE_DATA_DIR=str(data_dir), KAOHE_TASK_QUEUE=task_queue, KAOHE_TEMPORAL_ADDRESS=address,
        KAOHE_API_PORT=str(port), KAOHE_ADMIN_PASSWORD="admin-pass-123", PYTHONUNBUFFERED="1",
    )
    return env


class ApiProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.out = open(log, "ab")
        self.log = log
        self.process = subprocess.Popen([str(KAOHE), "api"], env=env, cwd=log.parent, stdout=self.out,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # no graceful shutdown: requests in flight are lost
        self.process.wait(timeout=30)
        self.out.close()


async def wait_up(url: str, api: ApiProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while True:
            assert api.process.poll() is None, api.log.read_text("utf-8", errors="replace")
            try:
                if (await http.get(url + "/api/v1/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "kaohe api did not come up"
            await asyncio.sleep(0.2)


async def test_simulate_finishes_exactly_across_an_api_that_starts_late_and_restarts(temporal_env, tmp_path: Path):
    address = temporal_address(temporal_env)
    task_queue = f"kaohe-test-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_env(data_dir, task_queue, address, port)
    out = tmp_path / "results.json"
    worker = await start_stack(Settings(data_dir=data_dir, task_queue=task_queue, temporal_address=address),
                               embedded_temporal=False, with_api=False)
    apis: list[ApiProcess] = []
    sim = None
    try:
        # The scenario runner starts first: nothing listens yet for a few seconds.
        sim = subprocess.Popen([str(KAOHE), "simulate", str(SCENARIO), "--api", url, "--out", str(out), "--quiet"],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        await asyncio.sleep(3)
        assert sim.poll() is None, sim.communicate()
        apis.append(ApiProcess(env, tmp_path / "api.log"))
        await wait_up(url, apis[-1])

        deadline = time.monotonic() + 180
        while (worker.app.recorder.max_notification_id() or 0) <= KILL_AFTER:
            assert sim.poll() is None, f"simulate ended before the API was killed: {sim.communicate()}"
            assert time.monotonic() < deadline, "the cycle did not get past the scoring stage"
            await asyncio.sleep(0.02)
        apis[-1].kill()
        killed_at = worker.app.recorder.max_notification_id()
        assert sim.poll() is None, "simulate finished before the API was killed: kill point too late"
        await asyncio.sleep(2)  # the runner meets refused connections meanwhile
        apis.append(ApiProcess(env, tmp_path / "api.log"))

        stdout, stderr = await asyncio.to_thread(sim.communicate, timeout=300)
        assert sim.returncode == 0, f"killed at event {killed_at}: {stderr}"
        assert "Traceback" not in stderr, stderr
        expected = json.loads(EXPECTED.read_text("utf-8"))
        assert json.loads(out.read_text("utf-8")) == expected
        assert worker.app.results(expected["cycle"]) == expected  # from the events alone
        # No command stored twice across the restart.
        events = [worker.app.mapper.to_domain_event(n) for n in worker.app.recorder.select_notifications(start=1, limit=100000)]
        seen = Counter((e.originator_id, type(e).__qualname__, getattr(e, "command_id", None), getattr(e, "unit", None)) for e in events)
        assert not {k: c for k, c in seen.items() if c > 1}
    finally:
        if sim is not None and sim.poll() is None:
            sim.kill()
            sim.wait()
        for api in apis:
            api.kill()
        await worker.stop()


async def test_simulate_against_an_api_that_never_comes_back_exits_1_with_one_line(temporal_env, tmp_path: Path):
    address = temporal_address(temporal_env)
    task_queue = f"kaohe-test-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_env(data_dir, task_queue, address, port)
    worker = await start_stack(Settings(data_dir=data_dir, task_queue=task_queue, temporal_address=address),
                               embedded_temporal=False, with_api=False)
    api = ApiProcess(env, tmp_path / "api.log")
    sim = None
    try:
        await wait_up(url, api)
        sim = subprocess.Popen([str(KAOHE), "simulate", str(SCENARIO), "--api", url, "--quiet", "--retry-for", "4"],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while (worker.app.recorder.max_notification_id() or 0) < 10:
            assert sim.poll() is None, sim.communicate()
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        api.kill()
        gone = time.monotonic()
        stdout, stderr = await asyncio.to_thread(sim.communicate, timeout=60)
        waited = time.monotonic() - gone
        assert sim.returncode == 1, (stdout, stderr)
        assert stdout == ""
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("kaohe: "), stderr
        assert "4 秒" in lines[0] and "4 s" in lines[0], lines[0]
        assert waited < 4 + 15, f"gave up after {waited:.1f} s"
    finally:
        if sim is not None and sim.poll() is None:
            sim.kill()
            sim.wait()
        api.kill()
        await worker.stop()

    # An API that is not there at all: the same one line, within the limit.
    started = time.monotonic()
    p = subprocess.run([str(KAOHE), "simulate", str(SCENARIO), "--api", f"http://127.0.0.1:{free_port()}", "--quiet", "--retry-for", "2"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("kaohe: "), p.stderr
    assert time.monotonic() - started < 2 + 10
