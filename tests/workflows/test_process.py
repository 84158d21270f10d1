"""The workflows' process logic with their activities mocked: a real worker on the session's
Temporal dev server runs the real workflows (``workflows.worker.WORKFLOWS``), but every activity
is a fake registered under the real name (``kaohe.<use case>``) that records the step it got and
returns a canned ``Recorded``. No event store is touched: what is tested is the order of steps,
the update validators (a wrong stage or role is refused before any activity runs), durable
timers, idempotent update ids and the child workflows started.
"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from temporalio import activity
from temporalio.worker import Worker

from domain.application import Recorded
from domain.errors import Conflict, DomainError, Forbidden, InvalidInput
from workflows import cycle as cycle_workflow
from workflows import debrief as debrief_workflow
from workflows import rectification as item_workflow
from workflows import unit as unit_workflow
from workflows.activities import LEGACY
from adapters.gateway import Gateway
from workflows.claims import Claims
from workflows.messages import CycleState, cycle_workflow_id, session_workflow_id, unit_workflow_id
from workflows.worker import WORKFLOWS, workflow_runner
from tests.walk import COHORT, COM, COM2, ORG, U1, U2

pytestmark = pytest.mark.temporal

POINT_MAX = {COHORT: {"1.1.1": "6", "1.1.2": "4"}}


class Fakes:
    """One fake activity per use case; ``answers[name]`` is the data it returns."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.answers: dict[str, dict[str, Any]] = {}

    def named(self, name: str) -> list[Any]:
        return [step for n, step in self.calls if n == name]

    def activities(self) -> list[Any]:
        out = []
        for name in sorted(LEGACY | {"record_deadline_missed"}):
            out.append(self._fake(name))
        return out

    def _fake(self, name: str) -> Any:
        @activity.defn(name=f"kaohe.{name}")
        async def fake(step: Any) -> Recorded:
            self.calls.append((name, step))
            return Recorded(len(self.calls), dict(self.answers.get(name, {})))

        return fake


@pytest.fixture
async def env(temporal_env):
    fakes = Fakes()
    queue = f"kaohe-wf-{uuid.uuid4().hex[:8]}"
    worker = Worker(temporal_env.client, task_queue=queue, workflows=WORKFLOWS, activities=fakes.activities(),
                    workflow_runner=workflow_runner())
    async with worker:
        yield temporal_env.client, queue, fakes, Gateway(temporal_env.client, queue, Claims("k" * 32))


async def start_cycle(client, queue: str, key: str = "c1", deadlines: dict | None = None) -> Any:
    state = CycleState(cycle=key, units={"U1": COHORT, "U2": COHORT}, point_max=POINT_MAX,
                       categories={"representatives": "1"}, deadlines=deadlines or {},
                       stages={s: "pending" for s in ("self_review", "scoring", "debrief", "adjustments", "allocation", "feedback")},
                       status="setup")
    return await client.start_workflow(cycle_workflow.CycleWorkflow.run, state, id=cycle_workflow_id(queue, key), task_queue=queue)


async def opened(client, queue, g: Gateway) -> None:
    await start_cycle(client, queue)
    await g.cycle_update("c1", "open", cycle_workflow.OpenCycle(ORG), "open-1")


async def refused(fakes: Fakes, call, kind: type[DomainError], code: str) -> None:
    before = len(fakes.calls)
    with pytest.raises(DomainError) as info:
        await call
    assert isinstance(info.value, kind) and info.value.code == code, info.value.to_dict()
    assert len(fakes.calls) == before, "an activity ran for a refused update"


async def state(client, workflow_id: str) -> SimpleNamespace:
    """What the workflow's ``state`` query answers (its carried state), as attributes."""
    return SimpleNamespace(**await client.get_workflow_handle(workflow_id).query("state"))


