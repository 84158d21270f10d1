"""How each domain event changes the read models. One function per event name."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain import stages as stage_machine
from domain.rules import PENDING, AdjustmentStatus, FeedbackStatus, RectificationStatus, SelfReviewStatus, stage_label
from projections.models import (
    AccountChangeRow,
    AdjustmentRow,
    AssignmentRow,
    BallotRow,
    CycleRow,
    DistributionRow,
    NoticeRow,
    RectificationRow,
    ReminderRow,
    ResultRow,
    RosterRow,
    SessionRow,
    UnitRow,
)

Handler = Callable[[Session, Any, int], None]
HANDLERS: dict[str, Handler] = {}


def on(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def _cycle(db: Session, key: str) -> CycleRow:
    row = db.get(CycleRow, key)
    assert row is not None, f"cycle {key} not projected"
    return row


def _advance(db: Session, key: str, e: Any, t: stage_machine.Transition) -> CycleRow:
    """Apply the stage machine's transition for this event (the aggregate applied the same)."""
    row = _cycle(db, key)
    stages = dict(row.stages)
    stamps = dict(row.stage_changed_at or {})
    if t.status is not None:
        row.status = t.status
    for stage, status in t.changes.items():
        stages[stage] = status
        stamps[stage] = e.timestamp.isoformat()
    row.stages = stages
    row.stage_changed_at = stamps
    row.updated_at = e.timestamp
    return row


# ------------------------------------------------------------------ cycle


@on("Cycle.CycleCreated")
def cycle_created(db: Session, e: Any, pos: int) -> None:
    db.add(
        CycleRow(
            key=e.key,
            id=str(e.originator_id),
            year=e.year,
            name=e.name,
            status="setup",
            stages=stage_machine.initial(),
            deadlines=dict(e.deadlines),
            policy=e.policy,
            categories=e.categories,
            org_types=sorted(e.schemes),
            created_by=e.actor,
            created_at=e.timestamp,
            updated_at=e.timestamp,
            stage_changed_at={},
        )
    )


@on("Cycle.UnitRegistered")
def unit_registered(db: Session, e: Any, pos: int) -> None:
    pass  # the UnitAssessmentStarted event of the same command carries the row


@on("Cycle.EvaluatorsAssigned")
def evaluators_assigned(db: Session, e: Any, pos: int) -> None:
    key = _key(db, e)
    db.execute(delete(AssignmentRow).where(AssignmentRow.cycle == key, AssignmentRow.unit == e.unit))
    for name in e.evaluators:
        db.add(AssignmentRow(cycle=key, unit=e.unit, evaluator=name))


@on("Cycle.CycleOpened")
def cycle_opened(db: Session, e: Any, pos: int) -> None:
    _advance(db, _key(db, e), e, stage_machine.cycle_opened())


@on("Cycle.StageOpened")
def stage_opened(db: Session, e: Any, pos: int) -> None:
    _advance(db, _key(db, e), e, stage_machine.stage_opened(e.stage))


@on("Cycle.StageClosed")
def stage_closed(db: Session, e: Any, pos: int) -> None:
    key = _key(db, e)
    _advance(db, key, e, stage_machine.stage_closed(e.stage))
    for notice in db.scalars(select(NoticeRow).where(NoticeRow.cycle == key, NoticeRow.stage == e.stage)):
        notice.resolved = True


@on("Cycle.DeadlineSet")
def deadline_set(db: Session, e: Any, pos: int) -> None:
    row = _cycle(db, _key(db, e))
    deadlines = dict(row.deadlines)
    if e.deadline is None:
        deadlines.pop(e.stage, None)
    else:
        deadlines[e.stage] = e.deadline
    row.deadlines = deadlines


@on("Cycle.StageDeadlineMissed")
def deadline_missed(db: Session, e: Any, pos: int) -> None:
    key = _key(db, e)
    db.add(
        NoticeRow(
            id=pos,
            cycle=key,
            kind="deadline_missed",
            stage=e.stage,
            text=f"{stage_label(e.stage)}阶段已过截止时间 {e.deadline} / the {e.stage} deadline has passed",
            at=e.timestamp,
            resolved=stage_machine.closes_itself_at_deadline(e.stage),
        )
    )


@on("Cycle.AdjustmentFiled")
def adjustment_filed(db: Session, e: Any, pos: int) -> None:
    pass  # AdjustmentProposed carries the row


@on("Cycle.TieResolved")
def tie_resolved(db: Session, e: Any, pos: int) -> None:
    _cycle(db, _key(db, e)).updated_at = e.timestamp


@on("Cycle.GradeOverridden")
def grade_overridden(db: Session, e: Any, pos: int) -> None:
    _cycle(db, _key(db, e)).updated_at = e.timestamp


