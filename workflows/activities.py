"""The activities: one per use case, each taking its typed step (``workflows.steps``) and
returning the use case's ``Recorded``. Activities run at least once; every use case is
idempotent by its command id, so a retry stores nothing twice. A domain refusal becomes a
non-retryable ``ApplicationError`` that keeps its code, message and field. Every step that
names an actor is first checked against the API's signature (``workflows.claims``): a command
sent straight to Temporal, unsigned or altered, is refused and stores nothing.

``execute`` is the name-dispatched activity of earlier versions. Workflows no longer call
it; it stays registered so that a workflow whose call was already scheduled before an upgrade
still completes (see ``workflows.base.TYPED_STEPS``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.application import Assessments, Recorded
from domain.application.recording import already_recorded
from domain.errors import DomainError
from domain.rules import REMIND_DAYS_BEFORE
from workflows.claims import Claims, forged, plain
from workflows.messages import Command, to_application_error
from workflows.steps import (
    AcknowledgeFeedbackStep,
    AllocationDecisionStep,
    ConfirmDecisionStep,
    ObjectDecisionStep,
    CloseSessionStep,
    CloseStageStep,
    CreateRectificationStep,
    CycleDecisionStep,
    DeadlineMissedStep,
    DecideAdjustmentStep,
    IssueFeedbackStep,
    OpenCycleStep,
    OpenStageStep,
    OverrideGradeStep,
    ProposeAdjustmentStep,
    RectificationOverdueStep,
    RemindRectificationStep,
    ReportRectificationStep,
    ResolveTieStep,
    ScoringStep,
    SelfReviewStep,
    SetDeadlineStep,
    VerifyRectificationStep,
)

#: The use cases the name-dispatched ``execute`` of earlier versions may call.
LEGACY = {
    "open_cycle", "open_stage", "close_stage", "set_deadline", "record_deadline_missed",
    "submit_self_review", "submit_scoring", "cast_ballot", "close_session", "propose_adjustment",
    "decide_adjustment", "resolve_tie", "override_grade", "approve_allocation", "reject_allocation",
    "issue_feedback", "acknowledge_feedback", "close_cycle", "create_rectification",
    "report_rectification", "submit_rectification", "verify_rectification", "remind_rectification",
    "rectification_overdue", "confirm_decision", "object_decision",
}
NO_ACTOR = {"record_deadline_missed", "remind_rectification", "rectification_overdue"}

#: How early a workflow's timer may say a moment has come (the worker's clock may lag the server's).
TIMER_SKEW = timedelta(seconds=60)


def _moment(iso: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(iso) if isinstance(iso, str) else None
    except ValueError:
        return None


def _due(what: str, moment: datetime) -> None:
    """The steps the workflows take on their own name no actor, so no claim: the engine's word
    that their moment has come is checked against the clock. Not yet: retried (clocks differ)."""
    if moment > datetime.now(timezone.utc) + TIMER_SKEW:
        raise ApplicationError(f"{what} is not due until {moment.isoformat()}", type="NotDueYet")


def _run(use_case: Callable[[], Recorded]) -> Recorded:
    try:
        return use_case()
    except DomainError as err:
        raise to_application_error(err) from None


class KaoheActivities:
    def __init__(self, app: Assessments, claims: Claims) -> None:
        self.app = app
        #: Checks the API's signature of each command's actor before anything is recorded.
        self.claims = claims

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.open_cycle, self.open_stage, self.close_stage, self.set_deadline, self.record_deadline_missed,
            self.submit_self_review, self.submit_scoring, self.close_session, self.propose_adjustment,
            self.decide_adjustment, self.resolve_tie, self.override_grade, self.approve_allocation,
            self.reject_allocation, self.confirm_decision, self.object_decision, self.close_cycle, self.issue_feedback, self.acknowledge_feedback,
            self.create_rectification, self.report_rectification, self.submit_rectification,
            self.verify_rectification, self.remind_rectification, self.rectification_overdue, self.execute,
        ]

    # -- the cycle
    @activity.defn(name="kaohe.open_cycle")
    def open_cycle(self, s: OpenCycleStep) -> Recorded:
        s = self.claims.checked("open_cycle", s)
        return _run(lambda: self.app.open_cycle(s.cycle, s.actor, s.command_id))

    @activity.defn(name="kaohe.open_stage")
    def open_stage(self, s: OpenStageStep) -> Recorded:
        s = self.claims.checked("open_stage", s)
        return _run(lambda: self.app.open_stage(s.cycle, s.stage, s.actor, s.command_id))

    @activity.defn(name="kaohe.close_stage")
    def close_stage(self, s: CloseStageStep) -> Recorded:
        s = self.claims.checked("close_stage", s)
        return _run(lambda: self.app.close_stage(s.cycle, s.stage, s.actor, s.command_id, s.reason))

    @activity.defn(name="kaohe.set_deadline")
    def set_deadline(self, s: SetDeadlineStep) -> Recorded:
        s = self.claims.checked("set_deadline", s)
        return _run(lambda: self.app.set_deadline(s.cycle, s.stage, s.deadline, s.actor, s.command_id))

    @activity.defn(name="kaohe.record_deadline_missed")
    def record_deadline_missed(self, s: DeadlineMissedStep) -> Recorded:
        self._deadline_due(s.cycle, s.stage, s.deadline, s.command_id)
        return _run(lambda: self.app.record_deadline_missed(s.cycle, s.stage, s.deadline, s.command_id))

    # -- a unit
    @activity.defn(name="kaohe.submit_self_review")
    def submit_self_review(self, s: SelfReviewStep) -> Recorded:
        s = self.claims.checked("submit_self_review", s)
        return _run(lambda: self.app.submit_self_review(s.cycle, s.unit, s.scores, s.evidence, s.actor, s.command_id))

    @activity.defn(name="kaohe.submit_scoring")
    def submit_scoring(self, s: ScoringStep) -> Recorded:
        s = self.claims.checked("submit_scoring", s)
        return _run(
            lambda: self.app.submit_scoring(s.cycle, s.unit, s.scores, s.na_reasons, s.comments, s.actor, s.command_id)
        )

    @activity.defn(name="kaohe.issue_feedback")
    def issue_feedback(self, s: IssueFeedbackStep) -> Recorded:
        s = self.claims.checked("issue_feedback", s)
        return _run(lambda: self.app.issue_feedback(s.cycle, s.unit, s.text, s.actor, s.command_id))

    @activity.defn(name="kaohe.acknowledge_feedback")
    def acknowledge_feedback(self, s: AcknowledgeFeedbackStep) -> Recorded:
        s = self.claims.checked("acknowledge_feedback", s)
        return _run(lambda: self.app.acknowledge_feedback(s.cycle, s.unit, s.actor, s.command_id))

    # -- the debrief
    @activity.defn(name="kaohe.close_session")
    def close_session(self, s: CloseSessionStep) -> Recorded:
        s = self.claims.checked("close_session", s)
        return _run(lambda: self.app.close_session(s.cycle, s.cohort, s.actor, s.command_id, s.reason))

    # -- the committee's decisions
    @activity.defn(name="kaohe.propose_adjustment")
    def propose_adjustment(self, s: ProposeAdjustmentStep) -> Recorded:
        s = self.claims.checked("propose_adjustment", s)
        return _run(
            lambda: self.app.propose_adjustment(
                s.cycle, s.unit, s.kind, s.points, s.levels, s.reason, s.evidence, s.actor, s.command_id
            )
        )

    @activity.defn(name="kaohe.decide_adjustment")
    def decide_adjustment(self, s: DecideAdjustmentStep) -> Recorded:
        s = self.claims.checked("decide_adjustment", s)
        return _run(lambda: self.app.decide_adjustment(
            s.cycle, s.adjustment, s.decision, s.reason, s.actor, s.command_id, s.meeting_date, s.minute_number, s.members
        ))

    @activity.defn(name="kaohe.resolve_tie")
    def resolve_tie(self, s: ResolveTieStep) -> Recorded:
        s = self.claims.checked("resolve_tie", s)
        return _run(lambda: self.app.resolve_tie(
            s.cycle, s.cohort, s.units, s.reason, s.actor, s.command_id, s.meeting_date, s.minute_number, s.members
        ))

    @activity.defn(name="kaohe.override_grade")
    def override_grade(self, s: OverrideGradeStep) -> Recorded:
        s = self.claims.checked("override_grade", s)
        return _run(lambda: self.app.override_grade(
            s.cycle, s.unit, s.grade, s.reason, s.actor, s.command_id, s.meeting_date, s.minute_number, s.members
        ))

    @activity.defn(name="kaohe.approve_allocation")
    def approve_allocation(self, s: AllocationDecisionStep) -> Recorded:
        s = self.claims.checked("approve_allocation", s)
        return _run(lambda: self.app.approve_allocation(
            s.cycle, s.reason, s.actor, s.command_id, getattr(s, "meeting_date", None), getattr(s, "minute_number", None),
            getattr(s, "members", None),
        ))

    @activity.defn(name="kaohe.reject_allocation")
    def reject_allocation(self, s: AllocationDecisionStep) -> Recorded:
        s = self.claims.checked("reject_allocation", s)
        return _run(lambda: self.app.reject_allocation(
            s.cycle, s.reason, s.actor, s.command_id, getattr(s, "meeting_date", None), getattr(s, "minute_number", None),
            getattr(s, "members", None),
        ))

    @activity.defn(name="kaohe.confirm_decision")
    def confirm_decision(self, s: ConfirmDecisionStep) -> Recorded:
        s = self.claims.checked("confirm_decision", s)
        return _run(lambda: self.app.confirm_decision(s.cycle, s.proposal, s.actor, s.command_id))

    @activity.defn(name="kaohe.object_decision")
    def object_decision(self, s: ObjectDecisionStep) -> Recorded:
        s = self.claims.checked("object_decision", s)
        return _run(lambda: self.app.object_decision(s.cycle, s.proposal, s.reason, s.actor, s.command_id))

    @activity.defn(name="kaohe.close_cycle")
    def close_cycle(self, s: CycleDecisionStep) -> Recorded:
        s = self.claims.checked("close_cycle", s)
        return _run(lambda: self.app.close_cycle(s.cycle, s.reason, s.actor, s.command_id))

    # -- rectification
    @activity.defn(name="kaohe.create_rectification")
    def create_rectification(self, s: CreateRectificationStep) -> Recorded:
        s = self.claims.checked("create_rectification", s)
        return _run(
            lambda: self.app.create_rectification(s.cycle, s.unit, s.point, s.description, s.deadline, s.actor, s.command_id)
        )

    @activity.defn(name="kaohe.report_rectification")
    def report_rectification(self, s: ReportRectificationStep) -> Recorded:
        s = self.claims.checked("report_rectification", s)
        return _run(lambda: self.app.report_rectification(s.item, s.text, s.attachments, s.actor, s.command_id))

    @activity.defn(name="kaohe.submit_rectification")
    def submit_rectification(self, s: ReportRectificationStep) -> Recorded:
        s = self.claims.checked("submit_rectification", s)
        return _run(lambda: self.app.submit_rectification(s.item, s.text, s.attachments, s.actor, s.command_id))

    @activity.defn(name="kaohe.verify_rectification")
    def verify_rectification(self, s: VerifyRectificationStep) -> Recorded:
        s = self.claims.checked("verify_rectification", s)
        return _run(lambda: self.app.verify_rectification(s.item, s.decision, s.reason, s.actor, s.command_id))

    @activity.defn(name="kaohe.remind_rectification")
    def remind_rectification(self, s: RemindRectificationStep) -> Recorded:
        self._item_due(s.item, s.command_id, s.days_left)
        return _run(lambda: self.app.remind_rectification(s.item, s.days_left, s.command_id))

    @activity.defn(name="kaohe.rectification_overdue")
    def rectification_overdue(self, s: RectificationOverdueStep) -> Recorded:
        self._item_due(s.item, s.command_id, 0)
        return _run(lambda: self.app.rectification_overdue(s.item, s.command_id))

    def _deadline_due(self, cycle: str, stage: str, deadline: str, command_id: str) -> None:
        """A stage's deadline is missed only if it is the stage's deadline (the event store's,
        not the workflow's say) and has passed."""
        try:
            c = self.app.cycle(cycle)
        except DomainError as err:
            raise to_application_error(err) from None
        if already_recorded(c, command_id) is not None:  # checked once: a retry answers the first outcome
            return
        recorded, claimed = _moment(c.deadlines.get(stage)), _moment(deadline)
        if recorded is None or claimed != recorded:
            raise forged("not_the_deadline", f"{stage} 的截止时间不是 {deadline} / not the stage's deadline")
        _due("the deadline", recorded)

    def _item_due(self, item: str, command_id: str, days_before: int) -> None:
        """A reminder ``days_before`` the item's deadline, or its being overdue (0): only then."""
        try:
            it = self.app.rectification(item)
        except DomainError as err:
            raise to_application_error(err) from None
        if already_recorded(it, command_id) is not None:
            return
        deadline = _moment(it.deadline)
        if deadline is None or (days_before and days_before not in REMIND_DAYS_BEFORE):
            raise forged("not_the_deadline", f"整改事项 {item} 没有这样的期限 / no such deadline for this item")
        _due("the rectification deadline", deadline - timedelta(days=days_before))

    # -- earlier versions
    @activity.defn(name="kaohe.execute")
    def execute(self, command: Command) -> dict[str, Any]:
        """The name-dispatched activity of earlier versions (kept for calls already scheduled)."""
        if command.method not in LEGACY:
            raise ValueError(f"unknown use case {command.method}")
        kwargs = dict(command.kwargs)
        if command.method not in NO_ACTOR:
            self.claims.verify(command.method, command.command_id, command.actor, kwargs)
            kwargs["actor"] = plain(command.actor)
        elif command.method == "record_deadline_missed":
            self._deadline_due(kwargs.get("cycle"), kwargs.get("stage"), kwargs.get("deadline"), command.command_id)
        else:
            self._item_due(kwargs.get("item"), command.command_id, kwargs.get("days_left", 0))
        outcome = _run(lambda: getattr(self.app, command.method)(command_id=command.command_id, **kwargs))
        return outcome.to_dict()
