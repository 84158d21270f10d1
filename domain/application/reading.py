"""Reading the cycle: grades from aggregates (``AllocationReader``, shared with the audit
replay) and the application's lookups of each aggregate and of a session's sheets (``Loading``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from domain import grading
from domain.aggregates import (
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
from domain.errors import NotFound
from domain.grading import CycleAllocation, Override, UnitFacts
from domain.policy import parse_categories, parse_policy
from domain.rules import AdjustmentKind, AdjustmentStatus
from domain.scheme import Scheme, parse_scheme
from domain import wording

#: Topics of the events a session's sheets are found by in the log (``select_notifications``):
#: today's, and the one they were stored with before the aggregates moved (``domain.model``).
SHEET_CAST = get_topic(BallotSheet.BallotSheetCast)
BALLOT_BOX_CLOSED = get_topic(DebriefSession.BallotBoxClosed)
SHEET_CAST_TOPICS = (SHEET_CAST, "domain.model:BallotSheet.BallotSheetCast")
BALLOT_BOX_CLOSED_TOPICS = (BALLOT_BOX_CLOSED, "domain.model:DebriefSession.BallotBoxClosed")


class AllocationReader:
    """Grades from aggregates: shared by the live application and the audit replay, which
    provide ``cycle``, ``unit``, ``session``, ``adjustment``, ``sheet_by_id``, ``sheet_casts`` and
    ``cut_off_position`` lookups. Which ballot sheets count is stated here, once."""

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
            approved = [a for a in adjustments if a.unit == key and a.status == AdjustmentStatus.APPROVED]
            out.append(
                UnitFacts(
                    unit=key,
                    cohort=cohort,
                    point_scores={k: None if v is None else Decimal(v) for k, v in (ua.scores or {}).items()},
                    point_max=maxima[cohort],
                    ballots=ballots,
                    bonus_points=[Decimal(a.points) for a in approved if a.kind == AdjustmentKind.BONUS],
                    downgrade_levels=sum(a.levels for a in approved if a.kind == AdjustmentKind.DOWNGRADE),
                    vetoed=any(a.kind == AdjustmentKind.VETO for a in approved),
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


class Loading(AllocationReader):
    """The live application's lookups: each aggregate by the names in a request (``NotFound``
    with the user's words if it is not there), and a session's sheets found in the log."""

    def cycle(self, key: str, *, copy: bool = True) -> Cycle:
        try:
            return self.repository.get(cycle_id(key), deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            raise NotFound("cycle_not_found", zh=f"考核周期 {key} 不存在", en="no such cycle", field="cycle") from None

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
            raise NotFound("unit_not_found", zh=f"单位 {unit} 不在周期 {cycle} 中", en="no such unit in this cycle", field="unit") from None

    def session(self, cycle: str, cohort: str) -> DebriefSession:
        try:
            return self.repository.get(session_id(cycle, cohort))
        except AggregateNotFoundError:
            raise NotFound(
                "session_not_found", zh=f"{wording.cohort(cohort)}的述职评议尚未开启", en="no debrief session for this cohort", field="cohort"
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
        raise NotFound("cut_off_not_found", zh="未找到本场评议的截止记录", en="the session's cut-off is not in the log", field="cohort")

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
            raise NotFound("adjustment_not_found", zh=f"调整事项 {adjustment} 不存在", en="no such adjustment", field="adjustment") from None

    def rectification(self, item: str) -> RectificationItem:
        try:
            return self.repository.get(UUID(item))
        except (AggregateNotFoundError, ValueError):
            raise NotFound("item_not_found", zh=f"整改事项 {item} 不存在", en="no such rectification item", field="item") from None

    def schemes(self, c: Cycle) -> dict[str, Scheme]:
        return {org: parse_scheme(tree, f"schemes.{org}") for org, tree in c.schemes.items()}

    def point_max(self, c: Cycle, cohort: str) -> dict[str, Decimal]:
        return parse_scheme(c.schemes[cohort]).point_max