# The committee's proposals, confirmations and objections (SPEC §1: the committee decides as a
# body) are read from the aggregates (``Assessments.proposals``, for the proposals list and the
# inbox); a decision's effect has its own event (TieResolved … AdjustmentRejected) and handler.


@on("Cycle.DecisionProposed")
@on("Cycle.DecisionConfirmed")
@on("Cycle.DecisionObjected")
def cycle_decision_step(db: Session, e: Any, pos: int) -> None:
    _cycle(db, _key(db, e)).updated_at = e.timestamp


@on("Cycle.AllocationRejected")
def allocation_rejected(db: Session, e: Any, pos: int) -> None:
    key = _key(db, e)
    _advance(db, key, e, stage_machine.allocation_rejected())
    db.add(
        NoticeRow(
            id=pos,
            cycle=key,
            kind="allocation_rejected",
            stage="adjustments",
            text=f"党委退回等次方案：{e.reason} / the committee sent the allocation back",
            at=e.timestamp,
            resolved=False,
        )
    )


@on("Cycle.AllocationApproved")
def allocation_approved(db: Session, e: Any, pos: int) -> None:
    _advance(db, _key(db, e), e, stage_machine.allocation_approved())


@on("Cycle.ResultsPublished")
def results_published(db: Session, e: Any, pos: int) -> None:
    key = _key(db, e)
    row = _advance(db, key, e, stage_machine.results_published())
    row.published_at = e.timestamp
    db.execute(delete(ResultRow).where(ResultRow.cycle == key))
    db.execute(delete(DistributionRow).where(DistributionRow.cycle == key))
    for unit, result in e.results["units"].items():
        db.add(ResultRow(cycle=key, unit=unit, cohort=result["cohort"], result=result))
    for cohort, counts in e.results["distribution"].items():
        db.add(DistributionRow(cycle=key, cohort=cohort, counts=counts))


@on("Cycle.CycleClosed")
def cycle_closed(db: Session, e: Any, pos: int) -> None:
    _advance(db, _key(db, e), e, stage_machine.cycle_closed())


def _key(db: Session, e: Any) -> str:
    """The cycle key of a Cycle event, found by its aggregate id."""
    key = db.scalar(select(CycleRow.key).where(CycleRow.id == str(e.originator_id)))
    assert key is not None, f"cycle {e.originator_id} not projected"
    return key


# ------------------------------------------------------------------ units


@on("UnitAssessment.UnitAssessmentStarted")
def unit_started(db: Session, e: Any, pos: int) -> None:
    db.add(UnitRow(cycle=e.cycle, unit=e.unit, id=str(e.originator_id), name=e.name, cohort=e.cohort))


@on("UnitAssessment.SelfReviewDraftSaved")
def draft_saved(db: Session, e: Any, pos: int) -> None:
    row = _unit_by_id(db, e)
    row.draft = {"scores": e.scores, "evidence": e.evidence, "saved_at": e.timestamp.isoformat()}


@on("UnitAssessment.SelfReviewSubmitted")
def self_review_submitted(db: Session, e: Any, pos: int) -> None:
    row = _unit_by_id(db, e)
    row.self_review = SelfReviewStatus.SUBMITTED
    row.self_review_at = e.timestamp
    row.self_scores = e.scores
    row.self_evidence = e.evidence
    row.draft = None


@on("UnitAssessment.SelfReviewNotSubmitted")
def self_review_missed(db: Session, e: Any, pos: int) -> None:
    row = _unit_by_id(db, e)
    row.self_review = SelfReviewStatus.MISSED
    row.self_review_at = e.timestamp


@on("UnitAssessment.ScoringSubmitted")
def scoring_submitted(db: Session, e: Any, pos: int) -> None:
    row = _unit_by_id(db, e)
    row.scored = True
    row.scored_by = e.actor
    row.scored_at = e.timestamp
    row.scores = e.scores
    row.na_reasons = e.na_reasons
    row.comments = e.comments


@on("UnitAssessment.FeedbackIssued")
def feedback_issued(db: Session, e: Any, pos: int) -> None:
    row = _unit_by_id(db, e)
    row.feedback = FeedbackStatus.ISSUED
    row.feedback_text = e.text
    row.feedback_at = e.timestamp


@on("UnitAssessment.FeedbackAcknowledged")
def feedback_acknowledged(db: Session, e: Any, pos: int) -> None:
    row = _unit_by_id(db, e)
    row.feedback = FeedbackStatus.ACKNOWLEDGED
    row.feedback_at = e.timestamp


@on("UnitAssessment.UnitReminded")
def unit_reminded(db: Session, e: Any, pos: int) -> None:
    unit = _unit_by_id(db, e)
    row = db.get(ReminderRow, (unit.cycle, unit.unit, e.stage))
    if row is None:
        row = ReminderRow(cycle=unit.cycle, unit=unit.unit, stage=e.stage, count=0)
        db.add(row)
    row.count = (row.count or 0) + 1
    row.last_by = e.actor
    row.last_at = e.timestamp
    row.note = e.note


