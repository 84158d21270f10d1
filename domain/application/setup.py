"""Setting a cycle up and moving it through its stages: create it, register units, open it,
open and close stages, deadlines, close the cycle.
"""

from __future__ import annotations

from typing import Any, Mapping

from domain import rules
from domain.aggregates import Cycle, DebriefSession, UnitAssessment
from domain.application.recording import SYSTEM, Recorded, UseCases, already_recorded
from domain.errors import Conflict, InvalidInput
from domain.policy import parse_categories, parse_policy
from domain.rules import CLOSED, OPEN, Actor, Role, SelfReviewStatus
from domain.scheme import resolve_scheme, validate_org_type
from domain.stages import CycleStatus, Stage
from domain import wording


class Setup(UseCases):
    """The organizer's steps that shape the cycle (most before or between the workflow's stages)."""

    def create_cycle(
        self,
        key: Any,
        year: Any,
        name: Any,
        policy: Any,
        schemes: Any,
        categories: Any,
        deadlines: Any,
        actor: Actor,
        command_id: str,
    ) -> Recorded:
        rules.require_role(actor, Role.ORGANIZER)
        rules.check_key(key, "key", "invalid_key", "周期编号")
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            raise InvalidInput("invalid_year", zh="年度须为 2000–2100 的整数", en="year must be an integer 2000..2100", field="year")
        name = rules.check_text(name, "name", label="周期名称")
        parsed_policy = parse_policy(policy)
        parsed_categories = parse_categories(categories)
        if not isinstance(schemes, Mapping) or not schemes:
            raise InvalidInput("schemes_required", zh="至少为一种党组织类型指定指标体系", en="give a scheme per org type", field="schemes")
        trees = {}
        for org_type, tree in schemes.items():
            validate_org_type(org_type, f"schemes.{org_type}")
            trees[org_type] = resolve_scheme(tree, f"schemes.{org_type}").to_dict()
        deadlines = deadlines or {}
        if not isinstance(deadlines, Mapping):
            raise InvalidInput("invalid_deadline", zh="deadlines 须为对象", en="must be an object", field="deadlines")
        parsed_deadlines = {}
        for stage, value in deadlines.items():
            if stage not in rules.STAGES:
                raise InvalidInput("unknown_stage", zh=f"未知阶段 {stage}", en="unknown stage", field=f"deadlines.{stage}")
            parsed = rules.parse_deadline(value, f"deadlines.{stage}")
            if parsed:
                parsed_deadlines[stage] = parsed
        if self.has_cycle(key):
            existing = self.cycle(key)
            if done := already_recorded(existing, command_id, {"cycle": key}):
                return done
            raise Conflict("cycle_exists", zh=f"考核周期 {key} 已存在", en="a cycle with this key exists", field="key")
        c = Cycle(
            key=key,
            year=year,
            name=name.strip(),
            policy=parsed_policy.to_dict(),
            schemes=trees,
            categories={k: str(v) for k, v in parsed_categories.items()},
            deadlines=parsed_deadlines,
            actor=actor.user,
            role=actor.role,
            command_id=command_id,
        )
        return self._save_new(c, lambda: self.cycle(key), cycle=key)

    def register_units(self, cycle: str, units: Any, actor: Actor, command_id: str) -> Recorded:
        rules.require_role(actor, Role.ORGANIZER)
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id, {"registered": 0}):
            return done
        if c.status != CycleStatus.SETUP:
            raise Conflict("cycle_not_in_setup", zh="周期已开启，不能再登记单位", en="units are registered during setup only", field="cycle")
        if not isinstance(units, list) or not units:
            raise InvalidInput("units_required", zh="请至少登记一个单位", en="give at least one unit", field="units")
        new: list[UnitAssessment] = []
        seen: set[str] = set()
        for i, u in enumerate(units):
            where = f"units[{i}]"
            if not isinstance(u, Mapping):
                raise InvalidInput("invalid_unit", zh=f"第 {i + 1} 个单位须为对象", en=f"unit {i + 1} must be an object", field=where)
            key, name, org_type = u.get("key"), u.get("name"), u.get("org_type")
            rules.check_key(key, f"{where}.key", "invalid_unit_key", "单位编号")
            name = rules.check_text(name, f"{where}.name", label="单位名称")
            validate_org_type(org_type, f"{where}.org_type")
            if org_type not in c.schemes:
                raise InvalidInput(
                    "no_scheme_for_org_type",
                    zh=f"本周期没有{wording.cohort(org_type)}的指标体系", en="the cycle has no scheme for this org type",
                    field=f"{where}.org_type",
                )
            if key in c.units or key in seen:
                raise Conflict("unit_exists", zh=f"单位 {key} 已登记", en="unit already registered", field=f"{where}.key")
            seen.add(key)
            c.register_unit(unit=key, name=name.strip(), org_type=org_type, actor=actor.user, role=actor.role, command_id=command_id)
            new.append(
                UnitAssessment(cycle=cycle, unit=key, name=name.strip(), cohort=org_type, actor=actor.user, role=actor.role, command_id=command_id)
            )
        return self._save(c, *new, registered=len(new))

    def check_can_open(self, cycle: str, actor: Actor) -> Cycle:
        rules.require_role(actor, Role.ORGANIZER)
        c = self.cycle(cycle)
        if c.status != CycleStatus.SETUP:
            raise Conflict("cycle_already_open", zh=f"考核周期 {cycle} 已开启", en="the cycle is already open", field="cycle")
        if not c.units:
            raise Conflict("no_units", zh="尚未登记任何单位", en="register units before opening", field="units")
        return c

    def open_cycle(self, cycle: str, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        self.check_can_open(cycle, actor)
        c.open(actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)

    def open_stage(self, cycle: str, stage: str, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        rules.require_role(actor, Role.ORGANIZER)
        rules.check_open_stage(c.stages, stage)
        c.open_stage(stage=stage, actor=actor.user, role=actor.role, command_id=command_id)
        sessions = []
        if stage == Stage.DEBRIEF:
            # Every sheet of these sessions is stored after this position: their search starts here.
            opened_after = self.recorder.max_notification_id() or 0
            for cohort, members in sorted(c.cohort_units().items()):
                sessions.append(
                    DebriefSession(
                        cycle=cycle,
                        cohort=cohort,
                        secretaries=sorted(members),
                        categories=c.categories,
                        actor=actor.user,
                        role=actor.role,
                        command_id=command_id,
                        opened_after=opened_after,
                    )
                )
        return self._save(c, *sessions, sessions=[s.cohort for s in sessions])

    def close_stage(self, cycle: str, stage: str, actor: Actor, command_id: str, reason: str = "") -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        if actor != SYSTEM:
            rules.require_role(actor, Role.ORGANIZER)
        rules.check_close_stage(c.stages, stage)
        touched: list[Any] = []
        closed_at: int | None = None
        if stage == Stage.SELF_REVIEW:
            for key in c.units:
                ua = self.unit(cycle, key)
                if ua.self_review_status == SelfReviewStatus.PENDING:
                    ua.miss_self_review(
                        reason=reason or "自评阶段结束时未提交 / not submitted when the stage closed",
                        actor=actor.user,
                        role=actor.role,
                        command_id=command_id,
                    )
                    touched.append(ua)
        if stage == Stage.DEBRIEF:
            # Each session is cut off and counted before the stage's close is stored; first,
            # every session still open is checked against min_turnout (all or none are closed).
            for cohort in c.cohort_units():
                s = self.session(cycle, cohort)
                if not s.cut_off:
                    self.check_turnout(s, reason or None)
            for cohort in c.cohort_units():
                s = self.session(cycle, cohort)
                if not s.is_closed:
                    closed_at = self._close_session(s, actor, command_id, reason or None).position
        if stage == Stage.ADJUSTMENTS:
            rules.check_all_decided([self.adjustment(x).status for x in c.adjustments])
        c.close_stage(stage=stage, actor=actor.user, role=actor.role, command_id=command_id, reason=reason)
        outcome = self._save(c, *touched)
        outcome.position = outcome.position or closed_at
        if stage == Stage.ADJUSTMENTS:
            outcome.data["problems"] = self.allocation(cycle).problems()
        outcome.data["missed_units"] = [u.unit for u in touched if isinstance(u, UnitAssessment)]
        return outcome

    def set_deadline(self, cycle: str, stage: str, deadline: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        rules.require_role(actor, Role.ORGANIZER)
        if stage not in rules.STAGES:
            raise InvalidInput("unknown_stage", zh=f"未知阶段 {stage}", en="unknown stage", field="stage")
        if c.stages.get(stage) == CLOSED:
            raise Conflict("stage_closed", zh=f"{rules.stage_label(stage)}已结束", en="the stage is closed", field="stage")
        parsed = rules.parse_deadline(deadline, "deadline")
        c.set_deadline(
            stage=stage, deadline=parsed, previous=c.deadlines.get(stage), actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(c)

    def record_deadline_missed(self, cycle: str, stage: str, deadline: str, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        c.deadline_missed(stage=stage, deadline=deadline, actor=SYSTEM.user, role=SYSTEM.role, command_id=command_id)
        outcome = self._save(c)
        if stage == Stage.SELF_REVIEW and c.stages[Stage.SELF_REVIEW] == OPEN:
            # SPEC §7: the organizer closes the self-review stage at its deadline.
            closed = self.close_stage(cycle, Stage.SELF_REVIEW, SYSTEM, command_id + ":close", "截止时间已到 / deadline passed")
            outcome.position = closed.position or outcome.position
        return outcome

    def close_cycle(self, cycle: str, reason: Any, actor: Actor, command_id: str) -> Recorded:
        c = self.cycle(cycle)
        if done := already_recorded(c, command_id):
            return done
        rules.require_role(actor, Role.ORGANIZER)
        rules.require_stage_open(c.stages, Stage.FEEDBACK)
        c.close(reason=reason if isinstance(reason, str) else "", actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)
