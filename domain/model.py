"""Kept for imports and topics: the aggregates live in ``domain.aggregates`` (one module each).

Other rooms import ids and aggregates from here, and the first events were stored with topics
``domain.model:<Aggregate>.<Event>`` — those are registered in ``domain.aggregates.topics``
(importing ``domain.aggregates`` does it), and would resolve through these names as well.
"""

from domain.aggregates import (  # noqa: F401
    NAMESPACE,
    Adjustment,
    BallotSheet,
    Cycle,
    DebriefSession,
    KaoheAggregate,
    RectificationItem,
    UnitAssessment,
    adjustment_id,
    cycle_id,
    rectification_id,
    session_id,
    sheet_id,
    unit_id,
)

__all__ = [
    "NAMESPACE",
    "Adjustment",
    "BallotSheet",
    "Cycle",
    "DebriefSession",
    "KaoheAggregate",
    "RectificationItem",
    "UnitAssessment",
    "adjustment_id",
    "cycle_id",
    "rectification_id",
    "session_id",
    "sheet_id",
    "unit_id",
]
