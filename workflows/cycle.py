"""The cycle: one durable workflow from opening to the close of feedback (SPEC §3 stages 1–7).

It owns the cycle-wide steps (stages, deadlines, adjustments, the allocation) and starts a
child workflow per unit and per debrief session; it tells them of stage changes by signal.
Stage deadlines are durable timers: a missed one is recorded as an event (and closes the
self-review stage). Past ``HISTORY_LIMIT`` events it continues as new, carrying its state and
the ids of the updates it completed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain import rules
    from domain.rules import CLOSED, OPEN
    from domain import stages as stage_machine
    from workflows.activities import KaoheActivities as A
    from workflows.base import KaoheWorkflow, check, command_id
    from workflows import steps
    from workflows.debrief import DebriefWorkflow
    from workflows import messages
    from workflows.messages import (
        SignedActor,
        CycleState,
        SessionState,
        Stages,
        UnitState,
        session_workflow_id,
        unit_workflow_id,
    )
    from workflows.unit import UnitWorkflow, start_items


#: Cycles started before this patch signal every unit workflow at each stage change.
UNITS_HEAR_ONLY_THE_END = "units-hear-only-the-end-v1"

#: Before this patch a committee decision took effect when one member sent it; since, it is a
#: proposal that takes effect when the quorum has confirmed it (the step answers ``effective``).
COMMITTEE_AS_A_BODY = "committee-as-a-body-v1"


@dataclass
class OpenCycle:
    actor: SignedActor


@dataclass
class StageCommand:
    actor: SignedActor
    stage: str
    reason: str = ""


@dataclass
class SetDeadline:
    actor: SignedActor
    stage: str
    deadline: str | None


@dataclass
class ProposeAdjustment:
    actor: SignedActor
    unit: str
    kind: str
    reason: str
    points: Any = None
    levels: Any = None
    evidence: str = ""


@dataclass
class DecideAdjustment:
    actor: SignedActor
    adjustment: str
    decision: str
    reason: str = ""
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None  # every committee member and their unit (the service layer's)


@dataclass
class ResolveTie:
    actor: SignedActor
    cohort: str
    units: list[str] = field(default_factory=list)
    reason: str = ""
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None  # every committee member and their unit (the service layer's)


@dataclass
class OverrideGrade:
    actor: SignedActor
    unit: str
    grade: str
    reason: str
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None  # every committee member and their unit (the service layer's)


@dataclass
class Decision:
    actor: SignedActor
    reason: str = ""
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None  # every committee member and their unit (the service layer's)


@dataclass
class ConfirmDecision:
    actor: SignedActor
    proposal: str


@dataclass
class ObjectDecision:
    actor: SignedActor
    proposal: str
    reason: str = ""


@dataclass
class CreateRectification:
    actor: SignedActor
    unit: str
    description: str
    point: str | None = None
    deadline: str | None = None


@workflow.defn(name="Cycle")
class CycleWorkflow(KaoheWorkflow):
    @workflow.init
    def __init__(self, state: CycleState) -> None:
        self.state = state
        self.done_updates = state.done_updates
        self.lock = asyncio.Lock()
        self.wakeup = False

    # ------------------------------------------------------------------ main loop

    @workflow.run
    async def run(self, state: CycleState) -> dict[str, Any]:
        await workflow.wait_condition(lambda: self.state.children_started)
        while self.state.status != "closed":
            if self._should_continue_as_new():
                await workflow.wait_condition(workflow.all_handlers_finished)
                self.state.done_updates = self.done_updates[-messages.CARRIED_UPDATE_IDS:]
                workflow.continue_as_new(self.state)
            stage, moment = self._next_deadline()
            timeout = None if moment is None else max((moment - workflow.now()).total_seconds(), 0.0)
            self.wakeup = False
            try:
                await workflow.wait_condition(
                    lambda: self.wakeup or self.state.status == "closed" or self._should_continue_as_new(),
                    timeout=timeout,
                )
            except asyncio.TimeoutError:
                await self._deadline_passed(stage)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return {"cycle": self.state.cycle, "status": self.state.status}

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return info.get_current_history_length() > messages.HISTORY_LIMIT or info.is_continue_as_new_suggested()

    def _next_deadline(self) -> tuple[str | None, datetime | None]:
        best: tuple[str | None, datetime | None] = (None, None)
        for stage, iso in sorted(self.state.deadlines.items()):
            if self.state.stages.get(stage) != OPEN or f"{stage}@{iso}" in self.state.deadlines_handled:
                continue
            moment = datetime.fromisoformat(iso)
            if best[1] is None or moment < best[1]:
                best = (stage, moment)
        return best

    async def _deadline_passed(self, stage: str | None) -> None:
        if stage is None:
            return
        async with self.lock:
            iso = self.state.deadlines.get(stage)
            if iso is None or self.state.stages.get(stage) != OPEN:
                return
            mark = f"{stage}@{iso}"
            step = steps.DeadlineMissedStep(self.state.cycle, stage, iso, f"{workflow.info().workflow_id}/deadline/{mark}")
            result = await self.step(A.record_deadline_missed, step)
            self.state.deadlines_handled.append(mark)
            await self._apply(result, stage_machine.deadline_missed(stage, self.state.stages))

    # ------------------------------------------------------------------ children

    async def _start_units(self) -> None:
        starts = []
        for unit, cohort in sorted(self.state.units.items()):
            child = UnitState(
                cycle=self.state.cycle,
                unit=unit,
                cohort=cohort,
                point_max=self.state.point_max[cohort],
                stages=dict(self.state.stages),
            )
            starts.append(
                workflow.start_child_workflow(
                    UnitWorkflow.run,
                    child,
                    id=unit_workflow_id(workflow.info().workflow_id, unit),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )
            )
        await asyncio.gather(*starts)
        self.state.children_started = True

    async def _start_sessions(self, cohorts: list[str]) -> None:
        starts = []
        for cohort in cohorts:
            members = sorted(u for u, c in self.state.units.items() if c == cohort)
            starts.append(
                workflow.start_child_workflow(
                    DebriefWorkflow.run,
                    SessionState(self.state.cycle, cohort, members, dict(self.state.categories)),
                    id=session_workflow_id(workflow.info().workflow_id, cohort),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )
            )
        await asyncio.gather(*starts)
        self.state.open_sessions = sorted(set(self.state.open_sessions) | set(cohorts))

    async def _apply(self, result: dict[str, Any], *transitions: stage_machine.Transition) -> None:
        """Take the step's stage transitions (``domain.stages``, the ones the aggregate applied)
        and tell the children what changed."""
        before = dict(self.state.stages)
        for t in () if self.last_step_retried else transitions:
            self.state.stages = t.apply(self.state.stages)
            if t.status is not None:
                self.state.status = t.status
        self.wakeup = True
        changed = {k for k in self.state.stages if self.state.stages[k] != before.get(k)}
        if self.state.children_started and changed & {"self_review", "scoring", "feedback"} and self._units_follow(changed):
            message = Stages(dict(self.state.stages))
            await asyncio.gather(
                *(
                    workflow.get_external_workflow_handle(unit_workflow_id(workflow.info().workflow_id, u)).signal(UnitWorkflow.stages, message)
                    for u in sorted(self.state.units)
                )
            )
        if "debrief" in changed and self.state.stages.get("debrief") == CLOSED:
            await asyncio.gather(
                *(
                    workflow.get_external_workflow_handle(session_workflow_id(workflow.info().workflow_id, c)).signal(DebriefWorkflow.finish)
                    for c in self.state.open_sessions
                )
            )
            self.state.open_sessions = []

    def _units_follow(self, changed: set[str]) -> bool:
        """Whether the unit workflows are told of this change. They used to keep a copy of the
        stages for their validators; now the domain checks the stage when it records a unit's
        step, and a unit's workflow only needs to hear that the cycle's feedback has closed."""
        if workflow.patched(UNITS_HEAR_ONLY_THE_END):
            return "feedback" in changed and self.state.stages.get("feedback") == CLOSED
        return True

    @workflow.query
    def state(self) -> CycleState:
        return self.state

    # ------------------------------------------------------------------ opening and stages

    @workflow.update
    async def open(self, cmd: OpenCycle) -> dict[str, Any]:
        async with self.lock:
            result = await self.step(A.open_cycle, steps.OpenCycleStep(self.state.cycle, cmd.actor, command_id()))
            await self._apply(result, stage_machine.cycle_opened())
            if not self.state.children_started:
                await self._start_units()  # before replying, so units can act at once
            return result

    @open.validator
    def _validate_open(self, cmd: OpenCycle) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")
        check(rules.require_cycle_status, self.state.status, "setup")

    @workflow.update
    async def open_stage(self, cmd: StageCommand) -> dict[str, Any]:
        async with self.lock:
            result = await self.step(A.open_stage, steps.OpenStageStep(self.state.cycle, cmd.stage, cmd.actor, command_id()))
            if result.get("sessions"):
                await self._start_sessions(result["sessions"])
            await self._apply(result, stage_machine.stage_opened(cmd.stage))
            return result

    @open_stage.validator
    def _validate_open_stage(self, cmd: StageCommand) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")
        check(rules.require_cycle_status, self.state.status, "open")
        check(rules.check_open_stage, self.state.stages, cmd.stage)

    @workflow.update
    async def close_stage(self, cmd: StageCommand) -> dict[str, Any]:
        async with self.lock:
            step = steps.CloseStageStep(self.state.cycle, cmd.stage, cmd.reason, cmd.actor, command_id())
            result = await self.step(A.close_stage, step)
            await self._apply(result, stage_machine.stage_closed(cmd.stage))
            return result

    @close_stage.validator
    def _validate_close_stage(self, cmd: StageCommand) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")
        check(rules.check_close_stage, self.state.stages, cmd.stage)

    @workflow.update
    async def set_deadline(self, cmd: SetDeadline) -> dict[str, Any]:
        async with self.lock:
            step = steps.SetDeadlineStep(self.state.cycle, cmd.stage, cmd.deadline, cmd.actor, command_id())
            result = await self.step(A.set_deadline, step)
            if self.last_step_retried:
                pass  # carried over from an earlier run, with whatever was set since
            elif cmd.deadline is None:
                self.state.deadlines.pop(cmd.stage, None)
            else:
                self.state.deadlines[cmd.stage] = datetime.fromisoformat(cmd.deadline).isoformat()
            await self._apply(result)
            return result

    @set_deadline.validator
    def _validate_deadline(self, cmd: SetDeadline) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")

    # ------------------------------------------------------------------ adjustments

    @workflow.update
    async def propose_adjustment(self, cmd: ProposeAdjustment) -> dict[str, Any]:
        async with self.lock:
            step = steps.ProposeAdjustmentStep(
                self.state.cycle, cmd.unit, cmd.kind, cmd.points, cmd.levels, cmd.reason, cmd.evidence, cmd.actor, command_id()
            )
            result = await self.step(A.propose_adjustment, step)
            await self._apply(result)
            return result

    @propose_adjustment.validator
    def _validate_propose(self, cmd: ProposeAdjustment) -> None:
        if self.is_retry():
            return
        check(rules.check_propose, self.state.stages, cmd.actor)

    @workflow.update
    async def decide_adjustment(self, cmd: DecideAdjustment) -> dict[str, Any]:
        async with self.lock:
            step = steps.DecideAdjustmentStep(
                self.state.cycle, cmd.adjustment, cmd.decision, cmd.reason, cmd.actor, command_id(),
                cmd.meeting_date, cmd.minute_number, cmd.members,
            )
            result = await self.step(A.decide_adjustment, step)
            await self._apply(result)
            return result

    @decide_adjustment.validator
    def _validate_decide(self, cmd: DecideAdjustment) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")
        check(rules.require_stage_open, self.state.stages, "adjustments")
        check(rules.check_decision, cmd.decision, cmd.reason)  # in the domain's order: the decision, then the meeting
        check(rules.parse_meeting, cmd.meeting_date, cmd.minute_number)

    # ------------------------------------------------------------------ allocation

    @workflow.update
    async def resolve_tie(self, cmd: ResolveTie) -> dict[str, Any]:
        async with self.lock:
            step = steps.ResolveTieStep(
                self.state.cycle, cmd.cohort, list(cmd.units), cmd.reason, cmd.actor, command_id(),
                cmd.meeting_date, cmd.minute_number, cmd.members,
            )
            result = await self.step(A.resolve_tie, step)
            await self._apply(result)
            return result

    @resolve_tie.validator
    def _validate_tie(self, cmd: ResolveTie) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")
        check(rules.require_stage_open, self.state.stages, "allocation")
        check(rules.parse_meeting, cmd.meeting_date, cmd.minute_number)

    @workflow.update
    async def override_grade(self, cmd: OverrideGrade) -> dict[str, Any]:
        async with self.lock:
            step = steps.OverrideGradeStep(
                self.state.cycle, cmd.unit, cmd.grade, cmd.reason, cmd.actor, command_id(),
                cmd.meeting_date, cmd.minute_number, cmd.members,
            )
            result = await self.step(A.override_grade, step)
            await self._apply(result)
            return result

    @override_grade.validator
    def _validate_override(self, cmd: OverrideGrade) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")
        check(rules.require_stage_open, self.state.stages, "allocation")
        check(rules.parse_meeting, cmd.meeting_date, cmd.minute_number)

    @workflow.update
    async def approve_allocation(self, cmd: Decision) -> dict[str, Any]:
        async with self.lock:
            step = steps.AllocationDecisionStep(self.state.cycle, cmd.reason, cmd.actor, command_id(), cmd.meeting_date, cmd.minute_number, cmd.members)
            result = await self.step(A.approve_allocation, step, "approve_allocation")
            await self._apply(result, *(stage_machine.approval() if self._took_effect(result) else ()))
            return result

    @approve_allocation.validator
    def _validate_approve(self, cmd: Decision) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")
        check(rules.require_stage_open, self.state.stages, "allocation")
        check(rules.parse_meeting, cmd.meeting_date, cmd.minute_number)

    @workflow.update
    async def reject_allocation(self, cmd: Decision) -> dict[str, Any]:
        async with self.lock:
            step = steps.AllocationDecisionStep(self.state.cycle, cmd.reason, cmd.actor, command_id(), cmd.meeting_date, cmd.minute_number, cmd.members)
            result = await self.step(A.reject_allocation, step, "reject_allocation")
            await self._apply(result, *((stage_machine.allocation_rejected(),) if self._took_effect(result) else ()))
            return result

    @reject_allocation.validator
    def _validate_reject(self, cmd: Decision) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")
        check(rules.require_stage_open, self.state.stages, "allocation")
        check(rules.parse_meeting, cmd.meeting_date, cmd.minute_number)

    def _took_effect(self, result: dict[str, Any]) -> bool:
        """Whether the committee's step made its decision take effect (the quorum confirmed it);
        always, in histories recorded before decisions needed a quorum."""
        if not workflow.patched(COMMITTEE_AS_A_BODY):
            return True
        return bool(result.get("effective", True))

    @workflow.update
    async def confirm_decision(self, cmd: ConfirmDecision) -> dict[str, Any]:
        """A member confirms a pending proposal; the confirmation that reaches the quorum makes
        it take effect — approving the allocation publishes the results, as the approval did."""
        async with self.lock:
            result = await self.step(A.confirm_decision, steps.ConfirmDecisionStep(self.state.cycle, cmd.proposal, cmd.actor, command_id()))
            effect = result.get("effect") if result.get("effective") else None
            if effect == "approve_allocation":
                await self._apply(result, *stage_machine.approval())
            elif effect == "reject_allocation":
                await self._apply(result, stage_machine.allocation_rejected())
            else:
                await self._apply(result)
            return result

    @confirm_decision.validator
    def _validate_confirm(self, cmd: ConfirmDecision) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")

    @workflow.update
    async def object_decision(self, cmd: ObjectDecision) -> dict[str, Any]:
        async with self.lock:
            step = steps.ObjectDecisionStep(self.state.cycle, cmd.proposal, cmd.reason, cmd.actor, command_id())
            result = await self.step(A.object_decision, step)
            await self._apply(result)
            return result

    @object_decision.validator
    def _validate_object(self, cmd: ObjectDecision) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "committee")

    # ------------------------------------------------------------------ rectification

    @workflow.update
    async def create_rectification(self, cmd: CreateRectification) -> dict[str, Any]:
        async with self.lock:
            step = steps.CreateRectificationStep(
                self.state.cycle, cmd.unit, cmd.point, cmd.description, cmd.deadline, cmd.actor, command_id()
            )
            result = await self.step(A.create_rectification, step)
            await self._apply(result)
            await start_items(self.state.cycle, result.get("items", []), workflow.info().workflow_id)
            return result

    @create_rectification.validator
    def _validate_create_rectification(self, cmd: CreateRectification) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")

    # ------------------------------------------------------------------ end

    @workflow.update
    async def close_cycle(self, cmd: Decision) -> dict[str, Any]:
        async with self.lock:
            result = await self.step(A.close_cycle, steps.CycleDecisionStep(self.state.cycle, cmd.reason, cmd.actor, command_id()), "close_cycle")
            await self._apply(result, stage_machine.cycle_closed())
            return result

    @close_cycle.validator
    def _validate_close_cycle(self, cmd: Decision) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")
        check(rules.require_stage_open, self.state.stages, "feedback")
