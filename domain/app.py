"""The Kaohe application: one method per use case. Load, decide (``domain.rules``), save.

Every command carries an idempotency key (``command_id``): a command whose key an aggregate
has already applied stores nothing and succeeds again, so activities and HTTP clients may
retry freely. Each method returns the log position of what it stored (for read-your-writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from decimal import Decimal
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain import grading, rules
from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from domain.grading import CycleAllocation, Override, UnitFacts
from domain.model import (
    Adjustment,
    BallotSheet,
    Cycle,
    DebriefSession,
    RectificationItem,
    UnitAssessment,
    cycle_id,
    session_id,
    sheet_id,
    unit_id,
)
from domain.policy import parse_categories, parse_policy
from domain.rules import CLOSED, OPEN, PENDING, Actor
from domain.scheme import Scheme, parse_scheme, resolve_scheme, validate_org_type

SYSTEM = Actor("system", "system")

#: Topics of the events a session's sheets are found by in the log (``select_notifications``):
#: today's, and the one they were stored with before the aggregates moved (``domain.model``).
SHEET_CAST = get_topic(BallotSheet.BallotSheetCast)
BALLOT_BOX_CLOSED = get_topic(DebriefSession.BallotBoxClosed)
SHEET_CAST_TOPICS = (SHEET_CAST, "domain.model:BallotSheet.BallotSheetCast")
BALLOT_BOX_CLOSED_TOPICS = (BALLOT_BOX_CLOSED, "domain.model:DebriefSession.BallotBoxClosed")


@dataclass
class Outcome:
    """What a command did: the last log position it wrote (None if it wrote nothing)."""

    position: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, **self.data}


def _once_more_on_collision(use_case: Any) -> Any:
    """Run a use case again if another writer saved the same aggregate between our load and our
    save: the second run sees what the other stored (and refuses a second submission, or finds
    its own command already applied)."""

    @wraps(use_case)
    def run(self: Any, *args: Any, **kwargs: Any) -> Outcome:
        try:
            return use_case(self, *args, **kwargs)
        except IntegrityError:
            return use_case(self, *args, **kwargs)

    return run


class AllocationReader:
    """Grades from aggregates: shared by the live application and the audit replay, which
    provide ``cycle``, ``unit``, ``session``, ``adjustment``, ``sheet_by_id``, ``sheet_casts`` and
    ``cut_off_position`` lookups."""

    def sheet_by_id(self, sheet: UUID) -> BallotSheet:
        raise NotImplementedError

    def sheet_casts(self, session: DebriefSession) -> Iterable[tuple[int, BallotSheet]]:
        """The session's sheets with the log positions of their casts, in log order."""
        raise NotImplementedError

    def cut_off_position(self, session: DebriefSession) -> int:
        raise NotImplementedError

    def counted_sheets(self, session: DebriefSession) -> list[BallotSheet]:
        """The sheets that count: those the close listed; before the close, those stored before
        the cut-off (if there is one yet) and not void."""
        if session.is_closed:
            return [self.sheet_by_id(UUID(x["sheet"])) for x in session.sheets or ()]
        cut = self.cut_off_position(session) if session.cut_off else None
        return [sheet for position, sheet in self.sheet_casts(session) if (cut is None or position < cut) and not sheet.voided]

    def ballots_of(self, session: DebriefSession) -> list[dict[str, Any]]:
        """Every sheet that counts in a session: its own ``BallotCast`` ballots (sessions from
        before ballot sheets were aggregates) and then the counted ``BallotSheet``s."""
        out = [{"representative": r, **b} for r, b in session.ballots.items()]
        for sheet in self.counted_sheets(session):
            out.append({"representative": sheet.representative, "category": sheet.category, "scores": sheet.scores})
        return out

    def facts(self, c: Cycle) -> list[UnitFacts]:
        cohort_sessions = {}
        for cohort in c.cohort_units():
            try:
                cohort_sessions[cohort] = self.session(c.key, cohort)
            except NotFound:
                cohort_sessions[cohort] = None
        sheets_of = {cohort: [] if s is None else self.ballots_of(s) for cohort, s in cohort_sessions.items()}
        adjustments = [self.adjustment(a) for a in c.adjustments]
        maxima = {org: parse_scheme(tree).point_max for org, tree in c.schemes.items()}
        out = []
        for key, info in c.units.items():
            cohort = info["org_type"]
            ua = self.unit(c.key, key)
            ballots: dict[str, list[Decimal]] = {}
            session = cohort_sessions.get(cohort)
            if session is not None:
                for sheet in sheets_of[cohort]:
                    if key in sheet["scores"]:
                        ballots.setdefault(sheet["category"], []).append(Decimal(sheet["scores"][key]))
            approved = [a for a in adjustments if a.unit == key and a.status == "approved"]
            out.append(
                UnitFacts(
                    unit=key,
                    cohort=cohort,
                    point_scores={k: None if v is None else Decimal(v) for k, v in (ua.scores or {}).items()},
                    point_max=maxima[cohort],
                    ballots=ballots,
                    bonus_points=[Decimal(a.points) for a in approved if a.kind == "bonus"],
                    downgrade_levels=sum(a.levels for a in approved if a.kind == "downgrade"),
                    vetoed=any(a.kind == "veto" for a in approved),
                    scored=ua.scores is not None,
                )
            )
        return out

    def allocation(
        self,
        cycle: str,
        ties: Mapping[str, Sequence[str]] | None = None,
        overrides: Mapping[str, Override] | None = None,
    ) -> CycleAllocation:
        """The grades as the rules give them from the cycle's events (plus any proposed change)."""
        c = self.cycle(cycle)
        all_ties = {**c.ties, **(ties or {})}
        all_overrides = {u: Override(o["grade"], o["reason"]) for u, o in c.overrides.items()}
        all_overrides.update(overrides or {})
        return grading.allocate(
            self.facts(c), parse_categories(c.categories), parse_policy(c.policy), all_ties, all_overrides
        )

    def results(self, cycle: str) -> dict:
        return grading.results_document(cycle, self.allocation(cycle))


