"""The cycle's stage machine (SPEC §3), stated once.

Each function names one step of the cycle and returns the ``Transition`` it makes: which
stages change to which status, and the cycle's new status where it changes. The ``Cycle``
aggregate applies them when it records its events, the cycle workflow applies the very same
transitions to the stages it keeps for its validators and timers, and the read models apply
them when they project the events, so no layer restates when a stage opens or closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from domain.rules import CLOSED, OPEN, PENDING, STAGES


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
    return Transition({"self_review": OPEN}, "open")


def stage_opened(stage: str) -> Transition:
    return Transition({stage: OPEN})


def stage_closed(stage: str) -> Transition:
    """Closing the adjustments stage opens the grade allocation."""
    changes = {stage: CLOSED}
    if stage == "adjustments":
        changes["allocation"] = OPEN
    return Transition(changes)


def deadline_missed(stage: str, stages: Mapping[str, str]) -> Transition:
    """A missed self-review deadline closes self-review (SPEC §7); other stages stay open and
    the organizer is told."""
    if stage == "self_review" and stages.get("self_review") == OPEN:
        return stage_closed("self_review")
    return Transition()


def closes_itself_at_deadline(stage: str) -> bool:
    return stage == "self_review"


def allocation_rejected() -> Transition:
    """Sending the allocation back reopens the adjustments."""
    return Transition({"allocation": PENDING, "adjustments": OPEN})


def allocation_approved() -> Transition:
    return Transition({"allocation": CLOSED})


def results_published() -> Transition:
    """Publishing the results opens the feedback stage."""
    return Transition({"feedback": OPEN}, "published")


def approval() -> tuple[Transition, ...]:
    """Approving the allocation publishes the results at once."""
    return (allocation_approved(), results_published())


def cycle_closed() -> Transition:
    return Transition({"feedback": CLOSED}, "closed")