def _unit_by_id(db: Session, e: Any) -> UnitRow:
    row = db.scalar(select(UnitRow).where(UnitRow.id == str(e.originator_id)))
    assert row is not None, f"unit {e.originator_id} not projected"
    return row


# ------------------------------------------------------------------ debrief


@on("DebriefSession.DebriefSessionOpened")
def session_opened(db: Session, e: Any, pos: int) -> None:
    roster = db.get(RosterRow, (e.cycle, e.cohort))
    db.add(SessionRow(cycle=e.cycle, cohort=e.cohort, id=str(e.originator_id), secretaries=e.secretaries, is_open=True,
                      opened_at=e.timestamp, ballots=0, roster=list(roster.entries) if roster else []))


def _session_roster(db: Session, row: RosterRow) -> None:
    session = db.get(SessionRow, (row.cycle, row.cohort))
    if session is not None:
        session.roster = list(row.entries)


@on("DebriefRoster.RosterRegistered")
def roster_registered(db: Session, e: Any, pos: int) -> None:
    row = RosterRow(cycle=e.cycle, cohort=e.cohort, id=str(e.originator_id), entries=list(e.entries))
    db.add(row)
    _session_roster(db, row)


@on("DebriefRoster.RosterChanged")
def roster_changed(db: Session, e: Any, pos: int) -> None:
    row = db.scalar(select(RosterRow).where(RosterRow.id == str(e.originator_id)))
    assert row is not None, f"roster {e.originator_id} not projected"
    row.entries = list(e.entries)
    _session_roster(db, row)


def _session_by_id(db: Session, e: Any) -> SessionRow:
    row = db.scalar(select(SessionRow).where(SessionRow.id == str(e.originator_id)))
    assert row is not None, f"session {e.originator_id} not projected"
    return row


@on("DebriefSession.BallotCast")
def ballot_cast(db: Session, e: Any, pos: int) -> None:
    row = _session_by_id(db, e)
    row.ballots += 1
    db.add(BallotRow(cycle=row.cycle, cohort=row.cohort, representative=e.representative, category=e.category, cast_at=e.timestamp))


@on("BallotSheet.BallotSheetCast")
def sheet_cast(db: Session, e: Any, pos: int) -> None:
    row = db.get(SessionRow, (e.cycle, e.cohort))
    assert row is not None, f"session {e.cycle}/{e.cohort} not projected"
    if not row.is_open:
        return  # stored after the cut-off: it does not count (the cast records it void)
    row.ballots += 1
    db.add(BallotRow(cycle=e.cycle, cohort=e.cohort, representative=e.representative, category=e.category, cast_at=e.timestamp))


@on("BallotSheet.BallotSheetVoided")
def sheet_voided(db: Session, e: Any, pos: int) -> None:
    """Nothing to undo: a void sheet was stored after the cut-off, so it was never shown as cast."""


@on("DebriefSession.BallotBoxClosed")
def ballot_box_closed(db: Session, e: Any, pos: int) -> None:
    _session_by_id(db, e).is_open = False


@on("DebriefSession.DebriefSessionClosed")
def session_closed(db: Session, e: Any, pos: int) -> None:
    # Its ``sheets`` are exactly those projected while the session was open (before the cut-off).
    row = _session_by_id(db, e)
    row.is_open = False
    row.close_reason = getattr(e, "reason", None)


# ------------------------------------------------------------------ adjustments


@on("Adjustment.AdjustmentProposed")
def adjustment_proposed(db: Session, e: Any, pos: int) -> None:
    db.add(
        AdjustmentRow(
            id=str(e.originator_id),
            cycle=e.cycle,
            unit=e.unit,
            kind=e.kind,
            points=e.points,
            levels=e.levels,
            reason=e.reason,
            evidence=e.evidence,
            proposer=e.actor,
            proposed_at=e.timestamp,
            status=PENDING,
        )
    )


def _decided(db: Session, e: Any, status: str) -> None:
    row = db.get(AdjustmentRow, str(e.originator_id))
    assert row is not None
    row.status = status
    row.decided_by = e.actor
    row.decision_reason = e.reason
    row.decided_at = e.timestamp


@on("Adjustment.AdjustmentApproved")
def adjustment_approved(db: Session, e: Any, pos: int) -> None:
    _decided(db, e, AdjustmentStatus.APPROVED)


@on("Adjustment.AdjustmentRejected")
def adjustment_rejected(db: Session, e: Any, pos: int) -> None:
    _decided(db, e, AdjustmentStatus.REJECTED)


