"""Kaohe's use cases: ``Assessments``, the record of every cycle's decisions.

One method per use case: load, decide (``domain.rules``), save. The methods are grouped by the
stage they belong to, one mixin module each, composed here:

- ``setup``: create a cycle, register units, open it, open and close stages, deadlines, close it
- ``review``: self-review drafts and submission, scoring
- ``debrief``: ballot sheets, closing sessions
- ``adjustments``: proposing and deciding bonus items, downgrades and vetoes
- ``allocation``: ties, overrides, approving or rejecting the allocation
- ``feedback``: feedback drafts, issuing, acknowledging
- ``rectification``: rectification items to closure, reminders, carrying over
- ``results_use``: report suggestions, results-use policy, business grades import
- ``accounts``: the admin's changes to accounts (created, role or unit, password reset, deactivated)
- ``reading``: grades from aggregates (``AllocationReader``) and loading aggregates (``Loading``)
- ``recording``: what a command answers (``Recorded``), the idempotency guard, saving
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from domain.application.accounts import AccountRecords
from domain.application.adjustments import Adjustments
from domain.application.allocation import Allocation
from domain.application.debrief import Debrief
from domain.application.feedback import Feedback
from domain.application.reading import (
    BALLOT_BOX_CLOSED,
    BALLOT_BOX_CLOSED_TOPICS,
    SHEET_CAST,
    SHEET_CAST_TOPICS,
    AllocationReader,
    Loading,
)
from domain.application.recording import SYSTEM, Recorded, _once_more_on_collision, already_recorded
from domain.application.rectification import Rectification
from domain.application.results_use import ResultsUse
from domain.application.review import Review
from domain.application.setup import Setup


class Assessments(Setup, Review, Debrief, Adjustments, Allocation, Feedback, Rectification, ResultsUse, AccountRecords,
                  Application[UUID]):
    """The record of every cycle's decisions: each use case checks its rule, records its events
    and answers what it recorded (``Recorded``)."""

    name = "Kaohe"


__all__ = [
    "BALLOT_BOX_CLOSED",
    "BALLOT_BOX_CLOSED_TOPICS",
    "SHEET_CAST",
    "SHEET_CAST_TOPICS",
    "SYSTEM",
    "AllocationReader",
    "Assessments",
    "Loading",
    "Recorded",
    "_once_more_on_collision",
    "already_recorded",
]
