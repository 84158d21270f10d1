"""The grade allocation: ties and overrides by the committee, its approval (which publishes the
results and drafts each unit's feedback) or its rejection.
"""

from __future__ import annotations

from typing import Any

from domain import grading, rules
from domain.aggregates import Cycle, UnitAssessment
from domain.application.recording import Recorded, UseCases, already_recorded
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.grading import Override
from domain.rules import Actor, Role
from domain.scheme import parse_scheme
from domain.stages import Stage


class Allocation(UseCases):
    """Stage 6 (SPEC §3): the committee decides the grades."""

    def resolve_tie(self, cycle: str, cohort: Any, units: Any, reason: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        rules.require_role(actor, Role.COMMITTEE)
        rules.require_stage_open(c.stages, Stage.ALLOCATION)
        if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            raise InvalidInput("invalid_units", "units 须为单位编号列表 / units must be a list of unit keys", "units")
        allocation = self.allocation(cycle, ties={cohort: units})
        c.resolve_tie(
            cohort=cohort, units=units, reason=reason if isinstance(reason, str) else "", actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(c, problems=allocation.problems())

    def override_grade(self, cycle: str, unit: Any, grade: Any, reason: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        rules.require_role(actor, Role.COMMITTEE)
        rules.require_stage_open(c.stages, Stage.ALLOCATION)
        if unit not in c.units:
            raise InvalidInput("unknown_unit", f"单位 {unit} 不在本周期 / unknown unit", "unit")
        if actor.unit is not None and actor.unit == unit:
            raise Forbidden("attached_to_unit", f"您隶属于 {unit}，须回避 / a member attached to the unit must abstain")
        before = self.allocation(cycle).unit(unit).grade
        allocation = self.allocation(cycle, overrides={unit: Override(grade, reason if isinstance(reason, str) else "")})
        c.override(
            unit=unit, grade=grade, previous=before, reason=reason.strip(), actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(c, problems=allocation.problems())

    def approve_allocation(self, cycle: str, reason: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id, {"results": c.results}):
            return done
        rules.require_role(actor, Role.COMMITTEE)
        rules.require_stage_open(c.stages, Stage.ALLOCATION)
        allocation = self.allocation(cycle)
        problems = allocation.problems()
        if problems:
            raise Conflict(
                "allocation_not_approvable",
                "等次方案尚不能批准：" + "；".join(problems) + " / the allocation cannot be approved yet",
                "allocation",
            )
        results = grading.results_document(cycle, allocation)
        text = reason.strip() if isinstance(reason, str) else ""
        c.approve_allocation(reason=text, actor=actor.user, role=actor.role, command_id=command_id)
        c.publish(results=results, actor=actor.user, role=actor.role, command_id=command_id)
        drafts = self._draft_feedback(c, results, actor, command_id)
        return self._save(c, *drafts, results=results)

    def _draft_feedback(self, c: Cycle, results: dict, actor: Actor, command_id: str) -> list[UnitAssessment]:
        """SPEC §3 stage 7: a feedback draft per unit from its lowest-scoring points and the
        evaluators' comments, for the organizer to edit and issue."""
        from domain.report import feedback_draft

        adjustments = [self.adjustment(a) for a in c.adjustments]
        out = []
        for key, info in c.units.items():
            ua = self.unit(c.key, key)
            draft = feedback_draft(
                c.key, key, info["name"], results["units"][key], parse_scheme(c.schemes[info["org_type"]]),
                ua.scores or {}, ua.comments or {},
                [{"unit": a.unit, "kind": a.kind, "points": a.points, "levels": a.levels, "reason": a.reason, "status": a.status}
                 for a in adjustments if a.unit == key],
                cycle_name=c.name, rectification_days=rules.RECTIFICATION_DAYS,
            )
            ua.draft_feedback(draft=draft, actor=actor.user, role=actor.role, command_id=command_id)
            out.append(ua)
        return out

    def reject_allocation(self, cycle: str, reason: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        rules.require_role(actor, Role.COMMITTEE)
        rules.require_stage_open(c.stages, Stage.ALLOCATION)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("reason_required", "退回等次方案必须说明理由 / a rejection needs a reason", "reason")
        c.reject_allocation(reason=reason.strip(), actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)