@on("Adjustment.DecisionProposed")
@on("Adjustment.DecisionConfirmed")
@on("Adjustment.DecisionObjected")
def adjustment_decision_step(db: Session, e: Any, pos: int) -> None:
    pass  # the row stays pending until AdjustmentApproved / AdjustmentRejected; proposals: see above


# ------------------------------------------------------------------ feedback drafts and rectification


@on("UnitAssessment.FeedbackDrafted")
def feedback_drafted(db: Session, e: Any, pos: int) -> None:
    _unit_by_id(db, e).feedback_draft = e.draft


@on("Cycle.RectificationFiled")
def rectification_filed(db: Session, e: Any, pos: int) -> None:
    pass  # RectificationItemCreated carries the row


@on("RectificationItem.RectificationItemCreated")
def rectification_created(db: Session, e: Any, pos: int) -> None:
    db.add(RectificationRow(
        id=str(e.originator_id), cycle=e.cycle, unit=e.unit, point=e.point, description=e.description,
        deadline=e.deadline, source=e.source, status=RectificationStatus.OPEN, overdue=False, reminders=0, reports=[],
        carried_to=[], created_at=e.timestamp, updated_at=e.timestamp,
    ))


def _item(db: Session, e: Any) -> RectificationRow:
    row = db.get(RectificationRow, str(e.originator_id))
    assert row is not None, f"item {e.originator_id} not projected"
    row.updated_at = e.timestamp
    return row


def _report(db: Session, e: Any, kind: str, status: str) -> None:
    row = _item(db, e)
    row.status = status
    row.reports = [*row.reports, {"kind": kind, "text": e.text, "attachments": e.attachments, "by": e.actor, "at": e.timestamp.isoformat()}]


@on("RectificationItem.RectificationProgressReported")
def rectification_progress(db: Session, e: Any, pos: int) -> None:
    _report(db, e, "progress", RectificationStatus.IN_PROGRESS)


@on("RectificationItem.RectificationSubmitted")
def rectification_submitted(db: Session, e: Any, pos: int) -> None:
    _report(db, e, "completion", RectificationStatus.SUBMITTED)


@on("RectificationItem.RectificationSentBack")
def rectification_sent_back(db: Session, e: Any, pos: int) -> None:
    row = _item(db, e)
    row.status = RectificationStatus.IN_PROGRESS
    row.last_reason = e.reason


@on("RectificationItem.RectificationClosed")
def rectification_closed(db: Session, e: Any, pos: int) -> None:
    row = _item(db, e)
    row.status = RectificationStatus.CLOSED
    row.last_reason = e.reason


@on("RectificationItem.RectificationReminded")
def rectification_reminded(db: Session, e: Any, pos: int) -> None:
    _item(db, e).reminders += 1


@on("RectificationItem.RectificationOverdue")
def rectification_overdue(db: Session, e: Any, pos: int) -> None:
    _item(db, e).overdue = True


@on("RectificationItem.RectificationCarriedOver")
def rectification_carried(db: Session, e: Any, pos: int) -> None:
    row = _item(db, e)
    row.carried_to = [*row.carried_to, e.to_cycle]


# ------------------------------------------------------------------ accounts


def _account_row(db: Session, e: Any, pos: int, event: str, **changes: Any) -> None:
    """The account's state after the event, as the last change left it, with ``changes``."""
    last = db.scalars(select(AccountChangeRow).where(AccountChangeRow.account_id == str(e.originator_id))
                      .order_by(AccountChangeRow.position.desc()).limit(1)).first()
    assert last is not None, f"account {e.originator_id} not projected"
    state = {"username": last.username, "account_role": last.account_role, "unit": last.unit, "active": last.active, **changes}
    db.add(AccountChangeRow(position=pos, account_id=str(e.originator_id), event=event, actor=e.actor, reason=e.reason or "",
                            at=e.timestamp, **state))


@on("Account.AccountCreated")
def account_created(db: Session, e: Any, pos: int) -> None:
    db.add(AccountChangeRow(position=pos, account_id=str(e.originator_id), username=e.username, event="AccountCreated",
                            account_role=e.account_role, unit=e.unit, active=e.active, actor=e.actor, reason=e.reason or "",
                            at=e.timestamp))


@on("Account.AccessChanged")
def account_access_changed(db: Session, e: Any, pos: int) -> None:
    _account_row(db, e, pos, "AccessChanged", account_role=e.account_role, unit=e.unit)


@on("Account.PasswordReset")
def account_password_reset(db: Session, e: Any, pos: int) -> None:
    _account_row(db, e, pos, "PasswordReset")


@on("Account.AccountDeactivated")
def account_deactivated(db: Session, e: Any, pos: int) -> None:
    _account_row(db, e, pos, "AccountDeactivated", active=False)


@on("Account.AccountReactivated")
def account_reactivated(db: Session, e: Any, pos: int) -> None:
    _account_row(db, e, pos, "AccountReactivated", active=True)
