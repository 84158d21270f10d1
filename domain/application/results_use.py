"""After the results are published: the special report's suggestions, the results-use policy
and the business grades it is checked against.
"""

from __future__ import annotations

from typing import Any

from domain import rules
from domain.aggregates import Cycle
from domain.application.recording import Recorded, UseCases, already_recorded
from domain.errors import Conflict
from domain.rules import Actor, Role


class ResultsUse(UseCases):
    """The organizer's steps on a published cycle."""

    def _require_published(self, c: Cycle, actor: Actor) -> None:
        rules.require_role(actor, Role.ORGANIZER)
        if c.results is None:
            raise Conflict("results_not_published", zh="考核结果公布后才能操作", en="results are not published yet", field="cycle")

    def set_report_suggestions(self, cycle: str, text: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        self._require_published(c, actor)
        body = rules.check_text(text, "text", 20000, "意见建议")
        c.set_suggestions(text=body, previous=c.suggestions or "", actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)

    def set_results_use(self, cycle: str, policy: Any, actor: Actor, command_id: str) -> Recorded:
        from domain.use_of_results import parse_results_use_policy

        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        self._require_published(c, actor)
        parsed = parse_results_use_policy(policy).to_dict()
        c.set_results_use(policy=parsed, previous=c.results_use, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c, policy=parsed)

    def import_business_grades(self, cycle: str, data: Any, file_sha256: str, actor: Actor, command_id: str) -> Recorded:
        from domain.use_of_results import parse_business_grades

        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        self._require_published(c, actor)
        grades = parse_business_grades(data, set(c.units))
        c.import_business_grades(grades=grades, file_sha256=file_sha256, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c, imported=len(grades))
