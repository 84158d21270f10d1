"""The cycle's stage machine (SPEC §3), stated once.

Each function names one step of the cycle and returns the ``Transition`` it makes: which
stages change to which status, and the cycle's new status where it changes. The ``Cycle``
aggregate applies them when it records its events, the cycle workflow applies the very same
transitions to the stages it keeps for its validators and timers, and the read models apply
them when they project the events, so no layer restates when a stage opens or closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Mapping


class Stage(StrEnum):
    """The cycle's stages after setup, in order (SPEC §3). Stages 2–4 may overlap; 5 and 6 are
    cycle-wide. The values are the strings stored in events, read models and JSON."""

    SELF_REVIEW = "self_review"
    SCORING = "scoring"
    DEBRIEF = "debrief"
    ADJUSTMENTS = "adjustments"
    ALLOCATION = "allocation"
    FEEDBACK = "feedback"


class StageStatus(StrEnum):
    """Where one stage stands."""

    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class CycleStatus(StrEnum):
    """Where the cycle as a whole stands."""

    SETUP = "setup"
    OPEN = "open"
    PUBLISHED = "published"
    CLOSED = "closed"


PENDING, OPEN, CLOSED = StageStatus.PENDING, StageStatus.OPEN, StageStatus.CLOSED
STAGES: tuple[Stage, ...] = tuple(Stage)


@dataclass(frozen=True)
class Transition:
    changes: Mapping[str, str] = field(default_factory=dict)  # stage -> its new status
    status: str | None = None  # the cycle's new status (None: unchanged)

    def apply(self, stages: Mapping[str, str]) -> dict[str, str]:
        return {**stages, **self.changes}


def initial() -> dict[str, str]:
    return {s: PENDING for s in STAGES}


def cycle_opened() -> Transition:
    """Opening the cycle opens self-review."""
    return Transition({Stage.SELF_REVIEW: OPEN}, CycleStatus.OPEN)


def stage_opened(stage: str) -> Transition:
    return Transition({stage: OPEN})


def stage_closed(stage: str) -> Transition:
    """Closing the adjustments stage opens the grade allocation."""
    changes = {stage: CLOSED}
    if stage == Stage.ADJUSTMENTS:
        changes[Stage.ALLOCATION] = OPEN
    return Transition(changes)


def deadline_missed(stage: str, stages: Mapping[str, str]) -> Transition:
    """A missed self-review deadline closes self-review (SPEC §7); other stages stay open and
    the organizer is told."""
    if stage == Stage.SELF_REVIEW and stages.get(Stage.SELF_REVIEW) == OPEN:
        return stage_closed(Stage.SELF_REVIEW)
    return Transition()


def closes_itself_at_deadline(stage: str) -> bool:
    return stage == Stage.SELF_REVIEW


def missed_overdue(deadline: str | None, missed_at: str | None) -> bool:
    """A self-review recorded as not submitted is *overdue* (逾期未交) only when its deadline had
    passed when it was recorded; closed by the organizer before any deadline, it is "not
    submitted, the stage closed" (未提交（阶段已结束）). Times are ISO 8601 with a zone."""
    if not deadline or not missed_at:
        return False
    try:
        return datetime.fromisoformat(missed_at) >= datetime.fromisoformat(deadline)
    except (ValueError, TypeError):
        return False


def allocation_rejected() -> Transition:
    """Sending the allocation back reopens the adjustments."""
    return Transition({Stage.ALLOCATION: PENDING, Stage.ADJUSTMENTS: OPEN})


def allocation_approved() -> Transition:
    return Transition({Stage.ALLOCATION: CLOSED})


def results_published() -> Transition:
    """Publishing the results opens the feedback stage."""
    return Transition({Stage.FEEDBACK: OPEN}, CycleStatus.PUBLISHED)


def approval() -> tuple[Transition, ...]:
    """Approving the allocation publishes the results at once."""
    return (allocation_approved(), results_published())


def cycle_closed() -> Transition:
    return Transition({Stage.FEEDBACK: CLOSED}, CycleStatus.CLOSED)
