"""What a workflow asks the domain to record: one typed step per use case.

Each step is the input of one activity in ``workflows.activities`` and names exactly the
arguments of the ``Assessments`` use case it runs; every activity returns the use case's
``domain.app.Recorded`` (the log position written, and what the use case reports). A reader
and a type checker see what each step takes and returns; nothing is dispatched by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

with __import__("temporalio").workflow.unsafe.imports_passed_through():
    from workflows.messages import SignedActor


@dataclass
class OpenCycleStep:
    cycle: str
    actor: SignedActor
    command_id: str


@dataclass
class OpenStageStep:
    cycle: str
    stage: str
    actor: SignedActor
    command_id: str


@dataclass
class CloseStageStep:
    cycle: str
    stage: str
    reason: str
    actor: SignedActor
    command_id: str


@dataclass
class SetDeadlineStep:
    cycle: str
    stage: str
    deadline: str | None
    actor: SignedActor
    command_id: str


@dataclass
class DeadlineMissedStep:
    cycle: str
    stage: str
    deadline: str
    command_id: str


@dataclass
class SelfReviewStep:
    cycle: str
    unit: str
    scores: dict[str, Any]
    evidence: dict[str, str]
    actor: SignedActor
    command_id: str


@dataclass
class ScoringStep:
    cycle: str
    unit: str
    scores: dict[str, Any]
    na_reasons: dict[str, str]
    comments: dict[str, str]
    actor: SignedActor
    command_id: str


@dataclass
class CastBallotStep:
    """Only for debrief sessions started before sheets went straight to the domain."""

    cycle: str
    cohort: str
    representative: str
    category: str | None
    scores: dict[str, Any]
    actor: SignedActor
    command_id: str


@dataclass
class CloseSessionStep:
    cycle: str
    cohort: str
    actor: SignedActor
    command_id: str
    reason: str | None = None


@dataclass
class ProposeAdjustmentStep:
    cycle: str
    unit: str
    kind: str
    points: Any
    levels: Any
    reason: str
    evidence: str
    actor: SignedActor
    command_id: str


@dataclass
class DecideAdjustmentStep:
    cycle: str
    adjustment: str
    decision: str
    reason: str
    actor: SignedActor
    command_id: str
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None


@dataclass
class ResolveTieStep:
    cycle: str
    cohort: str
    units: list[str]
    reason: str
    actor: SignedActor
    command_id: str
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None


@dataclass
class OverrideGradeStep:
    cycle: str
    unit: str
    grade: str
    reason: str
    actor: SignedActor
    command_id: str
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None


@dataclass
class CycleDecisionStep:
    """Approving or sending back the allocation, closing the cycle: a cycle and a reason."""

    cycle: str
    reason: str
    actor: SignedActor
    command_id: str


@dataclass
class AllocationDecisionStep:
    """Approving or sending back the allocation: a proposal at a meeting."""

    cycle: str
    reason: str
    actor: SignedActor
    command_id: str
    meeting_date: Any = None
    minute_number: Any = None
    members: dict[str, str | None] | None = None


@dataclass
class ConfirmDecisionStep:
    cycle: str
    proposal: str
    actor: SignedActor
    command_id: str


@dataclass
class ObjectDecisionStep:
    cycle: str
    proposal: str
    reason: str
    actor: SignedActor
    command_id: str


@dataclass
class IssueFeedbackStep:
    cycle: str
    unit: str
    text: str
    actor: SignedActor
    command_id: str


@dataclass
class AcknowledgeFeedbackStep:
    cycle: str
    unit: str
    actor: SignedActor
    command_id: str


@dataclass
class CreateRectificationStep:
    cycle: str
    unit: str
    point: str | None
    description: str
    deadline: str | None
    actor: SignedActor
    command_id: str


@dataclass
class ReportRectificationStep:
    item: str
    text: str
    actor: SignedActor
    command_id: str
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class VerifyRectificationStep:
    item: str
    decision: str
    reason: str
    actor: SignedActor
    command_id: str


@dataclass
class RemindRectificationStep:
    item: str
    days_left: int
    command_id: str


@dataclass
class RectificationOverdueStep:
    item: str
    command_id: str
