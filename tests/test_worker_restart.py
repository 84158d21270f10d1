"""Killing the worker in the middle of a simulated cycle and starting it again lets the cycle
finish with no event lost or stored twice.

The API (with its projections) runs in this process against the shared Temporal dev server,
without a worker; the worker is the real ``kaohe worker`` console script in a subprocess. The
shared worked example is played through the API by ``simulation.runner``; once the event log is
past the scoring stage the worker is killed with SIGKILL (no shutdown, in-flight workflow tasks
and activities are lost), and a new one is started a little later. Requests made meanwhile wait
for the new worker; the cycle must then finish with exactly the results of the worked example
and exactly the events of a clean run.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from domain.application import Assessments
from simulation import runner as simulate
from kaohe.runtime import Stack, free_port, start_stack
from simulation.scenario import load
from kaohe.settings import Settings
from tests.conftest import CONTRACT, temporal_address

pytestmark = pytest.mark.temporal

KAOHE = Path(sys.executable).parent / "kaohe"
SCENARIO = CONTRACT / "example-2026.json"
EXPECTED = CONTRACT / "example-2026.results.json"
ADMIN = ("admin", "admin-pass-123")

#: Kill the worker once the log holds more events than this: past the scoring stage of the
#: example (1 cycle + 9 units registered/started + opened + 9 self-reviews + 2 stage changes
#: + 9 scorings + scoring closed = 41; debrief opened with 2 sessions = 44), in the middle of
#: the 18 ballot sheets, which the simulation casts 8 at a time (straight to the domain, so they
#: need no worker; the session's close that follows does): some activities may be running,
#: some have stored their event but not yet reported back.
KILL_AFTER = 47


def problems(sc: dict[str, Any]) -> int:
    from decimal import Decimal

    from domain.scheme import resolve_scheme

    total = 0
    for u in sc["units"]:
        maxima = resolve_scheme(sc["schemes"][u["org_type"]], "scheme").point_max
        # SPEC / issue 11: the points scoring below the policy's rectification share of their max.
        share = Decimal(str((sc["cycle"].get("policy") or {}).get("rectification_share", "0.80")))
        total += sum(1 for c, v in sc["scores"][u["key"]].items() if v is not None and Decimal(str(v)) < share * maxima[c])
    return total


def runner_people(sc: dict[str, Any]) -> set[str]:
    """The accounts ``simulation.runner`` makes for a scenario: organizer, evaluator, the committee,
    a user per unit and every representative of the ballots and the roster."""
    from simulation.runner import EVALUATOR, ORGANIZER, committee_of

    reps = {b["representative"] for b in sc["debrief"]["ballots"]}
    reps |= {r["representative"] for r in sc["debrief"].get("roster") or []}
    return {ORGANIZER, EVALUATOR} | {m["user"] for m in committee_of(sc)} | {f"unit-{u['key']}" for u in sc["units"]} | reps


def expected_event_kinds(sc: dict[str, Any]) -> Counter:
    """The events a clean run of ``simulation.runner`` stores for a scenario, by kind (what a
    clean run of the shared example stored, 100 events, counted kind by kind)."""
    units = sc["units"]
    n = len(units)
    cohorts = {u["org_type"] for u in units}
    cohort_of = {u["key"]: u["org_type"] for u in units}
    sheets = sum(len({cohort_of[k] for k in b["scores"]}) for b in sc["debrief"]["ballots"])
    adjustments = sc.get("adjustments", [])
    allocation = sc.get("allocation", {})
    approved = sum(1 for a in adjustments if a.get("decision", "approve") == "approve")
    # The committee decides as a body: each decision proposed once and confirmed by quorum − 1
    # more members (an adjustment's on its aggregate; ties, overrides and the approval on the cycle).
    quorum = int((sc["cycle"].get("policy") or {}).get("committee_quorum", 2))
    cycle_decisions = len(allocation.get("ties", {})) + len(allocation.get("overrides", {})) + 1
    kinds = Counter({
        "Cycle.CycleCreated": 1,
        "Cycle.UnitRegistered": n,
        "UnitAssessment.UnitAssessmentStarted": n,
        "Cycle.CycleOpened": 1,
        "UnitAssessment.SelfReviewSubmitted": len(sc.get("self_review", {})),
        "UnitAssessment.SelfReviewNotSubmitted": n - len(sc.get("self_review", {})),
        "Cycle.StageOpened": 3,  # scoring, debrief, adjustments
        "Cycle.StageClosed": 4,  # self_review, scoring, debrief, adjustments
        "UnitAssessment.ScoringSubmitted": n,
        "DebriefSession.DebriefSessionOpened": len(cohorts),
        "BallotSheet.BallotSheetCast": sheets,  # each sheet its own aggregate
        "DebriefSession.BallotBoxClosed": len(cohorts),  # the cut-off, then the count:
        "DebriefSession.DebriefSessionClosed": len(cohorts),
        "Adjustment.AdjustmentProposed": len(adjustments),
        "Cycle.AdjustmentFiled": len(adjustments),
        "Adjustment.AdjustmentApproved": approved,
        "Adjustment.AdjustmentRejected": len(adjustments) - approved,
        "DebriefRoster.RosterRegistered": len(cohorts),  # no roster given: the ballots' representatives, per cohort
        "Adjustment.DecisionProposed": len(adjustments),
        "Adjustment.DecisionConfirmed": len(adjustments) * (quorum - 1),
        "Cycle.DecisionProposed": cycle_decisions,
        "Cycle.DecisionConfirmed": cycle_decisions * (quorum - 1),
        "Cycle.TieResolved": len(allocation.get("ties", {})),
        "Cycle.GradeOverridden": len(allocation.get("overrides", {})),
        "Cycle.AllocationApproved": 1,
        "Cycle.ResultsPublished": 1,
        "UnitAssessment.FeedbackDrafted": n,
        "UnitAssessment.FeedbackIssued": n,
        "UnitAssessment.FeedbackAcknowledged": n,
        # An item per problem of each feedback: the points below the rectification share of their max.
        "RectificationItem.RectificationItemCreated": problems(sc),
        # Every account an event (issue 12): the first admin, and each user the runner makes.
        "Account.AccountCreated": 1 + len(runner_people(sc)),
    })
    return +kinds  # drop the zero counts


def worker_env(settings: Settings, address: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env.update(
        KAOHE_TEMPORAL_ADDRESS=address,
        KAOHE_TASK_QUEUE=settings.task_queue,
        KAOHE_DATA_DIR=str(settings.data_dir),
        PYTHONUNBUFFERED="1",
    )
    if settings.database_url:
        env["KAOHE_DATABASE_URL"] = settings.database_url
    return env


class WorkerProcess:
    """``kaohe worker`` in a subprocess, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.out = open(log, "wb")
        self.process = subprocess.Popen(
            [str(KAOHE), "worker"], env=env, cwd=log.parent, stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    async def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "is up" not in self.text():
            assert self.process.poll() is None, f"kaohe worker exited {self.process.returncode}:\n{self.text()}"
            assert time.monotonic() < deadline, f"kaohe worker did not come up:\n{self.text()}"
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # SIGKILL: no graceful shutdown
        self.process.wait(timeout=30)
        self.out.close()


def assert_nothing_twice(events: list[tuple[int, Any]]) -> None:
    """Every aggregate's versions are 1..n with no gap and no repeat, and no command is stored
    twice: one event per (aggregate, kind, command, unit) — registering units is one command
    storing one UnitRegistered per unit."""
    versions: dict[Any, list[int]] = {}
    for _, e in events:
        versions.setdefault(e.originator_id, []).append(e.originator_version)
    for originator, vs in versions.items():
        assert vs == list(range(1, len(vs) + 1)), f"{originator}: versions {vs}"
    seen = Counter(
        (e.originator_id, type(e).__qualname__, getattr(e, "command_id", None), getattr(e, "unit", None)) for _, e in events
    )
    twice = {k: c for k, c in seen.items() if c > 1}
    assert not twice, f"stored twice: {twice}"


def log_events(app: Assessments) -> list[tuple[int, Any]]:
    return [(n.id, app.mapper.to_domain_event(n)) for n in app.recorder.select_notifications(start=1, limit=100000)]


async def test_killing_the_worker_mid_cycle_loses_and_duplicates_nothing(settings: Settings, backend: str, temporal_env, tmp_path: Path):
    address = temporal_address(temporal_env)
    scenario = load(SCENARIO)
    expected = json.loads(EXPECTED.read_text("utf-8"))
    key = scenario["cycle"]["key"]
    env = worker_env(settings, address)
    workers: list[WorkerProcess] = []
    stack: Stack | None = None
    run: asyncio.Task | None = None
    try:
        stack = await start_stack(
            settings.model_copy(update={"temporal_address": address, "admin_password": ADMIN[1]}),
            embedded_temporal=False, with_worker=False, api_port=free_port(),
        )
        workers.append(WorkerProcess(env, tmp_path / "worker-1.log"))
        await workers[0].wait_up()

        run = asyncio.create_task(simulate.run(stack.api_url, ADMIN, scenario, simulate.Progress(quiet=True)))
        deadline = time.monotonic() + 120
        while (stack.app.recorder.max_notification_id() or 0) <= KILL_AFTER:
            assert not run.done(), f"the simulation ended before the worker was killed: {run.exception() if run.done() else ''}"
            assert time.monotonic() < deadline, "the cycle did not get past the scoring stage in 120 s"
            await asyncio.sleep(0.02)
        workers[0].kill()
        killed_at = stack.app.recorder.max_notification_id()
        assert not run.done(), "the simulation finished before the worker was killed: kill point too late"

        await asyncio.sleep(2)  # requests wait meanwhile
        workers.append(WorkerProcess(env, tmp_path / "worker-2.log"))
        await workers[1].wait_up()

        restarted = time.monotonic()
        try:
            results = await asyncio.wait_for(run, timeout=300)
        except simulate.SimulationError as err:
            pytest.fail(f"the simulation failed after the worker restart (killed at event {killed_at}): {err}")
        print(f"worker killed at event {killed_at}; the cycle finished {time.monotonic() - restarted:.1f} s after the restart")
        assert results == expected
        assert stack.app.results(key) == expected  # the audit replay, from events alone

        events = log_events(stack.app)
        # The log itself: positions rising; on SQLite 1..N with no hole (PostgreSQL's sequence
        # skips the numbers of rolled-back concurrent inserts), and the hash chain intact.
        positions = [i for i, _ in events]
        assert positions == sorted(set(positions))
        if backend == "sqlite":
            assert positions == list(range(1, len(events) + 1))
        from services.audit import Auditor

        assert Auditor(stack.app).verify().ok
        assert_nothing_twice(events)
        # Nothing lost, nothing extra: exactly the events of a clean run, kind by kind.
        kinds = Counter(type(e).__qualname__ for _, e in events)
        assert kinds == expected_event_kinds(scenario)
        assert len(events) == sum(expected_event_kinds(scenario).values())
    finally:
        if run is not None and not run.done():
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)
        for w in workers:
            w.kill()
        if stack is not None:
            await stack.stop()
