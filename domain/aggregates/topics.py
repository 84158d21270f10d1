"""The topics the log was written with before the aggregates moved here, and what they mean now.

Until the aggregates were split into this package they lived in ``domain.model``: every event
stored then carries the topic ``domain.model:<Aggregate>.<Event>``, and every created event the
``originator_topic`` ``domain.model:<Aggregate>``. Those rows are never rewritten (the hash chain
covers the topic), so each old topic is registered here for the class that now bears its name.
New events are stored with the new topics (``domain.aggregates.cycle:Cycle.CycleCreated`` …).

The table lists every event ever stored by name, the automatically named ones of
``@event("Name")`` included; ``tests/domain/test_event_versions.py`` checks it against the
committed log and against the aggregates' event classes.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic

from domain.aggregates.adjustment import Adjustment
from domain.aggregates.cycle import Cycle
from domain.aggregates.debrief import BallotSheet, DebriefSession
from domain.aggregates.rectification import RectificationItem
from domain.aggregates.unit import UnitAssessment

#: Where the aggregates lived when the first events were stored.
OLD_MODULE = "domain.model"

#: Aggregate → the names of its events, as stored under ``domain.model``.
EVENTS: dict[type, tuple[str, ...]] = {
    Cycle: (
        "CycleCreated", "UnitRegistered", "CycleOpened", "StageOpened", "StageClosed", "DeadlineSet",
        "StageDeadlineMissed", "AdjustmentFiled", "RectificationFiled", "TieResolved", "GradeOverridden",
        "AllocationRejected", "AllocationApproved", "ResultsPublished", "ReportSuggestionsSet",
        "ResultsUsePolicySet", "BusinessGradesImported", "CycleClosed",
    ),
    UnitAssessment: (
        "UnitAssessmentStarted", "SelfReviewDraftSaved", "SelfReviewSubmitted", "SelfReviewNotSubmitted",
        "ScoringSubmitted", "FeedbackDrafted", "FeedbackIssued", "FeedbackAcknowledged",
    ),
    DebriefSession: ("DebriefSessionOpened", "BallotCast", "BallotBoxClosed", "DebriefSessionClosed"),
    BallotSheet: ("BallotSheetCast", "BallotSheetVoided"),
    Adjustment: ("AdjustmentProposed", "AdjustmentApproved", "AdjustmentRejected"),
    RectificationItem: (
        "RectificationItemCreated", "RectificationProgressReported", "RectificationSubmitted",
        "RectificationSentBack", "RectificationClosed", "RectificationReminded", "RectificationOverdue",
        "RectificationCarriedOver",
    ),
}


def old_topics() -> dict[str, type]:
    """Every ``domain.model:`` topic, aggregates and events, with the class it means today."""
    out: dict[str, type] = {}
    for aggregate, names in EVENTS.items():
        out[f"{OLD_MODULE}:{aggregate.__name__}"] = aggregate
        for name in names:
            out[f"{OLD_MODULE}:{aggregate.__name__}.{name}"] = getattr(aggregate, name)
    return out


def register_old_topics() -> None:
    for topic, cls in old_topics().items():
        register_topic(topic, cls)


register_old_topics()