class KaoheApp(AllocationReader, Application[UUID]):
    name = "Kaohe"

    # ------------------------------------------------------------------ loading

    def cycle(self, key: str, *, copy: bool = True) -> Cycle:
        try:
            return self.repository.get(cycle_id(key), deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            raise NotFound("cycle_not_found", f"考核周期 {key} 不存在 / no such cycle", "cycle") from None

    def cycle_to_read(self, key: str) -> Cycle:
        """The cycle for a use case that only reads it (a unit's step): the cached aggregate
        itself, not a copy — a copy of a cycle costs time that grows with its units. Never
        change what this returns."""
        return self.cycle(key, copy=False)

    def has_cycle(self, key: str) -> bool:
        return cycle_id(key) in self.repository

    def unit(self, cycle: str, unit: str) -> UnitAssessment:
        try:
            return self.repository.get(unit_id(cycle, unit))
        except AggregateNotFoundError:
            raise NotFound("unit_not_found", f"单位 {unit} 不在周期 {cycle} 中 / no such unit in this cycle", "unit") from None

    def session(self, cycle: str, cohort: str) -> DebriefSession:
        try:
            return self.repository.get(session_id(cycle, cohort))
        except AggregateNotFoundError:
            raise NotFound(
                "session_not_found", f"{cohort} 的述职评议尚未开启 / no debrief session for this cohort", "cohort"
            ) from None

    def sheet(self, cycle: str, cohort: str, representative: str) -> BallotSheet | None:
        try:
            return self.repository.get(sheet_id(cycle, cohort, representative))
        except AggregateNotFoundError:
            return None

    # Finding a session's sheets. Sheets are aggregates of their own, so the session does not
    # list them while it is open; they are found in the log with ``select_notifications`` and a
    # topic filter, from ``opened_after`` (the log's last position before the session opened).
    # Cost: the store walks its primary-key index over every event stored since the session
    # opened (of every aggregate) and returns only the sheet casts (or cut-offs), which are then
    # decoded — those of every session open at the time. It never reads the log before the
    # session opened (sessions from before ``opened_after`` existed search from the start). It is
    # paid by a close (once per session), by the grading of a session still open, and by a retried
    # cast asking where its sheet is — never by a first cast.

    def _scan(self, topics: Sequence[str], start: int, stop: int | None = None, batch: int = 1000) -> Any:
        while stop is None or start <= stop:
            notes = self.recorder.select_notifications(start=start, limit=batch, stop=stop, topics=list(topics))
            if not notes:
                return
            for n in notes:
                yield n.id, self.mapper.to_domain_event(n)
            start = notes[-1].id + 1

    def _sheet_casts(self, s: DebriefSession, stop: int | None = None) -> Any:
        """``(position, BallotSheetCast)`` of the session's sheets in log order, up to ``stop``."""
        for position, e in self._scan(SHEET_CAST_TOPICS, s.opened_after + 1, stop):
            if e.cycle == s.cycle and e.cohort == s.cohort:
                yield position, e

    def cut_off_position(self, s: DebriefSession) -> int:
        for position, e in self._scan(BALLOT_BOX_CLOSED_TOPICS, s.opened_after + 1):
            if e.originator_id == s.id:
                return position
        raise NotFound("cut_off_not_found", "未找到本场评议的截止记录 / the session's cut-off is not in the log", "cohort")

    def _sheet_position(self, s: DebriefSession, sheet: BallotSheet) -> int | None:
        return next((p for p, e in self._sheet_casts(s) if e.originator_id == sheet.id), None)

    def sheet_by_id(self, sheet: UUID) -> BallotSheet:
        return self.repository.get(sheet)

    def sheet_casts(self, session: DebriefSession) -> Iterable[tuple[int, BallotSheet]]:
        return [(p, self.repository.get(e.originator_id)) for p, e in self._sheet_casts(session)]

    def adjustment(self, adjustment: str) -> Adjustment:
        try:
            return self.repository.get(UUID(adjustment))
        except (AggregateNotFoundError, ValueError):
            raise NotFound("adjustment_not_found", f"调整事项 {adjustment} 不存在 / no such adjustment", "adjustment") from None

    def schemes(self, c: Cycle) -> dict[str, Scheme]:
        return {org: parse_scheme(tree, f"schemes.{org}") for org, tree in c.schemes.items()}

    def point_max(self, c: Cycle, cohort: str) -> dict[str, Decimal]:
        return parse_scheme(c.schemes[cohort]).point_max

    def _save(self, *aggregates: Any, **data: Any) -> Outcome:
        recordings = self.save(*aggregates)
        position = max((r.notification.id for r in recordings), default=None)
        for a in aggregates:
            if isinstance(a, Cycle):  # a cycle's step answers with the stages it leaves
                data.setdefault("stages", dict(a.stages))
                data.setdefault("status", a.status)
                data.setdefault("deadlines", dict(a.deadlines))
                break
        return Outcome(position, data)

    # ------------------------------------------------------------------ setup (before the workflow)

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
    ) -> Outcome:
        rules.require_role(actor, "organizer")
        rules.check_key(key, "key", "invalid_key", "周期编号")
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
            raise InvalidInput("invalid_year", "年度须为 2000–2100 的整数 / year must be an integer 2000..2100", "year")
        name = rules.check_text(name, "name", label="周期名称")
        parsed_policy = parse_policy(policy)
        parsed_categories = parse_categories(categories)
        if not isinstance(schemes, Mapping) or not schemes:
            raise InvalidInput("schemes_required", "至少为一种党组织类型指定指标体系 / give a scheme per org type", "schemes")
        trees = {}
        for org_type, tree in schemes.items():
            validate_org_type(org_type, f"schemes.{org_type}")
            trees[org_type] = resolve_scheme(tree, f"schemes.{org_type}").to_dict()
        deadlines = deadlines or {}
        if not isinstance(deadlines, Mapping):
            raise InvalidInput("invalid_deadline", "deadlines 须为对象 / must be an object", "deadlines")
        parsed_deadlines = {}
        for stage, value in deadlines.items():
            if stage not in rules.STAGES:
                raise InvalidInput("unknown_stage", f"未知阶段 {stage} / unknown stage", f"deadlines.{stage}")
            parsed = rules.parse_deadline(value, f"deadlines.{stage}")
            if parsed:
                parsed_deadlines[stage] = parsed
        if self.has_cycle(key):
            existing = self.cycle(key)
            if existing.seen(command_id):
                return Outcome(None, {"cycle": key})
            raise Conflict("cycle_exists", f"考核周期 {key} 已存在 / a cycle with this key exists", "key")
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

    def _save_new(self, aggregate: Any, reload: Any, *others: Any, **data: Any) -> Outcome:
        try:
            return self._save(aggregate, *others, **data)
        except IntegrityError:
            # A retry of the same command (or a race with it) created it first.
            existing = reload()
            if existing.seen(next(iter(aggregate.command_ids))):
                return Outcome(None, data)
            raise Conflict("already_exists", "该记录已存在 / it already exists") from None

    def register_units(self, cycle: str, units: Any, actor: Actor, command_id: str) -> Outcome:
        rules.require_role(actor, "organizer")
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome(None, {"registered": 0})
        if c.status != "setup":
            raise Conflict("cycle_not_in_setup", "周期已开启，不能再登记单位 / units are registered during setup only", "cycle")
        if not isinstance(units, list) or not units:
            raise InvalidInput("units_required", "请至少登记一个单位 / give at least one unit", "units")
        new: list[UnitAssessment] = []
        seen: set[str] = set()
        for i, u in enumerate(units):
            where = f"units[{i}]"
            if not isinstance(u, Mapping):
                raise InvalidInput("invalid_unit", f"{where} 须为对象 / must be an object", where)
            key, name, org_type = u.get("key"), u.get("name"), u.get("org_type")
            rules.check_key(key, f"{where}.key", "invalid_unit_key", "单位编号")
            name = rules.check_text(name, f"{where}.name", label="单位名称")
            validate_org_type(org_type, f"{where}.org_type")
            if org_type not in c.schemes:
                raise InvalidInput(
                    "no_scheme_for_org_type",
                    f"本周期没有 {org_type} 类型的指标体系 / the cycle has no scheme for this org type",
                    f"{where}.org_type",
                )
            if key in c.units or key in seen:
                raise Conflict("unit_exists", f"单位 {key} 已登记 / unit already registered", f"{where}.key")
            seen.add(key)
            c.register_unit(unit=key, name=name.strip(), org_type=org_type, actor=actor.user, role=actor.role, command_id=command_id)
            new.append(
                UnitAssessment(cycle=cycle, unit=key, name=name.strip(), cohort=org_type, actor=actor.user, role=actor.role, command_id=command_id)
            )
        return self._save(c, *new, registered=len(new))

    def check_can_open(self, cycle: str, actor: Actor) -> Cycle:
        rules.require_role(actor, "organizer")
        c = self.cycle(cycle)
        if c.status != "setup":
            raise Conflict("cycle_already_open", f"考核周期 {cycle} 已开启 / the cycle is already open", "cycle")
        if not c.units:
            raise Conflict("no_units", "尚未登记任何单位 / register units before opening", "units")
        return c

    # ------------------------------------------------------------------ stages

    def open_cycle(self, cycle: str, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        self.check_can_open(cycle, actor)
        c.open(actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)

    def open_stage(self, cycle: str, stage: str, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        rules.require_role(actor, "organizer")
        rules.check_open_stage(c.stages, stage)
        c.open_stage(stage=stage, actor=actor.user, role=actor.role, command_id=command_id)
        sessions = []
        if stage == "debrief":
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

    def close_stage(self, cycle: str, stage: str, actor: Actor, command_id: str, reason: str = "") -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        if actor != SYSTEM:
            rules.require_role(actor, "organizer")
        rules.check_close_stage(c.stages, stage)
        touched: list[Any] = []
        closed_at: int | None = None
        if stage == "self_review":
            for key in c.units:
                ua = self.unit(cycle, key)
                if ua.self_review_status == PENDING:
                    ua.miss_self_review(
                        reason=reason or "自评阶段结束时未提交 / not submitted when the stage closed",
                        actor=actor.user,
                        role=actor.role,
                        command_id=command_id,
                    )
                    touched.append(ua)
        if stage == "debrief":
            # Each session is cut off and counted before the stage's close is stored.
            for cohort in c.cohort_units():
                s = self.session(cycle, cohort)
                if not s.is_closed:
                    closed_at = self._close_session(s, actor, command_id).position
        if stage == "adjustments":
            rules.check_all_decided([self.adjustment(x).status for x in c.adjustments])
        c.close_stage(stage=stage, actor=actor.user, role=actor.role, command_id=command_id, reason=reason)
        outcome = self._save(c, *touched)
        outcome.position = outcome.position or closed_at
        if stage == "adjustments":
            outcome.data["problems"] = self.allocation(cycle).problems()
        outcome.data["missed_units"] = [u.unit for u in touched if isinstance(u, UnitAssessment)]
        return outcome

    def set_deadline(self, cycle: str, stage: str, deadline: Any, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        rules.require_role(actor, "organizer")
        if stage not in rules.STAGES:
            raise InvalidInput("unknown_stage", f"未知阶段 {stage} / unknown stage", "stage")
        if c.stages.get(stage) == CLOSED:
            raise Conflict("stage_closed", f"{rules.stage_label(stage)}已结束 / the stage is closed", "stage")
        parsed = rules.parse_deadline(deadline, "deadline")
        c.set_deadline(
            stage=stage, deadline=parsed, previous=c.deadlines.get(stage), actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(c)

    def record_deadline_missed(self, cycle: str, stage: str, deadline: str, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        c.deadline_missed(stage=stage, deadline=deadline, actor=SYSTEM.user, role=SYSTEM.role, command_id=command_id)
        outcome = self._save(c)
        if stage == "self_review" and c.stages["self_review"] == OPEN:
            # SPEC §7: the organizer closes the self-review stage at its deadline.
            closed = self.close_stage(cycle, "self_review", SYSTEM, command_id + ":close", "截止时间已到 / deadline passed")
            outcome.position = closed.position or outcome.position
        return outcome

    # ------------------------------------------------------------------ unit inputs

    def save_self_review_draft(self, cycle: str, unit: str, scores: Any, evidence: Any, actor: Actor, command_id: str) -> Outcome:
        ua = self.unit(cycle, unit)
        if ua.seen(command_id):
            return Outcome()
        c = self.cycle_to_read(cycle)
        rules.check_self_review(c.stages, actor, unit, ua.self_review_status)
        parsed = rules.parse_point_scores(
            self.point_max(c, ua.cohort), scores or {}, field="scores", allow_null=True, complete=False
        )
        ev = _evidence(evidence, parsed)
        ua.save_draft(scores=_strs(parsed), evidence=ev, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua)

    @_once_more_on_collision
    def submit_self_review(self, cycle: str, unit: str, scores: Any, evidence: Any, actor: Actor, command_id: str) -> Outcome:
        ua = self.unit(cycle, unit)
        if ua.seen(command_id):
            return Outcome()
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
    def submit_scoring(
        self, cycle: str, unit: str, scores: Any, na_reasons: Any, comments: Any, actor: Actor, command_id: str
    ) -> Outcome:
        ua = self.unit(cycle, unit)
        if ua.seen(command_id):
            return Outcome()
        c = self.cycle_to_read(cycle)
        rules.check_scoring(c.stages, actor, unit, ua.self_review_status, ua.scores is not None)
        parsed = rules.parse_point_scores(
            self.point_max(c, ua.cohort), scores, field="scores", allow_null=True, complete=True
        )
        reasons = _texts(na_reasons, parsed, "na_reasons")
        for code, value in parsed.items():
            if value is None and code not in reasons:
                raise InvalidInput(
                    "na_reason_required",
                    f"要点 {code} 标为不适用，须说明理由 / a not-applicable point needs a reason",
                    f"na_reasons.{code}",
                )
        ua.submit_scoring(
            scores=_strs(parsed),
            na_reasons=reasons,
            comments=_texts(comments, parsed, "comments"),
            actor=actor.user,
            role=actor.role,
            command_id=command_id,
        )
        return self._save(ua)

    def cast_ballot(
        self, cycle: str, cohort: str, representative: str, category: Any, scores: Any, actor: Actor, command_id: str
    ) -> Outcome:
        """A representative's ballot sheet, stored as its own ``BallotSheet`` (never a write to the
        session, so a meeting casts at once). Accepted only if it counts: a sheet stored after the
        session's cut-off is recorded void and refused. A retry (same ``command_id``) gets the
        first answer again; another sheet by the same representative is refused."""
        try:
            s = self.session(cycle, cohort)
        except NotFound:
            raise NotFound(
                "not_open", f"{cohort} 的述职评议尚未开启，请待组织部开启后再提交 / this session has not been opened yet", "cohort"
            ) from None
        if s.seen(command_id):
            return Outcome()  # a BallotCast of an older cycle, retried
        try:
            cat = rules.check_ballot(actor, representative, s.is_open, s.ballots, s.categories, category)
            parsed = rules.parse_ballot_scores(s.secretaries, scores)
        except DomainError:
            # A retry of a sheet already stored gets its first answer, even if the session has
            # closed since. (Looked up only here and on a collision: a first cast reads the
            # session twice and writes once, nothing more.)
            existing = self.sheet(cycle, cohort, representative)
            if existing is not None and existing.seen(command_id):
                return self._sheet_answer(s, existing, None, actor, command_id)
            raise
        sheet = BallotSheet(
            cycle=cycle, cohort=cohort, representative=representative, category=cat, scores=_strs(parsed),
            actor=actor.user, role=actor.role, command_id=command_id,
        )
        try:
            position = self._save(sheet).position
        except IntegrityError:
            # The sheet's id is the representative's in this session: one exists already.
            existing = self.sheet(cycle, cohort, representative)
            if existing is not None and existing.seen(command_id):
                return self._sheet_answer(self.session(cycle, cohort), existing, None, actor, command_id)
            raise rules.ballot_already_cast(representative) from None
        # Read the session again, now that the sheet is stored: was it cut off meanwhile?
        return self._sheet_answer(self.session(cycle, cohort), sheet, position, actor, command_id)

    def _sheet_answer(
        self, s: DebriefSession, sheet: BallotSheet, position: int | None, actor: Actor, command_id: str
    ) -> Outcome:
        """Accepted if the sheet counts; otherwise it is recorded void and refused. ``s`` was read
        after the sheet was stored. Writes are serialized by the store, so a session still open
        then is cut off at a later position, and its close will count this sheet."""
        if sheet.voided:
            raise rules.ballot_not_counted()
        if s.is_open:
            counted = True
        elif s.is_closed:
            counted = s.counts(str(sheet.id))
        else:  # cut off, not yet counted: the count will hold exactly the sheets stored before the cut-off
            position = position or self._sheet_position(s, sheet)
            counted = position is not None and position < self.cut_off_position(s)
        if not counted:
            sheet.void(
                reason="评议截止后送达，不予计入 / stored after the session's cut-off; not counted",
                actor=actor.user, role=actor.role, command_id=command_id,
            )
            try:
                self._save(sheet)
            except IntegrityError:
                pass  # a retry of this very command voided it first
            raise rules.ballot_not_counted()
        position = position or self._sheet_position(s, sheet)
        return Outcome(position, {"status": "accepted", "sheet": str(sheet.id), "cohort": s.cohort,
                                  "representative": sheet.representative, "category": sheet.category})

    def close_session(self, cycle: str, cohort: str, actor: Actor, command_id: str) -> Outcome:
        s = self.session(cycle, cohort)
        if s.is_closed and s.seen(command_id):
            return Outcome(None, {"ballots": len(s.ballots) + len(s.sheets or ())})
        if not s.seen(command_id):
            rules.check_close_session(actor, s.is_open or not s.is_closed)
        return self._close_session(s, actor, command_id)

    def _close_session(self, s: DebriefSession, actor: Actor, command_id: str) -> Outcome:
        """Cut off (``BallotBoxClosed``), then count: ``DebriefSessionClosed`` lists the sheets
        stored before the cut-off. A close interrupted between the two is finished by any later
        close of the session."""
        if not s.cut_off:
            s.close_ballot_box(actor=actor.user, role=actor.role, command_id=command_id)
            cut = self._save(s).position
            assert cut is not None
        else:
            cut = self.cut_off_position(s)
        sheets = [{"sheet": str(e.originator_id), "representative": e.representative} for _, e in self._sheet_casts(s, cut - 1)]
        s.close(actor=actor.user, role=actor.role, command_id=command_id, sheets=sheets)
        return self._save(s, ballots=len(s.ballots) + len(sheets))

    # ------------------------------------------------------------------ adjustments

    def propose_adjustment(
        self, cycle: str, unit: Any, kind: Any, points: Any, levels: Any, reason: Any, evidence: Any, actor: Actor, command_id: str
    ) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome(None, {"adjustment": str(_adjustment_id(cycle, command_id))})
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
    ) -> Outcome:
        a = self.adjustment(adjustment)
        if a.cycle != cycle:
            raise NotFound("adjustment_not_found", "该调整事项不属于此周期 / not an adjustment of this cycle", "adjustment")
        if a.seen(command_id):
            return Outcome()
        c = self.cycle(cycle)
        rules.check_decide(c.stages, actor, a.unit, a.proposer, a.status)
        decision = rules.check_decision(decision, reason)
        text = reason.strip() if isinstance(reason, str) else ""
        if decision == "approve":
            a.approve(reason=text, actor=actor.user, role=actor.role, command_id=command_id)
        else:
            a.reject(reason=text, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(a)

    # ------------------------------------------------------------------ allocation

    def resolve_tie(self, cycle: str, cohort: Any, units: Any, reason: Any, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        rules.require_role(actor, "committee")
        rules.require_stage_open(c.stages, "allocation")
        if not isinstance(units, list) or not all(isinstance(u, str) for u in units):
            raise InvalidInput("invalid_units", "units 须为单位编号列表 / units must be a list of unit keys", "units")
        allocation = self.allocation(cycle, ties={cohort: units})
        c.resolve_tie(
            cohort=cohort, units=units, reason=reason if isinstance(reason, str) else "", actor=actor.user, role=actor.role, command_id=command_id
        )
        return self._save(c, problems=allocation.problems())

    def override_grade(self, cycle: str, unit: Any, grade: Any, reason: Any, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        rules.require_role(actor, "committee")
        rules.require_stage_open(c.stages, "allocation")
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

    def approve_allocation(self, cycle: str, reason: Any, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome(None, {"results": c.results})
        rules.require_role(actor, "committee")
        rules.require_stage_open(c.stages, "allocation")
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

    def reject_allocation(self, cycle: str, reason: Any, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        rules.require_role(actor, "committee")
        rules.require_stage_open(c.stages, "allocation")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("reason_required", "退回等次方案必须说明理由 / a rejection needs a reason", "reason")
        c.reject_allocation(reason=reason.strip(), actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)

    # ------------------------------------------------------------------ feedback

    def issue_feedback(self, cycle: str, unit: str, text: Any, actor: Actor, command_id: str) -> Outcome:
        """Issue the unit's feedback (the draft's text unless edited) and open a rectification
        item for each problem the draft names, due in ``RECTIFICATION_DAYS``."""
        ua = self.unit(cycle, unit)
        if ua.seen(command_id):
            return Outcome(None, {"items": self._items_of(cycle, command_id)})
        c = self.cycle_to_read(cycle)
        draft = getattr(ua, "feedback_draft", None) or {}
        if not (isinstance(text, str) and text.strip()):
            text = draft.get("text", "")
        rules.check_issue_feedback(c.stages, actor, ua.feedback_status, text)
        ua.issue_feedback(text=text.strip(), actor=actor.user, role=actor.role, command_id=command_id)
        deadline = (datetime.now(timezone.utc) + timedelta(days=rules.RECTIFICATION_DAYS)).isoformat()
        items = []
        for i, problem in enumerate(draft.get("problems", [])):
            description = f"{problem.get('code')} {problem.get('name', '')}：得分 {problem.get('score')}/{problem.get('max')}"
            if problem.get("comment"):
                description += f"；评价意见：{problem['comment']}"
            item = RectificationItem(
                cycle=cycle, unit=unit, point=problem.get("code"), description=description[:2000], deadline=deadline,
                source="feedback", index=i, actor=actor.user, role=actor.role, command_id=command_id,
            )
            items.append(item)
        # The cycle aggregate is left alone here: units' feedback is issued concurrently.
        out = self._save(ua, *items)
        out.data["items"] = [{"id": str(i.id), "unit": unit, "deadline": i.deadline} for i in items]
        return out

    def _items_of(self, cycle: str, command_id: str) -> list[dict[str, Any]]:
        from domain.model import rectification_id

        out = []
        for i in range(100):
            key = rectification_id(cycle, command_id, i)
            if key not in self.repository:
                break
            item = self.repository.get(key)
            out.append({"id": str(key), "unit": item.unit, "deadline": item.deadline})
        return out

    # ------------------------------------------------------------------ rectification

    def rectification(self, item: str) -> RectificationItem:
        try:
            return self.repository.get(UUID(item))
        except (AggregateNotFoundError, ValueError):
            raise NotFound("item_not_found", f"整改事项 {item} 不存在 / no such rectification item", "item") from None

    def create_rectification(
        self, cycle: str, unit: Any, point: Any, description: Any, deadline: Any, actor: Actor, command_id: str
    ) -> Outcome:
        from domain.model import rectification_id

        c = self.cycle(cycle)
        if c.seen(command_id):
            key = rectification_id(cycle, command_id, 0)
            return Outcome(None, {"items": [{"id": str(key), "unit": unit, "deadline": self.rectification(str(key)).deadline}]})
        text = rules.check_create_rectification(c.status, actor, description)
        if unit not in c.units:
            raise InvalidInput("unknown_unit", f"单位 {unit} 不在本周期 / unknown unit", "unit")
        if point is not None:
            scheme = parse_scheme(c.schemes[c.units[unit]["org_type"]])
            if point not in scheme.point_max:
                raise InvalidInput("unknown_point", f"未知的评价要点 {point} / unknown evaluation point", "point")
        if deadline is None:
            due = (datetime.now(timezone.utc) + timedelta(days=rules.RECTIFICATION_DAYS)).isoformat()
        else:
            due = rules.parse_deadline(deadline, "deadline")
        item = RectificationItem(
            cycle=cycle, unit=unit, point=point, description=text, deadline=due, source="manual", index=0,
            actor=actor.user, role=actor.role, command_id=command_id,
        )
        c.file_rectification(item=str(item.id), unit=unit, actor=actor.user, role=actor.role, command_id=command_id)
        out = self._save_new(item, lambda: self.rectification(str(item.id)), c)
        out.data["items"] = [{"id": str(item.id), "unit": unit, "deadline": due}]
        return out

    def report_rectification(self, item: str, text: Any, attachments: Any, actor: Actor, command_id: str, final: bool = False) -> Outcome:
        it = self.rectification(item)
        if it.seen(command_id):
            return Outcome(None, {"status": it.status})
        body = rules.check_report(actor, it.unit, it.status, text)
        files = rules.parse_attachments(attachments)
        if final:
            it.submit(text=body, attachments=files, actor=actor.user, role=actor.role, command_id=command_id)
        else:
            it.report_progress(text=body, attachments=files, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(it, status=it.status)

    def submit_rectification(self, item: str, text: Any, attachments: Any, actor: Actor, command_id: str) -> Outcome:
        return self.report_rectification(item, text, attachments, actor, command_id, final=True)

    def verify_rectification(self, item: str, decision: Any, reason: Any, actor: Actor, command_id: str) -> Outcome:
        it = self.rectification(item)
        if it.seen(command_id):
            return Outcome(None, {"status": it.status})
        rules.check_verify(actor, it.status)
        decision = rules.check_decision(decision, reason)
        why = reason.strip() if isinstance(reason, str) else ""
        if decision == "approve":
            it.close(reason=why, actor=actor.user, role=actor.role, command_id=command_id)
        else:
            it.send_back(reason=why, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(it, status=it.status)

    def remind_rectification(self, item: str, days_left: int, command_id: str) -> Outcome:
        it = self.rectification(item)
        if it.seen(command_id) or it.status == "closed":
            return Outcome(None, {"status": it.status})
        it.remind(days_left=days_left, actor=SYSTEM.user, role=SYSTEM.role, command_id=command_id)
        return self._save(it, status=it.status)

    def rectification_overdue(self, item: str, command_id: str) -> Outcome:
        it = self.rectification(item)
        if it.seen(command_id) or it.status == "closed":
            return Outcome(None, {"status": it.status})
        it.mark_overdue(deadline=it.deadline, actor=SYSTEM.user, role=SYSTEM.role, command_id=command_id)
        return self._save(it, status=it.status)

    def carry_over(self, cycle: str, items: Any, actor: Actor, command_id: str) -> Outcome:
        """Items still open for this cycle's units are carried into it (listed in their self-review)."""
        c = self.cycle(cycle)
        touched = []
        for key in items or []:
            it = self.rectification(key)
            if it.seen(command_id) or it.status == "closed" or it.cycle == cycle or it.unit not in c.units:
                continue
            it.carry_over(to_cycle=cycle, actor=actor.user, role=actor.role, command_id=command_id)
            touched.append(it)
        return self._save(*touched, carried=[str(t.id) for t in touched]) if touched else Outcome(None, {"carried": []})

    def edit_feedback_draft(self, cycle: str, unit: str, text: Any, actor: Actor, command_id: str) -> Outcome:
        ua = self.unit(cycle, unit)
        if ua.seen(command_id):
            return Outcome()
        c = self.cycle(cycle)
        rules.check_issue_feedback(c.stages, actor, ua.feedback_status, text)
        draft = dict(getattr(ua, "feedback_draft", None) or {})
        draft["text"] = rules.check_text(text, "text", 20000, "反馈内容")
        ua.draft_feedback(draft=draft, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua)

    def acknowledge_feedback(self, cycle: str, unit: str, actor: Actor, command_id: str) -> Outcome:
        ua = self.unit(cycle, unit)
        if ua.seen(command_id):
            return Outcome()
        rules.check_acknowledge(actor, unit, ua.feedback_status)
        ua.acknowledge_feedback(actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua)

    # ------------------------------------------------------------------ the special report and the use of results

    def _published_cycle(self, cycle: str, actor: Actor, command_id: str) -> tuple[Cycle, bool]:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return c, True
        rules.require_role(actor, "organizer")
        if c.results is None:
            raise Conflict("results_not_published", "考核结果公布后才能操作 / results are not published yet", "cycle")
        return c, False

    def set_report_suggestions(self, cycle: str, text: Any, actor: Actor, command_id: str) -> Outcome:
        c, done = self._published_cycle(cycle, actor, command_id)
        if done:
            return Outcome()
        body = rules.check_text(text, "text", 20000, "意见建议")
        c.set_suggestions(text=body, previous=getattr(c, "suggestions", "") or "", actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)

    def set_results_use(self, cycle: str, policy: Any, actor: Actor, command_id: str) -> Outcome:
        from domain.use_of_results import parse_results_use_policy

        c, done = self._published_cycle(cycle, actor, command_id)
        if done:
            return Outcome()
        parsed = parse_results_use_policy(policy).to_dict()
        c.set_results_use(policy=parsed, previous=getattr(c, "results_use", None), actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c, policy=parsed)

    def import_business_grades(self, cycle: str, data: Any, file_sha256: str, actor: Actor, command_id: str) -> Outcome:
        from domain.use_of_results import parse_business_grades

        c, done = self._published_cycle(cycle, actor, command_id)
        if done:
            return Outcome()
        grades = parse_business_grades(data, set(c.units))
        c.import_business_grades(grades=grades, file_sha256=file_sha256, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c, imported=len(grades))

    def close_cycle(self, cycle: str, reason: Any, actor: Actor, command_id: str) -> Outcome:
        c = self.cycle(cycle)
        if c.seen(command_id):
            return Outcome()
        rules.require_role(actor, "organizer")
        rules.require_stage_open(c.stages, "feedback")
        c.close(reason=reason if isinstance(reason, str) else "", actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(c)


def _adjustment_id(cycle: str, command_id: str) -> UUID:
    from domain.model import adjustment_id

    return adjustment_id(cycle, command_id)


def _strs(values: Mapping[str, Decimal | None]) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in values.items()}


def _texts(value: Any, points: Mapping[str, Any], field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("invalid_text", f"{field} 须为对象 / must be an object", field)
    out = {}
    for code, text in value.items():
        if code not in points:
            raise InvalidInput("unknown_point", f"未知的评价要点 {code} / unknown evaluation point", f"{field}.{code}")
        if not isinstance(text, str):
            raise InvalidInput("invalid_text", "须为文字 / must be text", f"{field}.{code}")
        if text.strip():
            out[code] = text.strip()
    return out


def _evidence(value: Any, points: Mapping[str, Any]) -> dict[str, str]:
    return _texts(value, points, "evidence")
