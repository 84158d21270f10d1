"""A bonus item, a downgrade or a veto for one unit (``Adjustment``): proposed by the organizer,
approved or rejected by the committee."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, adjustment_id
from domain.rules import AdjustmentStatus, ProposalStatus


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

    class DecisionProposed(Aggregate.Event):
        """A committee member proposes, at a meeting, to approve or reject it; the proposal is
        their confirmation. It takes effect when the quorum has confirmed it (SPEC §1)."""

        class_version = 1
        proposal: str
        decision: str
        reason: str
        meeting_date: str
        minute_number: str
        actor: str
        role: str
        command_id: str

    class DecisionConfirmed(Aggregate.Event):
        class_version = 1
        proposal: str
        actor: str
        role: str
        command_id: str

    class DecisionObjected(Aggregate.Event):
        """A member objects: the proposal ends without effect (a new one may follow)."""

        class_version = 1
        proposal: str
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
        self.proposals: dict[str, dict] = {}  # the committee's proposals, by id, in order
        self.command_ids = {command_id: True}

    @event(DecisionProposed)
    def propose_decision(
        self, proposal: str, decision: str, reason: str, meeting_date: str, minute_number: str, actor: str, role: str, command_id: str
    ) -> None:
        self.proposals[proposal] = {
            "id": proposal, "subject": "adjustment", "adjustment": str(self.id), "unit": self.unit,
            "details": {"decision": decision}, "decision": decision, "reason": reason,
            "meeting_date": meeting_date, "minute_number": minute_number, "proposer": actor,
            "confirmed_by": [actor], "concerns": [self.unit], "status": ProposalStatus.PENDING, "objection": None,
        }
        self._mark(command_id)

    @event(DecisionConfirmed)
    def confirm_decision(self, proposal: str, actor: str, role: str, command_id: str) -> None:
        self.proposals[proposal]["confirmed_by"].append(actor)
        self._mark(command_id)

    @event(DecisionObjected)
    def object_to_decision(self, proposal: str, reason: str, actor: str, role: str, command_id: str) -> None:
        self.proposals[proposal]["status"] = ProposalStatus.OBJECTED
        self.proposals[proposal]["objection"] = {"by": actor, "reason": reason}
        self._mark(command_id)

    def pending_proposal(self) -> dict | None:
        return next((p for p in getattr(self, "proposals", {}).values() if p["status"] == ProposalStatus.PENDING), None)

    def _adopt(self, command_id: str) -> None:
        if (p := self.pending_proposal()) is not None:
            p["status"] = ProposalStatus.ADOPTED
            p["effect_command"] = command_id

    @event(AdjustmentApproved)
    def approve(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._adopt(command_id)
        self.status = AdjustmentStatus.APPROVED
        self.decided_by = actor
        self.decision_reason = reason
        self._mark(command_id)

    @event(AdjustmentRejected)
    def reject(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._adopt(command_id)
        self.status = AdjustmentStatus.REJECTED
        self.decided_by = actor
        self.decision_reason = reason
        self._mark(command_id)
