"""The grade allocation: ties and overrides by the committee, its approval (which publishes the
results and drafts each unit's feedback) or its rejection.
"""

from __future__ import annotations

from typing import Any, Mapping

from domain import rules
from domain.aggregates import Cycle, UnitAssessment
from domain.application.committee import Committee
from domain.application.recording import Recorded, already_recorded
from domain.errors import InvalidInput
from domain.grading import Override
from domain.rules import Actor, Role, Subject
from domain.scheme import parse_scheme
from domain.stages import Stage


class Allocation(Committee):
    """Stage 6 (SPEC §3): the committee decides the grades."""

    # Each is a proposal of one committee member at a meeting (``Committee``): it takes effect
    # when ``policy.committee_quorum`` members have confirmed it. ``members``: every committee
    # member and their unit, for the immediate refusal when too few may decide.

    def _at_allocation(self, cycle: str, actor: Actor, command_id: str, with_results: bool = False) -> tuple[Cycle, Recorded | None]:
        """The cycle, and the first answer if this command was recorded before; otherwise a
        committee member with the allocation stage open, or a refusal."""
        c = self.cycle(cycle)
        extra = {"results": c.results} if with_results else {}
        if done := already_recorded(c, command_id, lambda: self._proposed_answer(c, cycle, command_id, **extra)):
            return c, done
        rules.require_role(actor, Role.COMMITTEE)
        rules.require_stage_open(c.stages, Stage.ALLOCATION)
        return c, None

    def resolve_tie(
        self, cycle: str, cohort: Any, units: Any, reason: Any, actor: Actor, command_id: str,
        meeting_date: Any = None, minute_number: Any = None, members: Mapping[str, str | None] | None = None,
    ) -> Recorded:
        c, done = self._at_allocation(cycle, actor, command_id)
        if done:
            return done
        if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            raise InvalidInput("invalid_units", zh="units 须为单位编号列表", en="units must be a list of unit keys", field="units")
        allocation = self.allocation(cycle, ties={cohort: units})  # a bad choice is refused here
        tie = allocation.cohorts[cohort].tie
        concerns = sorted(set(tie.candidates if tie is not None else units))  # every unit of the tie
        text = reason.strip() if isinstance(reason, str) else ""
        return self._propose_on_cycle(
            c, Subject.TIE, {"cohort": cohort, "units": list(units)}, concerns, text, meeting_date, minute_number, members, actor, command_id
        )

    def override_grade(
        self, cycle: str, unit: Any, grade: Any, reason: Any, actor: Actor, command_id: str,
        meeting_date: Any = None, minute_number: Any = None, members: Mapping[str, str | None] | None = None,
    ) -> Recorded:
        c, done = self._at_allocation(cycle, actor, command_id)
        if done:
            return done
        if unit not in c.units:
            raise InvalidInput("unknown_unit", zh=f"单位 {unit} 不在本周期", en="unknown unit", field="unit")
        rules.check_propose_decision(actor, [unit])
        text = reason.strip() if isinstance(reason, str) else ""
        self.allocation(cycle, overrides={unit: Override(grade, text)})  # the rules of §5.7, a reason among them
        return self._propose_on_cycle(
            c, Subject.OVERRIDE, {"unit": unit, "grade": grade}, [unit], text, meeting_date, minute_number, members, actor, command_id
        )

    def approve_allocation(
        self, cycle: str, reason: Any, actor: Actor, command_id: str,
        meeting_date: Any = None, minute_number: Any = None, members: Mapping[str, str | None] | None = None,
    ) -> Recorded:
        """Approving concerns every cohort; once in effect it publishes the results and drafts
        each unit's feedback."""
        c, done = self._at_allocation(cycle, actor, command_id, with_results=True)
        if done:
            return done
        self._approvable_results(cycle)
        text = reason.strip() if isinstance(reason, str) else ""
        return self._propose_on_cycle(
            c, Subject.APPROVE_ALLOCATION, {}, sorted(c.units), text, meeting_date, minute_number, members, actor, command_id
        )

    def _draft_feedback(self, c: Cycle, results: dict, actor: Actor, command_id: str) -> list[UnitAssessment]:
        """SPEC §3 stage 7: a feedback draft per unit from its points below the policy's
        ``rectification_share`` of their max and the evaluators' comments, for the organizer to
        edit and issue."""
        from domain.policy import parse_policy
        from domain.report import feedback_draft

        share = parse_policy(c.policy).rectification_share
        adjustments = [self.adjustment(a) for a in c.adjustments]
        out = []
        for key, info in c.units.items():
            ua = self.unit(c.key, key)
            draft = feedback_draft(
                c.key, key, info["name"], results["units"][key], parse_scheme(c.schemes[info["org_type"]]),
                ua.scores or {}, ua.comments or {},
                [{"unit": a.unit, "kind": a.kind, "points": a.points, "levels": a.levels, "reason": a.reason, "status": a.status}
                 for a in adjustments if a.unit == key],
                cycle_name=c.name, rectification_days=rules.RECTIFICATION_DAYS, rectification_share=share,
            )
            ua.draft_feedback(draft=draft, actor=actor.user, role=actor.role, command_id=command_id)
            out.append(ua)
        return out

    def reject_allocation(
        self, cycle: str, reason: Any, actor: Actor, command_id: str,
        meeting_date: Any = None, minute_number: Any = None, members: Mapping[str, str | None] | None = None,
    ) -> Recorded:
        c, done = self._at_allocation(cycle, actor, command_id)
        if done:
            return done
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("reason_required", zh="退回等次方案必须说明理由", en="a rejection needs a reason", field="reason")
        return self._propose_on_cycle(
            c, Subject.REJECT_ALLOCATION, {}, sorted(c.units), reason.strip(), meeting_date, minute_number, members, actor, command_id
        )
