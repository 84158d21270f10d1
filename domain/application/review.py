"""A unit's self-review (drafts as typed, then its submission) and the evaluators' scoring of it.
"""

from __future__ import annotations

from typing import Any, Mapping

from domain import rules
from domain.application.recording import Recorded, UseCases, _evidence, _once_more_on_collision, _strs, _texts, already_recorded
from domain.errors import DomainError, InvalidInput, all_of
from domain.rules import Actor


class Review(UseCases):
    """Stages 2 and 3 (SPEC §3): self-review and scoring, on the unit's own aggregate."""

    def save_self_review_draft(self, cycle: str, unit: str, scores: Any, evidence: Any, actor: Actor, command_id: str) -> Recorded:
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id):
            return done
        c = self.cycle_to_read(cycle)
        rules.check_self_review(c.stages, actor, unit, ua.self_review_status)
        point_max = self.point_max(c, ua.cohort)
        parsed = rules.parse_point_scores(point_max, scores or {}, field="scores", allow_null=True, complete=False)
        ev = _evidence(evidence, point_max)  # evidence may come before its point's score
        ua.save_draft(scores=_strs(parsed), evidence=ev, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua)

    @_once_more_on_collision
    def check_self_review(self, cycle: str, unit: str, scores: Any, actor: Actor) -> None:
        """What :meth:`submit_self_review` would refuse, stated without storing anything: the page
        checks a sheet with it before it asks the unit to confirm the submission."""
        ua = self.unit(cycle, unit)
        c = self.cycle_to_read(cycle)
        rules.check_self_review(c.stages, actor, unit, ua.self_review_status)
        rules.parse_point_scores(self.point_max(c, ua.cohort), scores, field="scores", allow_null=False, complete=True)

    def submit_self_review(self, cycle: str, unit: str, scores: Any, evidence: Any, actor: Actor, command_id: str) -> Recorded:
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id):
            return done
        c = self.cycle_to_read(cycle)
        rules.check_self_review(c.stages, actor, unit, ua.self_review_status)
        parsed = rules.parse_point_scores(
            self.point_max(c, ua.cohort), scores, field="scores", allow_null=False, complete=True
        )
        ua.submit_self_review(
            scores=_strs(parsed), evidence=_evidence(evidence, parsed), actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(ua)

    @_once_more_on_collision
    def assign_evaluators(
        self, cycle: str, unit: str, evaluators: Any, known: Mapping[str, str | None], actor: Actor, command_id: str
    ) -> Recorded:
        """The organizer assigns the evaluators who score ``unit`` (an empty list: all again).
        ``known``: the evaluators' accounts, username → the unit each belongs to (None: none)."""
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id, {"unit": unit}):
            return done
        chosen = rules.check_assignment(c.stages, actor, c.units, unit, evaluators, known)
        c.assign_evaluators(
            unit=unit, evaluators=chosen, previous=c.evaluators_of(unit), actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(c, unit=unit, evaluators=chosen)

    @_once_more_on_collision
    def submit_scoring(
        self, cycle: str, unit: str, scores: Any, na_reasons: Any, comments: Any, actor: Actor, command_id: str
    ) -> Recorded:
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id):
            return done
        c = self.cycle_to_read(cycle)
        rules.check_scoring(c.stages, actor, unit, ua.self_review_status, ua.scores is not None, c.evaluators_of(unit))
        point_max = self.point_max(c, ua.cohort)
        try:
            parsed = rules.parse_point_scores(point_max, scores, field="scores", allow_null=True, complete=True)
            errors: list[DomainError] = []
            first: DomainError | None = None
        except InvalidInput as refused:  # every bad point, and below every N/A without a reason, at once
            if not isinstance(scores, Mapping):
                raise
            errors, first = list(refused.errors or (refused,)), refused
            parsed, _ = rules.point_score_errors(point_max, scores, field="scores", allow_null=True)
        reasons = _texts(na_reasons, point_max, "na_reasons")
        for code, value in parsed.items():
            if value is None and code not in reasons:
                errors.append(InvalidInput(
                    "na_reason_required",
                    zh=f"要点 {code} 标为不适用，须说明理由", en="a not-applicable point needs a reason",
                    field=f"na_reasons.{code}",
                ))
        if errors:
            raise all_of(errors, first and type(first)(first.code, first.message, first.field))
        ua.submit_scoring(
            scores=_strs(parsed),
            na_reasons=reasons,
            comments=_texts(comments, parsed, "comments"),
            actor=actor.user,
            role=actor.role,
            command_id=command_id,
        )
        return self._save(ua)
