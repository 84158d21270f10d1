"""Bonus items, downgrades and vetoes: proposed by the organizer, decided by the committee.
"""

from __future__ import annotations

from typing import Any

from domain import rules
from domain.aggregates import Adjustment, adjustment_id
from domain.application.recording import Recorded, UseCases, already_recorded
from domain.errors import InvalidInput, NotFound
from domain.rules import Actor, Decision


class Adjustments(UseCases):
    """Stage 5 (SPEC §3)."""

    def propose_adjustment(
        self, cycle: str, unit: Any, kind: Any, points: Any, levels: Any, reason: Any, evidence: Any, actor: Actor, command_id: str
    ) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id, {"adjustment": str(adjustment_id(cycle, command_id))}):
            return done
        rules.check_propose(c.stages, actor)
        if unit not in c.units:
            raise InvalidInput("unknown_unit", f"单位 {unit} 不在本周期 / unknown unit", "unit")
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
        self, cycle: str, adjustment: str, decision: Any, reason: Any, actor: Actor, command_id: str
    ) -> Recorded:
        a = self.adjustment(adjustment)
        if a.cycle != cycle:
            raise NotFound("adjustment_not_found", "该调整事项不属于此周期 / not an adjustment of this cycle", "adjustment")
        if done := already_recorded(a, command_id):
            return done
        c = self.cycle(cycle)
        rules.check_decide(c.stages, actor, a.unit, a.proposer, a.status)
        decision = rules.check_decision(decision, reason)
        text = reason.strip() if isinstance(reason, str) else ""
        if decision == Decision.APPROVE:
            a.approve(reason=text, actor=actor.user, role=actor.role, command_id=command_id)
        else:
            a.reject(reason=text, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(a)
