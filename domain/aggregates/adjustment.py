"""A bonus item, a downgrade or a veto for one unit (``Adjustment``): proposed by the organizer,
approved or rejected by the committee."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, adjustment_id
from domain.rules import AdjustmentStatus


class Adjustment(KaoheAggregate):
    """A bonus item, a downgrade or a veto, proposed by the organizer, decided by the committee."""

    @staticmethod
    def create_id(cycle: str, command_id: str, **_: Any) -> uuid.UUID:
        return adjustment_id(cycle, command_id)

    # ------------------------------------------------------------------ events

    class AdjustmentProposed(Aggregate.Created):
        """``kind``: bonus (``points``, a decimal string), downgrade (``levels``) or veto."""

        class_version = 1
        cycle: str
        unit: str
        kind: str
        points: str | None
        levels: int | None
        reason: str
        evidence: str
        actor: str
        role: str
        command_id: str

    class AdjustmentApproved(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class AdjustmentRejected(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    # ------------------------------------------------------------------ commands

    @event(AdjustmentProposed)
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
        self.status = AdjustmentStatus.PENDING
        self.decided_by: str | None = None
        self.decision_reason = ""
        self.command_ids = {command_id: True}

    @event(AdjustmentApproved)
    def approve(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = AdjustmentStatus.APPROVED
        self.decided_by = actor
        self.decision_reason = reason
        self._mark(command_id)

    @event(AdjustmentRejected)
    def reject(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = AdjustmentStatus.REJECTED
        self.decided_by = actor
        self.decision_reason = reason
        self._mark(command_id)
