"""Kept for imports: the application lives in ``domain.application`` (use cases by stage).

``KaoheApp`` is ``Assessments`` and ``Outcome`` is ``Recorded`` under their old names, so other
rooms' imports keep working until they are renamed.
"""

from domain.application import (  # noqa: F401
    BALLOT_BOX_CLOSED,
    BALLOT_BOX_CLOSED_TOPICS,
    SHEET_CAST,
    SHEET_CAST_TOPICS,
    SYSTEM,
    AllocationReader,
    Assessments,
    Recorded,
    _once_more_on_collision,
    already_recorded,
)
from domain.application.recording import _evidence, _strs, _texts  # noqa: F401

KaoheApp = Assessments
Outcome = Recorded

__all__ = [
    "BALLOT_BOX_CLOSED",
    "BALLOT_BOX_CLOSED_TOPICS",
    "SHEET_CAST",
    "SHEET_CAST_TOPICS",
    "SYSTEM",
    "AllocationReader",
    "Assessments",
    "KaoheApp",
    "Outcome",
    "Recorded",
    "_evidence",
    "_once_more_on_collision",
    "_strs",
    "_texts",
    "already_recorded",
]