async def test_opening_starts_a_workflow_per_unit_and_the_stages_follow_in_order(env):
    client, queue, fakes, g = env
    await opened(client, queue, g)
    assert [n for n, _ in fakes.calls] == ["open_cycle"]
    assert fakes.named("open_cycle")[0]["command_id"] == "open-1"  # the update id is the step's idempotency key
    wf = cycle_workflow_id(queue, "c1")
    for unit in ("U1", "U2"):
        d = await client.get_workflow_handle(unit_workflow_id(wf, unit)).describe()
        assert d.status.name == "RUNNING" and d.parent_id == wf
    s = await state(client, wf)
    assert (s.status, s.stages["self_review"]) == ("open", "open")

    # Refused by the validators before any step: a second opening, stages out of order, wrong roles.
    await refused(fakes, g.cycle_update("c1", "open", cycle_workflow.OpenCycle(ORG), "open-2"), Conflict, "wrong_cycle_status")
    await refused(fakes, g.cycle_update("c1", "open_stage", cycle_workflow.StageCommand(ORG, "adjustments"), "x1"), Conflict, "earlier_stage_open")
    await refused(fakes, g.cycle_update("c1", "close_stage", cycle_workflow.StageCommand(ORG, "scoring"), "x2"), Conflict, "stage_not_open")
    await refused(fakes, g.cycle_update("c1", "open_stage", cycle_workflow.StageCommand(COM, "scoring"), "x3"), Forbidden, "wrong_role")
    await refused(fakes, g.cycle_update("c1", "approve_allocation", cycle_workflow.Decision(COM, "同意"), "x4"), Conflict, "stage_not_open")
    await refused(fakes, g.cycle_update("c1", "propose_adjustment", cycle_workflow.ProposeAdjustment(ORG, "U1", "bonus", "r", "1"), "x5"),
                  Conflict, "stage_not_open")

    await g.cycle_update("c1", "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), "s1")
    await refused(fakes, g.cycle_update("c1", "close_stage", cycle_workflow.StageCommand(ORG, "scoring"), "x6"), Conflict, "earlier_stage_open")
    await g.cycle_update("c1", "close_stage", cycle_workflow.StageCommand(ORG, "self_review", "到期"), "s2")
    await g.cycle_update("c1", "close_stage", cycle_workflow.StageCommand(ORG, "scoring"), "s3")
    steps = [(n, step.get("stage")) for n, step in fakes.calls[1:]]
    assert steps == [("open_stage", "scoring"), ("close_stage", "self_review"), ("close_stage", "scoring")]
    assert fakes.named("close_stage")[0]["reason"] == "到期"
    s = await state(client, wf)
    assert {k: s.stages[k] for k in ("self_review", "scoring", "debrief")} == {
        "self_review": "closed", "scoring": "closed", "debrief": "pending"}


async def test_the_same_update_id_runs_its_step_once(env):
    client, queue, fakes, g = env
    await opened(client, queue, g)
    first = await g.cycle_update("c1", "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), "same-id")
    again = await g.cycle_update("c1", "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), "same-id")
    assert again == first
    assert len(fakes.named("open_stage")) == 1


async def test_the_debrief_opens_a_session_workflow_and_the_stage_close_finishes_it(env):
    client, queue, fakes, g = env
    await opened(client, queue, g)
    fakes.answers["open_stage"] = {"sessions": [COHORT]}  # what the domain answers when debrief opens
    await g.cycle_update("c1", "open_stage", cycle_workflow.StageCommand(ORG, "debrief"), "d1")
    session = client.get_workflow_handle(session_workflow_id(cycle_workflow_id(queue, "c1"), COHORT))
    s = await state(client, session.id)
    assert (s.secretaries, s.is_open) == (["U1", "U2"], True)
    with pytest.raises(DomainError) as info:
        await g.session_update("c1", COHORT, "close", debrief_workflow.CloseSession(COM), "d-wrong")
    assert info.value.code == "wrong_role" and not fakes.named("close_session")
    fakes.answers.pop("open_stage")
    await g.cycle_update("c1", "close_stage", cycle_workflow.StageCommand(ORG, "debrief"), "d2")
    assert (await asyncio.wait_for(session.result(), 20)) == {"cohort": COHORT, "ballots": 0}


async def test_a_stage_deadline_is_a_durable_timer(env):
    client, queue, fakes, g = env
    await opened(client, queue, g)
    soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()
    await g.cycle_update("c1", "set_deadline", cycle_workflow.SetDeadline(ORG, "self_review", soon), "dl-1")
    for _ in range(100):
        if fakes.named("record_deadline_missed"):
            break
        await asyncio.sleep(0.1)
    [missed] = fakes.named("record_deadline_missed")
    assert (missed["stage"], missed["deadline"]) == ("self_review", datetime.fromisoformat(soon).isoformat())
    s = await state(client, cycle_workflow_id(queue, "c1"))
    assert s.stages["self_review"] == "closed"  # a missed self-review deadline closes the stage (SPEC §7)
    await asyncio.sleep(0.5)
    assert len(fakes.named("record_deadline_missed")) == 1  # handled once


async def test_unit_validators_refuse_before_any_step(env):
    client, queue, fakes, g = env
    await opened(client, queue, g)
    scores = {"1.1.1": "5", "1.1.2": "3"}
    await refused(fakes, g.unit_update("c1", "U1", "submit_self_review", unit_workflow.SubmitSelfReview(U2, scores), "u-1"), Forbidden, "not_your_unit")
    await refused(fakes, g.unit_update("c1", "U1", "submit_scoring", unit_workflow.SubmitScoring(ORG, scores), "u-2"), Forbidden, "wrong_role")
    await refused(fakes, g.unit_update("c1", "U1", "acknowledge_feedback", unit_workflow.AcknowledgeFeedback(U1), "u-3"), Conflict,
                  "feedback_not_issued")
    await refused(fakes, g.unit_update("c1", "U1", "issue_feedback", unit_workflow.IssueFeedback(COM, "反馈"), "u-4"), Forbidden, "wrong_role")
    await g.unit_update("c1", "U1", "submit_self_review", unit_workflow.SubmitSelfReview(U1, scores), "u-5")
    assert fakes.named("submit_self_review")[0]["unit"] == "U1"


async def test_issuing_feedback_starts_a_rectification_workflow_per_item(env):
    client, queue, fakes, g = env
    await opened(client, queue, g)
    due = (datetime.now(timezone.utc) + timedelta(days=90)).isoformat()
    fakes.answers["issue_feedback"] = {"items": [{"id": "item-a", "unit": "U1", "deadline": due},
                                                 {"id": "item-b", "unit": "U1", "deadline": due}]}
    await g.unit_update("c1", "U1", "issue_feedback", unit_workflow.IssueFeedback(ORG, "反馈"), "f-1")
    wf = cycle_workflow_id(queue, "c1")
    for item in ("item-a", "item-b"):
        s = await state(client, item_workflow.rectification_workflow_id(wf, item))
        assert (s.unit, s.status, s.deadline) == ("U1", "open", due)
    # acknowledged now that it is issued
    await g.unit_update("c1", "U1", "acknowledge_feedback", unit_workflow.AcknowledgeFeedback(U1), "f-2")
    assert len(fakes.named("acknowledge_feedback")) == 1


async def test_a_rectification_item_escalates_at_its_deadline_and_ends_when_verified(env):
    client, queue, fakes, g = env
    # Due in 2 s: both reminders (7 and 1 days before) are already past, so the next timer is the
    # deadline itself, and the item is marked overdue.
    due = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()
    wf = item_workflow.rectification_workflow_id(cycle_workflow_id(queue, "c1"), "item-1")
    handle = await client.start_workflow(item_workflow.RectificationWorkflow.run, item_workflow.ItemState("c1", "item-1", "U1", due), id=wf, task_queue=queue)
    await refused(fakes, g.item_update("c1", "item-1", "report_progress", item_workflow.ReportItem(U2, "进展"), "r-1"), Forbidden, "not_your_unit")
    await refused(fakes, g.item_update("c1", "item-1", "verify", item_workflow.VerifyItem(U1, "approve"), "r-2"), Forbidden, "wrong_role")
    for _ in range(100):
        if fakes.named("rectification_overdue"):
            break
        await asyncio.sleep(0.1)
    assert [n for n, _ in fakes.calls] == ["rectification_overdue"] and not fakes.named("remind_rectification")
    assert (await state(client, wf)).overdue is True
    fakes.answers["submit_rectification"] = {"status": "submitted"}
    await g.item_update("c1", "item-1", "submit", item_workflow.ReportItem(U1, "已完成"), "r-3")
    fakes.answers["verify_rectification"] = {"status": "closed"}
    await g.item_update("c1", "item-1", "verify", item_workflow.VerifyItem(ORG, "approve"), "r-4")
    assert await asyncio.wait_for(handle.result(), 20) == {"item": "item-1", "status": "closed", "overdue": True}


async def test_the_allocation_takes_effect_only_when_the_quorum_confirms_it(env):
    """An approval proposed by one member leaves the stages as they are (the step answers
    ``effective: false``); the confirmation that reaches the quorum runs the approval's
    transitions: the allocation closes, the feedback opens (SPEC §1, §3 stages 6–7)."""
    client, queue, fakes, g = env
    stages = {s: "closed" for s in ("self_review", "scoring", "debrief", "adjustments")}
    state0 = CycleState(cycle="c1", units={"U1": COHORT, "U2": COHORT}, point_max=POINT_MAX, categories={"representatives": "1"},
                        deadlines={}, stages={**stages, "allocation": "open", "feedback": "pending"}, status="open", children_started=True)
    wf = cycle_workflow_id(queue, "c1")
    await client.start_workflow(cycle_workflow.CycleWorkflow.run, state0, id=wf, task_queue=queue)
    meeting = {"meeting_date": "2026-03-20", "minute_number": "3"}
    # a proposal without its meeting is refused by the validator, before any step
    await refused(fakes, g.cycle_update("c1", "approve_allocation", cycle_workflow.Decision(COM, "同意"), "a0"), InvalidInput, "meeting_date_required")
    fakes.answers["approve_allocation"] = {"proposal": "p1", "effective": False, "effect": None}
    await g.cycle_update("c1", "approve_allocation", cycle_workflow.Decision(COM, "同意", **meeting), "a1")
    assert (await state(client, wf)).stages["allocation"] == "open"
    assert fakes.named("approve_allocation")[0]["meeting_date"] == "2026-03-20"
    fakes.answers["confirm_decision"] = {"proposal": "p1", "effective": True, "effect": "approve_allocation"}
    await g.cycle_update("c1", "confirm_decision", cycle_workflow.ConfirmDecision(COM2, "p1"), "a2")
    s = await state(client, wf)
    assert (s.stages["allocation"], s.stages["feedback"], s.status) == ("closed", "open", "published")
