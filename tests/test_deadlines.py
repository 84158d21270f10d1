"""Stage deadlines are durable timers (SPEC §3: "Deadlines, reminders and escalation are
durable timers").

Everything is real: the Temporal dev server, the Kaohe worker, the event store (SQLite), the
gateway, the projections and the organizer's inbox. The deadlines are real too, a few
seconds ahead, because time skipping cannot move a cycle's clock:

- ``WorkflowEnvironment.start_time_skipping()`` (V1) downloads the Java test server, which
  is not available offline;
- ``WorkflowEnvironment.start_time_skipping_v2()`` (per-workflow virtual clocks on the dev
  server, ``frontend.workflowTimeSkippingEnabled=true``) starts and fast-forwards a plain
  workflow, but the server skips time only while a workflow has no in-flight work, and
  in-flight work includes *child workflows* (``temporal.api.common.v1.TimeSkippingConfig``).
  An open cycle always has its running unit workflows as children, so ``fast_forward`` on
  the cycle never completes and its deadline timer never fires (tried with skipping enabled
  from the start, with and without propagation, and after fast-forwarding the children).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from adapters.accounts import User
from services.inbox import inbox
from domain.application import Assessments
from domain.errors import DomainError
from domain.aggregates import cycle_id, unit_id
from domain.rules import Actor
from domain.scheme import parse_scheme
from projections.models import ReadModel
from projections.runner import ProjectionRunner, make_engine
from tests.helpers import TINY_SCHEME
from workflows import cycle as cycle_workflow
from workflows import unit as unit_workflow
from adapters.gateway import Gateway
from workflows.messages import CycleState, UnitState, cycle_workflow_id, unit_workflow_id
from workflows.claims import Claims
from workflows.worker import build_worker

pytestmark = pytest.mark.temporal

TASK_QUEUE = f"kaohe-deadlines-{uuid.uuid4().hex[:8]}"
COHORT = "grassroots_branch"
ORG = Actor("org", "organizer")
EVA = Actor("eva", "evaluator")
SELF_REVIEW = {"1.1.1": "5", "1.1.2": "3"}


@dataclass
class Harness:
    env: WorkflowEnvironment
    app: Assessments
    gateway: Gateway
    tmp: Path

    def cycle_handle(self, key: str) -> WorkflowHandle:
        return self.env.client.get_workflow_handle(cycle_workflow_id(TASK_QUEUE, key))

    def unit_handle(self, key: str, unit: str) -> WorkflowHandle:
        return self.env.client.get_workflow_handle(unit_workflow_id(cycle_workflow_id(TASK_QUEUE, key), unit))

    def events(self, originator: uuid.UUID) -> list[Any]:
        out = []
        for n in self.app.recorder.select_notifications(start=1, limit=100_000):
            e = self.app.mapper.to_domain_event(n)
            if e.originator_id == originator:
                out.append(e)
        return out

    def cycle_events(self, key: str, name: str) -> list[Any]:
        return [e for e in self.events(cycle_id(key)) if type(e).__qualname__ == f"Cycle.{name}"]


@pytest_asyncio.fixture(scope="module")
async def harness(temporal_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    """The worker of this module on the session's dev server, over its own event store."""
    env = temporal_env
    tmp = tmp_path_factory.mktemp("deadlines")
    app = Assessments(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp / "events.sqlite"), "CREATE_TABLE": "y"})
    claims = Claims("deadlines-test-key-" * 2)
    worker, executor = build_worker(env.client, app, TASK_QUEUE, claims=claims)
    running = asyncio.create_task(worker.run())
    try:
        yield Harness(env, app, Gateway(env.client, TASK_QUEUE, claims), tmp)
    finally:
        await worker.shutdown()
        await running
        executor.shutdown(wait=True)


def cid() -> str:
    return f"test/{uuid.uuid4()}"


def in_seconds(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).isoformat()


def iso(value: str) -> str:
    return datetime.fromisoformat(value).isoformat()


async def start_cycle(h: Harness, deadlines: dict[str, str] | None = None) -> str:
    """Create a cycle with units U1, U2 (tiny scheme) and the given deadlines; open it."""
    key = f"dl-{uuid.uuid4().hex[:8]}"
    h.app.create_cycle(key, 2026, "截止时间测试", None, {COHORT: TINY_SCHEME}, None, deadlines, ORG, cid())
    h.app.register_units(
        key,
        [{"key": "U1", "name": "第一支部", "org_type": COHORT}, {"key": "U2", "name": "第二支部", "org_type": COHORT}],
        ORG,
        cid(),
    )
    c = h.app.cycle(key)
    point_max = {org: {k: str(v) for k, v in parse_scheme(t).point_max.items()} for org, t in c.schemes.items()}
    await h.gateway.open_cycle(c, point_max, ORG, cid())
    return key


async def self_review(h: Harness, key: str, unit: str) -> None:
    actor = Actor(unit.lower(), "unit", unit)
    await h.gateway.unit_update(key, unit, "submit_self_review", unit_workflow.SubmitSelfReview(actor, SELF_REVIEW), cid())


