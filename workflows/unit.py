"""One unit's assessment in one cycle: self-review, scoring, feedback. A small child workflow,
so that no history grows with the number of units."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import rules
    from domain.rules import CLOSED
    from workflows.activities import KaoheActivities as A
    from workflows.base import KaoheWorkflow, check, command_id
    from workflows import steps
    from workflows.messages import SignedActor, Stages, UnitState
    from workflows.rectification import ItemState, RectificationWorkflow, rectification_workflow_id
    from temporalio.workflow import ParentClosePolicy


#: Rectification items opened together start together (before: one workflow task per item).
ITEMS_START_TOGETHER = "items-start-together-v1"


@dataclass
class SubmitSelfReview:
    actor: SignedActor
    scores: dict[str, Any]
    evidence: dict[str, str] = field(default_factory=dict)


@dataclass
class SubmitScoring:
    actor: SignedActor
    scores: dict[str, Any]
    na_reasons: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)


@dataclass
class IssueFeedback:
    actor: SignedActor
    text: str


@dataclass
class AcknowledgeFeedback:
    actor: SignedActor


@workflow.defn(name="UnitAssessment")
class UnitWorkflow(KaoheWorkflow):
    @workflow.init
    def __init__(self, state: UnitState) -> None:
        self.state = state
        self.done_updates = state.done_updates
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, state: UnitState) -> dict[str, Any]:
        await workflow.wait_condition(
            lambda: self.state.stages.get("feedback") == CLOSED and workflow.all_handlers_finished()
        )
        return {"unit": self.state.unit, "self_review": self.state.self_review, "scored": self.state.scored, "feedback": self.state.feedback}

    @workflow.query
    def state(self) -> UnitState:
        return self.state

    @workflow.signal
    def stages(self, update: Stages) -> None:
        """The cycle's stages: since ``UNITS_HEAR_ONLY_THE_END`` only when feedback closes."""
        self.state.stages = dict(update.stages)

    # -- self-review
    @workflow.update
    async def submit_self_review(self, cmd: SubmitSelfReview) -> dict[str, Any]:
        async with self.lock:
            step = steps.SelfReviewStep(self.state.cycle, self.state.unit, cmd.scores, cmd.evidence, cmd.actor, command_id())
            result = await self.step(A.submit_self_review, step)
            self.state.self_review = "submitted"
            return result

    @submit_self_review.validator
    def _validate_self_review(self, cmd: SubmitSelfReview) -> None:
        if self.is_retry():
            return
        check(rules.check_self_reviewer, cmd.actor, self.state.unit)

    # -- indicator scoring
    @workflow.update
    async def submit_scoring(self, cmd: SubmitScoring) -> dict[str, Any]:
        async with self.lock:
            step = steps.ScoringStep(
                self.state.cycle, self.state.unit, cmd.scores, cmd.na_reasons, cmd.comments, cmd.actor, command_id()
            )
            result = await self.step(A.submit_scoring, step)
            self.state.scored = True
            return result

    @submit_scoring.validator
    def _validate_scoring(self, cmd: SubmitScoring) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "evaluator")

    # -- feedback
    @workflow.update
    async def issue_feedback(self, cmd: IssueFeedback) -> dict[str, Any]:
        async with self.lock:
            step = steps.IssueFeedbackStep(self.state.cycle, self.state.unit, cmd.text, cmd.actor, command_id())
            result = await self.step(A.issue_feedback, step)
            self.state.feedback = "issued"
            await start_items(self.state.cycle, result.get("items", []))  # cycle workflow id from ours
            return result

    @issue_feedback.validator
    def _validate_issue(self, cmd: IssueFeedback) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")

    @workflow.update
    async def acknowledge_feedback(self, cmd: AcknowledgeFeedback) -> dict[str, Any]:
        async with self.lock:
            step = steps.AcknowledgeFeedbackStep(self.state.cycle, self.state.unit, cmd.actor, command_id())
            result = await self.step(A.acknowledge_feedback, step)
            self.state.feedback = "acknowledged"
            return result

    @acknowledge_feedback.validator
    def _validate_ack(self, cmd: AcknowledgeFeedback) -> None:
        if self.is_retry():
            return
        check(rules.check_acknowledge, cmd.actor, self.state.unit, self.state.feedback)


async def start_items(cycle: str, items: list[dict[str, Any]], cycle_workflow: str | None = None) -> None:
    """Start a rectification workflow per new item (they outlive the unit's and cycle's workflows)."""
    cycle_workflow = cycle_workflow or workflow.info().workflow_id.rsplit("/unit/", 1)[0]
    starts = [
        workflow.start_child_workflow(
            RectificationWorkflow.run,
            ItemState(cycle=cycle, item=item["id"], unit=item["unit"], deadline=item["deadline"]),
            id=rectification_workflow_id(cycle_workflow, item["id"]),
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        for item in items
    ]
    if not starts:
        return
    if workflow.patched(ITEMS_START_TOGETHER):
        await asyncio.gather(*starts)  # one workflow task for all of a unit's items
        return
    for start in starts:  # histories recorded before: one item after the other
        await start
