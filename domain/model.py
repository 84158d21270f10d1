"""The cycle's aggregates and their events.

Each command method is decorated with ``@event(...)``: its body is both the decision's effect
and its replay. Every event carries the actor, their role, the command's idempotency key
(``command_id``) and, where the step asks for one, the reason. Rules are checked by the
application (``domain.app``) with the functions of ``domain.rules`` before a method is called.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain import stages as stage_machine
from domain.rules import PENDING

#: Namespace of Kaohe's deterministic aggregate ids (uuid5).
NAMESPACE = uuid.UUID("6f1c2d9e-6c1b-5c57-9d43-3b0f4e2a8a11")


def cycle_id(cycle: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"cycle/{cycle}")


def unit_id(cycle: str, unit: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"unit/{cycle}/{unit}")


def session_id(cycle: str, cohort: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"debrief/{cycle}/{cohort}")


def sheet_id(cycle: str, cohort: str, representative: str) -> uuid.UUID:
    """One ballot sheet per representative per session: a second one collides by its id."""
    return uuid.uuid5(NAMESPACE, f"ballot/{cycle}/{cohort}/{representative}")


def adjustment_id(cycle: str, command_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"adjustment/{cycle}/{command_id}")


class KaoheAggregate(Aggregate):
    """Remembers the idempotency keys of the commands it has applied (``self.command_ids``)."""

    def seen(self, command_id: str) -> bool:
        return command_id in self.command_ids

    def _mark(self, command_id: str) -> None:
        self.command_ids[command_id] = True


class Cycle(KaoheAggregate):
    """One assessment round: its policy, schemes, units, stages and committee decisions."""

    @staticmethod
    def create_id(key: str, **_: Any) -> uuid.UUID:
        return cycle_id(key)

    @event("CycleCreated")
    def __init__(
        self,
        key: str,
        year: int,
        name: str,
        policy: dict,
        schemes: dict,
        categories: dict,
        deadlines: dict,
        actor: str,
        role: str,
        command_id: str,
    ) -> None:
        self.key = key
        self.year = year
        self.name = name
        self.policy = policy
        self.schemes = schemes
        self.categories = categories
        self.deadlines = dict(deadlines)
        self.status = "setup"
        self.stages = stage_machine.initial()
        self.units: dict[str, dict[str, str]] = {}
        self.adjustments: list[str] = []
        self.ties: dict[str, list[str]] = {}
        self.overrides: dict[str, dict[str, str]] = {}
        self.missed: list[str] = []
        self.results: dict | None = None
        self.rectifications: list[str] = []
        self.command_ids = {command_id: True}

    @event("UnitRegistered")
    def register_unit(self, unit: str, name: str, org_type: str, actor: str, role: str, command_id: str) -> None:
        self.units[unit] = {"name": name, "org_type": org_type}
        self._mark(command_id)

    @event("CycleOpened")
    def open(self, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.cycle_opened())
        self._mark(command_id)

    @event("StageOpened")
    def open_stage(self, stage: str, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.stage_opened(stage))
        self._mark(command_id)

    @event("StageClosed")
    def close_stage(self, stage: str, actor: str, role: str, command_id: str, reason: str = "") -> None:
        self._advance(stage_machine.stage_closed(stage))
        self._mark(command_id)

    @event("DeadlineSet")
    def set_deadline(self, stage: str, deadline: str | None, previous: str | None, actor: str, role: str, command_id: str) -> None:
        if deadline is None:
            self.deadlines.pop(stage, None)
        else:
            self.deadlines[stage] = deadline
        self._mark(command_id)

    @event("StageDeadlineMissed")
    def deadline_missed(self, stage: str, deadline: str, actor: str, role: str, command_id: str) -> None:
        self.missed.append(stage)
        self._mark(command_id)

    @event("AdjustmentFiled")
    def file_adjustment(self, adjustment: str, unit: str, actor: str, role: str, command_id: str) -> None:
        self.adjustments.append(adjustment)
        self._mark(command_id)

    @event("RectificationFiled")
    def file_rectification(self, item: str, unit: str, actor: str, role: str, command_id: str) -> None:
        if not hasattr(self, "rectifications"):
            self.rectifications = []
        self.rectifications.append(item)
        self._mark(command_id)

    @event("TieResolved")
    def resolve_tie(self, cohort: str, units: list, reason: str, actor: str, role: str, command_id: str) -> None:
        self.ties[cohort] = list(units)
        self._mark(command_id)

    @event("GradeOverridden")
    def override(
        self, unit: str, grade: str, previous: str | None, reason: str, actor: str, role: str, command_id: str
    ) -> None:
        self.overrides[unit] = {"grade": grade, "reason": reason}
        self._mark(command_id)

    @event("AllocationRejected")
    def reject_allocation(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.allocation_rejected())
        self.ties = {}
        self.overrides = {}
        self._mark(command_id)

    @event("AllocationApproved")
    def approve_allocation(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.allocation_approved())
        self._mark(command_id)

    @event("ResultsPublished")
    def publish(self, results: dict, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.results_published())
        self.results = results
        self._mark(command_id)

    @event("ReportSuggestionsSet")
    def set_suggestions(self, text: str, previous: str, actor: str, role: str, command_id: str) -> None:
        self.suggestions = text
        self._mark(command_id)

    @event("ResultsUsePolicySet")
    def set_results_use(self, policy: dict, previous: dict | None, actor: str, role: str, command_id: str) -> None:
        self.results_use = policy
        self._mark(command_id)

    @event("BusinessGradesImported")
    def import_business_grades(self, grades: dict, file_sha256: str, actor: str, role: str, command_id: str) -> None:
        self.business_grades = dict(grades)
        self._mark(command_id)

    @event("CycleClosed")
    def close(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.cycle_closed())
        self._mark(command_id)

    def _advance(self, t: stage_machine.Transition) -> None:
        self.stages = t.apply(self.stages)
        if t.status is not None:
            self.status = t.status

    def cohort_units(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, u in self.units.items():
            out.setdefault(u["org_type"], []).append(key)
        return out


class UnitAssessment(KaoheAggregate):
    """One unit in one cycle: its self-review, its evaluators' scoring, its feedback."""

    @staticmethod
    def create_id(cycle: str, unit: str, **_: Any) -> uuid.UUID:
        return unit_id(cycle, unit)

    @event("UnitAssessmentStarted")
    def __init__(self, cycle: str, unit: str, name: str, cohort: str, actor: str, role: str, command_id: str) -> None:
        self.cycle = cycle
        self.unit = unit
        self.name = name
        self.cohort = cohort
        self.self_review_status = PENDING
        self.self_scores: dict[str, str | None] = {}
        self.self_evidence: dict[str, str] = {}
        self.draft: dict[str, Any] = {}
        self.scores: dict[str, str | None] | None = None
        self.na_reasons: dict[str, str] = {}
        self.comments: dict[str, str] = {}
        self.feedback_status = "none"
        self.feedback_text = ""
        self.feedback_draft: dict | None = None
        self.command_ids = {command_id: True}

    @event("SelfReviewDraftSaved")
    def save_draft(self, scores: dict, evidence: dict, actor: str, role: str, command_id: str) -> None:
        self.draft = {"scores": scores, "evidence": evidence}
        self._mark(command_id)

    @event("SelfReviewSubmitted")
    def submit_self_review(self, scores: dict, evidence: dict, actor: str, role: str, command_id: str) -> None:
        self.self_review_status = "submitted"
        self.self_scores = scores
        self.self_evidence = evidence
        self._mark(command_id)

    @event("SelfReviewNotSubmitted")
    def miss_self_review(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.self_review_status = "missed"
        self._mark(command_id)

    @event("ScoringSubmitted")
    def submit_scoring(
        self, scores: dict, na_reasons: dict, comments: dict, actor: str, role: str, command_id: str
    ) -> None:
        self.scores = scores
        self.na_reasons = na_reasons
        self.comments = comments
        self._mark(command_id)

    @event("FeedbackDrafted")
    def draft_feedback(self, draft: dict, actor: str, role: str, command_id: str) -> None:
        self.feedback_draft = draft
        self._mark(command_id)

    @event("FeedbackIssued")
    def issue_feedback(self, text: str, actor: str, role: str, command_id: str) -> None:
        self.feedback_status = "issued"
        self.feedback_text = text
        self._mark(command_id)

    @event("FeedbackAcknowledged")
    def acknowledge_feedback(self, actor: str, role: str, command_id: str) -> None:
        self.feedback_status = "acknowledged"
        self._mark(command_id)


class DebriefSession(KaoheAggregate):
    """The secretaries' debrief of one cohort. The session owns only its opening and closing:
    each ballot sheet is its own aggregate (``BallotSheet``), so a meeting's representatives
    cast at once without contending for this one. Sessions of older cycles hold their ballots
    here (``BallotCast``); they still count.

    Closing is two events recorded by one use case: ``BallotBoxClosed`` is the cut-off (a sheet
    stored before it counts, one stored after it does not), then ``DebriefSessionClosed`` lists
    exactly the sheets stored before the cut-off. The list cannot be written in the cut-off event
    itself: a sheet could be stored between reading the sheets and storing the event."""

    @staticmethod
    def create_id(cycle: str, cohort: str, **_: Any) -> uuid.UUID:
        return session_id(cycle, cohort)

    class DebriefSessionOpened(Aggregate.Created):
        """v2 adds ``opened_after``: the log's last position before the session opened, where a
        search for its sheets may start (v1: 0, the log's start)."""

        class_version = 2
        cycle: str
        cohort: str
        secretaries: list
        categories: dict
        actor: str
        role: str
        command_id: str
        opened_after: int

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["opened_after"] = 0

    @event(DebriefSessionOpened)
    def __init__(
        self,
        cycle: str,
        cohort: str,
        secretaries: list,
        categories: dict,
        actor: str,
        role: str,
        command_id: str,
        opened_after: int = 0,
    ) -> None:
        self.cycle = cycle
        self.cohort = cohort
        self.secretaries = list(secretaries)
        self.categories = categories
        self.ballots: dict[str, dict[str, Any]] = {}  # legacy: sheets cast as BallotCast on this aggregate
        self.is_open = True
        self.cut_off = False
        self.sheets: list[dict[str, str]] | None = None  # the counted BallotSheets, once closed
        self.opened_after = opened_after
        self.command_ids = {command_id: True}

    @event("BallotCast")
    def cast_ballot(self, representative: str, category: str, scores: dict, actor: str, role: str, command_id: str) -> None:
        """Legacy (before ballot sheets were aggregates of their own): kept so old logs replay."""
        self.ballots[representative] = {"category": category, "scores": scores}
        self._mark(command_id)

    @event("BallotBoxClosed")
    def close_ballot_box(self, actor: str, role: str, command_id: str) -> None:
        self.is_open = False
        self.cut_off = True
        self._mark(command_id)

    class DebriefSessionClosed(Aggregate.Event):
        """v2 adds ``sheets``: the ballot sheets counted, ``[{"sheet", "representative"}]`` in
        log order (v1: none — its ballots are the session's own ``BallotCast`` events)."""

        class_version = 2
        actor: str
        role: str
        command_id: str
        sheets: list

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["sheets"] = []

    @event(DebriefSessionClosed)
    def close(self, actor: str, role: str, command_id: str, sheets: list) -> None:
        self.is_open = False
        self.cut_off = True
        self.sheets = [dict(s) for s in sheets]
        self._mark(command_id)

    @property
    def is_closed(self) -> bool:
        return self.sheets is not None

    def counts(self, sheet: str) -> bool:
        return any(s["sheet"] == sheet for s in self.sheets or ())


class BallotSheet(KaoheAggregate):
    """One representative's ballot sheet in one debrief session (a score 0–100 per secretary)."""

    @staticmethod
    def create_id(cycle: str, cohort: str, representative: str, **_: Any) -> uuid.UUID:
        return sheet_id(cycle, cohort, representative)

    @event("BallotSheetCast")
    def __init__(
        self, cycle: str, cohort: str, representative: str, category: str, scores: dict, actor: str, role: str, command_id: str
    ) -> None:
        self.cycle = cycle
        self.cohort = cohort
        self.representative = representative
        self.category = category
        self.scores = scores
        self.voided = False
        self.command_ids = {command_id: True}

    @event("BallotSheetVoided")
    def void(self, reason: str, actor: str, role: str, command_id: str) -> None:
        """Stored after the session's cut-off: the sheet does not count (and the log says so)."""
        self.voided = True
        self._mark(command_id)


class Adjustment(KaoheAggregate):
    """A bonus item, a downgrade or a veto, proposed by the organizer, decided by the committee."""

    @staticmethod
    def create_id(cycle: str, command_id: str, **_: Any) -> uuid.UUID:
        return adjustment_id(cycle, command_id)

    @event("AdjustmentProposed")
    def __init__(
        self,
        cycle: str,
        unit: str,
        kind: str,
        points: str | None,
        levels: int | None,
        reason: str,
        evidence: str,
        actor: str,
        role: str,
        command_id: str,
    ) -> None:
        self.cycle = cycle
        self.unit = unit
        self.kind = kind
        self.points = points
        self.levels = levels
        self.reason = reason
        self.evidence = evidence
        self.proposer = actor
        self.status = PENDING
        self.decided_by: str | None = None
        self.decision_reason = ""
        self.command_ids = {command_id: True}

    @event("AdjustmentApproved")
    def approve(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = "approved"
        self.decided_by = actor
        self.decision_reason = reason
        self._mark(command_id)

    @event("AdjustmentRejected")
    def reject(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = "rejected"
        self.decided_by = actor
        self.decision_reason = reason
        self._mark(command_id)


def rectification_id(cycle: str, command_id: str, index: int = 0) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"rectification/{cycle}/{command_id}/{index}")


class RectificationItem(KaoheAggregate):
    """A problem to fix (整改事项): owner unit, linked evaluation point, deadline, evidence,
    tracked open → in progress → submitted → verified and closed (销号), or sent back."""

    @staticmethod
    def create_id(cycle: str, command_id: str, index: int = 0, **_: Any) -> uuid.UUID:
        return rectification_id(cycle, command_id, index)

    @event("RectificationItemCreated")
    def __init__(
        self,
        cycle: str,
        unit: str,
        point: str | None,
        description: str,
        deadline: str,
        source: str,
        index: int,
        actor: str,
        role: str,
        command_id: str,
    ) -> None:
        self.cycle = cycle
        self.unit = unit
        self.point = point
        self.description = description
        self.deadline = deadline
        self.source = source
        self.status = "open"
        self.overdue = False
        self.reports: list[dict[str, Any]] = []
        self.carried_to: list[str] = []
        self.command_ids = {command_id: True}

    @event("RectificationProgressReported")
    def report_progress(self, text: str, attachments: list, actor: str, role: str, command_id: str) -> None:
        self.status = "in_progress"
        self.reports.append({"kind": "progress", "text": text, "attachments": attachments, "by": actor})
        self._mark(command_id)

    @event("RectificationSubmitted")
    def submit(self, text: str, attachments: list, actor: str, role: str, command_id: str) -> None:
        self.status = "submitted"
        self.reports.append({"kind": "completion", "text": text, "attachments": attachments, "by": actor})
        self._mark(command_id)

    @event("RectificationSentBack")
    def send_back(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = "in_progress"
        self._mark(command_id)

    @event("RectificationClosed")
    def close(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = "closed"
        self._mark(command_id)

    @event("RectificationReminded")
    def remind(self, days_left: int, actor: str, role: str, command_id: str) -> None:
        self._mark(command_id)

    @event("RectificationOverdue")
    def mark_overdue(self, deadline: str, actor: str, role: str, command_id: str) -> None:
        self.overdue = True
        self._mark(command_id)

    @event("RectificationCarriedOver")
    def carry_over(self, to_cycle: str, actor: str, role: str, command_id: str) -> None:
        self.carried_to.append(to_cycle)
        self._mark(command_id)
