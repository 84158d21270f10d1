"""Bonus items, downgrades and vetoes: proposed by the organizer, decided by the committee.
"""

from __future__ import annotations

from typing import Any, Mapping

from domain import rules
from domain.aggregates import Adjustment, adjustment_id, proposal_id
from domain.application.committee import Committee
from domain.application.recording import Recorded, already_recorded
from domain.errors import Conflict, InvalidInput, NotFound
from domain.rules import Actor, Decision


class Adjustments(Committee):
    """Stage 5 (SPEC §3)."""

    def propose_adjustment(
        self, cycle: str, unit: Any, kind: Any, points: Any, levels: Any, reason: Any, evidence: Any, actor: Actor, command_id: str
    ) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id, {"adjustment": str(adjustment_id(cycle, command_id))}):
            return done
        rules.check_propose(c.stages, actor)
        if unit not in c.units:
            raise InvalidInput("unknown_unit", zh=f"单位 {unit} 不在本周期", en="unknown unit", field="unit")
        kind, p, lv = rules.parse_adjustment(kind, points, levels, reason)
        a = Adjustment(
            cycle=cycle,
            unit=unit,
            kind=kind,
            points=None if p is None else str(p),
            levels=lv,
            reason=reason.strip(),
            evidence=evidence.strip() if isinstance(evidence, str) else "",
            actor=actor.user,
            role=actor.role,
            command_id=command_id,
        )
        c.file_adjustment(adjustment=str(a.id), unit=unit, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save_new(a, lambda: self.adjustment(str(a.id)), c, adjustment=str(a.id))

    def decide_adjustment(
        self, cycle: str, adjustment: str, decision: Any, reason: Any, actor: Actor, command_id: str,
        meeting_date: Any = None, minute_number: Any = None, members: Mapping[str, str | None] | None = None,
    ) -> Recorded:
        """A committee member proposes, at a meeting, to approve or reject the adjustment; it takes
        effect when the quorum has confirmed it (``Committee.confirm_decision``)."""
        a = self.adjustment(adjustment)
        if a.cycle != cycle:
            raise NotFound("adjustment_not_found", zh="该调整事项不属于此周期", en="not an adjustment of this cycle", field="adjustment")
        if done := already_recorded(a, command_id, lambda: self._proposed_answer(a, cycle, command_id)):
            return done
        c = self.cycle(cycle)
        rules.check_decide(c.stages, actor, a.unit, a.proposer, a.status)
        decision = rules.check_decision(decision, reason)
        text = reason.strip() if isinstance(reason, str) else ""
        day, minute, quorum = self._check_meeting_and_members(c, actor, [a.unit], meeting_date, minute_number, members)
        if (pending := a.pending_proposal()) is not None:
            raise Conflict(
                "proposal_pending",
                zh=f"该事项已有待确认的提议 ({pending['id']})，请先确认或提出异议", en="a proposal on it is pending: confirm it or object first",
                field="proposal",
            )
        pid = proposal_id(cycle, command_id)
        a.propose_decision(
            proposal=pid, decision=decision, reason=text, meeting_date=day, minute_number=minute,
            actor=actor.user, role=actor.role, command_id=command_id,
        )
        return self._settle_adjustment(a, pid, quorum, actor, command_id)
