"""One unit in one cycle (``UnitAssessment``): its self-review, the evaluators' scoring of it,
and the feedback it is given and acknowledges."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, unit_id
from domain.rules import FeedbackStatus, SelfReviewStatus


class UnitAssessment(KaoheAggregate):
    """One unit in one cycle: its self-review, its evaluators' scoring, its feedback."""

    @staticmethod
    def create_id(cycle: str, unit: str, **_: Any) -> uuid.UUID:
        return unit_id(cycle, unit)

    # ------------------------------------------------------------------ events

    class UnitAssessmentStarted(Aggregate.Created):
        """v2 has ``name`` (the unit's name as registered). The first v1 events had none: they
        take the unit's key, which is what a reader is shown where a unit has no name. (v1
        events written later already carry it, and keep it.)"""

        class_version = 2
        cycle: str
        unit: str
        name: str
        cohort: str
        actor: str
        role: str
        command_id: str

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state.setdefault("name", state["unit"])

    class SelfReviewDraftSaved(Aggregate.Event):
        class_version = 1
        scores: dict
        evidence: dict
        actor: str
        role: str
        command_id: str

    class SelfReviewSubmitted(Aggregate.Event):
        class_version = 1
        scores: dict
        evidence: dict
        actor: str
        role: str
        command_id: str

    class SelfReviewNotSubmitted(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class ScoringSubmitted(Aggregate.Event):
        """``scores``: point → score as a decimal string, or None (not applicable, with its
        reason in ``na_reasons``)."""

        class_version = 1
        scores: dict
        na_reasons: dict
        comments: dict
        actor: str
        role: str
        command_id: str

    class FeedbackDrafted(Aggregate.Event):
        class_version = 1
        draft: dict
        actor: str
        role: str
        command_id: str

    class FeedbackIssued(Aggregate.Event):
        class_version = 1
        text: str
        actor: str
        role: str
        command_id: str

    class FeedbackAcknowledged(Aggregate.Event):
        class_version = 1
        actor: str
        role: str
        command_id: str

    class UnitReminded(Aggregate.Event):
        """The organizer reminded (催办) the unit of a step it has not taken (``stage``:
        ``self_review``, ``feedback`` or ``rectification``; ``note``: what they added, may be empty)."""

        class_version = 1
        stage: str
        note: str
        actor: str
        role: str
        command_id: str

    # ------------------------------------------------------------------ commands

    @event(UnitAssessmentStarted)
    def __init__(self, cycle: str, unit: str, name: str, cohort: str, actor: str, role: str, command_id: str) -> None:
        self.cycle = cycle
        self.unit = unit
        self.name = name
        self.cohort = cohort
        self.self_review_status = SelfReviewStatus.PENDING
        self.self_scores: dict[str, str | None] = {}
        self.self_evidence: dict[str, str] = {}
        self.draft: dict[str, Any] = {}
        self.scores: dict[str, str | None] | None = None
        self.na_reasons: dict[str, str] = {}
        self.comments: dict[str, str] = {}
        self.feedback_status = FeedbackStatus.NONE
        self.feedback_text = ""
        self.feedback_draft: dict | None = None
        self.command_ids = {command_id: True}

    @event(SelfReviewDraftSaved)
    def save_draft(self, scores: dict, evidence: dict, actor: str, role: str, command_id: str) -> None:
        self.draft = {"scores": scores, "evidence": evidence}
        self._mark(command_id)

    @event(SelfReviewSubmitted)
    def submit_self_review(self, scores: dict, evidence: dict, actor: str, role: str, command_id: str) -> None:
        self.self_review_status = SelfReviewStatus.SUBMITTED
        self.self_scores = scores
        self.self_evidence = evidence
        self._mark(command_id)

    @event(SelfReviewNotSubmitted)
    def miss_self_review(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.self_review_status = SelfReviewStatus.MISSED
        self._mark(command_id)

    @event(ScoringSubmitted)
    def submit_scoring(
        self, scores: dict, na_reasons: dict, comments: dict, actor: str, role: str, command_id: str
    ) -> None:
        self.scores = scores
        self.na_reasons = na_reasons
        self.comments = comments
        self._mark(command_id)

    @event(FeedbackDrafted)
    def draft_feedback(self, draft: dict, actor: str, role: str, command_id: str) -> None:
        self.feedback_draft = draft
        self._mark(command_id)

    @event(FeedbackIssued)
    def issue_feedback(self, text: str, actor: str, role: str, command_id: str) -> None:
        self.feedback_status = FeedbackStatus.ISSUED
        self.feedback_text = text
        self._mark(command_id)

    @event(FeedbackAcknowledged)
    def acknowledge_feedback(self, actor: str, role: str, command_id: str) -> None:
        self.feedback_status = FeedbackStatus.ACKNOWLEDGED
        self._mark(command_id)

    @event(UnitReminded)
    def remind(self, stage: str, note: str, actor: str, role: str, command_id: str) -> None:
        self._mark(command_id)