async def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until ``check()`` is truthy (it may be a coroutine function)."""
    until = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > until:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def cycle_state(h: Harness, key: str) -> CycleState:
    return await h.cycle_handle(key).query(cycle_workflow.CycleWorkflow.state, result_type=CycleState)


async def unit_state(h: Harness, key: str, unit: str) -> UnitState:
    return await h.unit_handle(key, unit).query(unit_workflow.UnitWorkflow.state, result_type=UnitState)


async def test_a_missed_self_review_deadline_closes_the_stage(harness: Harness) -> None:
    h = harness
    deadline = in_seconds(3)
    key = await start_cycle(h, {"self_review": deadline})
    await self_review(h, key, "U1")  # U2 never submits
    assert h.cycle_events(key, "StageDeadlineMissed") == []
    assert h.app.unit(key, "U2").self_review_status == "pending"

    await eventually(lambda: h.cycle_events(key, "StageClosed"), what="the self-review stage to close at its deadline")
    [missed] = h.cycle_events(key, "StageDeadlineMissed")
    assert (missed.stage, missed.deadline) == ("self_review", iso(deadline))
    assert (missed.actor, missed.role) == ("system", "system")
    [closed] = h.cycle_events(key, "StageClosed")
    assert closed.stage == "self_review" and (closed.actor, closed.role) == ("system", "system")
    not_submitted = {
        u: [e for e in h.events(unit_id(key, u)) if type(e).__qualname__ == "UnitAssessment.SelfReviewNotSubmitted"]
        for u in ("U1", "U2")
    }
    assert not_submitted["U1"] == [] and len(not_submitted["U2"]) == 1
    assert (not_submitted["U2"][0].actor, not_submitted["U2"][0].role) == ("system", "system")

    # The cycle's workflow agrees with the log (the stage machine of domain/stages.py): the stage
    # is closed; the unit workflows keep no copy of what the domain records (U2 missed it).
    assert (await cycle_state(h, key)).stages["self_review"] == "closed"
    assert h.app.unit(key, "U2").self_review_status == "missed"
    assert h.app.unit(key, "U1").self_review_status == "submitted"
    # ... and act on it: U2 can no longer self-review, an evaluator may now score it.
    with pytest.raises(DomainError) as refused:
        await self_review(h, key, "U2")
    assert refused.value.code == "stage_not_open", refused.value
    await h.gateway.cycle_update(key, "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), cid())
    await h.gateway.unit_update(key, "U2", "submit_scoring", unit_workflow.SubmitScoring(EVA, {"1.1.1": "4", "1.1.2": "2"}), cid())


async def test_a_missed_scoring_deadline_is_recorded_and_waits_in_the_organizers_inbox(harness: Harness) -> None:
    h = harness
    deadline = in_seconds(3)
    key = await start_cycle(h, {"scoring": deadline})
    await self_review(h, key, "U1")
    await self_review(h, key, "U2")
    await h.gateway.cycle_update(key, "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), cid())

    [missed] = await eventually(lambda: h.cycle_events(key, "StageDeadlineMissed"), what="the scoring deadline")
    assert (missed.stage, missed.deadline) == ("scoring", iso(deadline))
    assert (missed.actor, missed.role) == ("system", "system")

    # Scoring is not closed by its deadline: it stays open and evaluators may still score.
    await asyncio.sleep(0.3)
    assert h.cycle_events(key, "StageClosed") == []
    assert (await cycle_state(h, key)).stages["scoring"] == "open"
    await h.gateway.unit_update(key, "U1", "submit_scoring", unit_workflow.SubmitScoring(EVA, {"1.1.1": "6", "1.1.2": "3.5"}), cid())

    # The organizer's inbox (read models built from the log) shows the missed deadline.
    runner = ProjectionRunner(h.app, make_engine(f"sqlite:///{h.tmp / f'read-{key}.sqlite'}"))
    runner.catch_up()
    organizer = User("org", "Org", "organizer", None, True)
    with runner.sessions() as db:
        tasks = [t for t in inbox(db, organizer) if t["cycle"] == key]
    notices = [t for t in tasks if t["kind"] == "deadline_missed"]
    assert len(notices) == 1, tasks
    assert notices[0]["stage"] == "scoring" and notices[0]["overdue"] is True
    assert notices[0]["deadline"] == missed.deadline
    assert any(t["kind"] == "close_stage" and t["stage"] == "scoring" for t in tasks)

    # Notices are read models like the rest: a rebuild from the log gives the same rows.
    live = _snapshot(runner)
    assert any(row for row in live["proj_notices"])
    runner.rebuild()
    assert _snapshot(runner) == live


def _snapshot(runner: ProjectionRunner) -> dict[str, list[tuple]]:
    with runner.engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in ReadModel.metadata.sorted_tables
            if t.name != "proj_tracking"
        }


async def test_moving_a_deadline_rearms_the_timer(harness: Harness) -> None:
    h = harness
    key = await start_cycle(h)
    await self_review(h, key, "U1")
    await self_review(h, key, "U2")
    await h.gateway.cycle_update(key, "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), cid())
    began = time.monotonic()
    first, moved = in_seconds(3), in_seconds(7)
    await h.gateway.cycle_update(key, "set_deadline", cycle_workflow.SetDeadline(ORG, "scoring", first), cid())
    await h.gateway.cycle_update(key, "set_deadline", cycle_workflow.SetDeadline(ORG, "scoring", moved), cid())
    assert time.monotonic() - began < 2.5, "too slow to move the deadline before the first one passed"
    assert (await cycle_state(h, key)).deadlines["scoring"] == iso(moved)

    # Past the first deadline, before the moved one: nothing is missed.
    await asyncio.sleep(max(0.0, 5.0 - (time.monotonic() - began)))
    assert h.cycle_events(key, "StageDeadlineMissed") == []

    # Past the moved deadline: exactly one miss, for the moved deadline.
    [missed] = await eventually(lambda: h.cycle_events(key, "StageDeadlineMissed"), what="the moved deadline")
    assert (missed.stage, missed.deadline) == ("scoring", iso(moved))
    await asyncio.sleep(0.5)
    assert len(h.cycle_events(key, "StageDeadlineMissed")) == 1
