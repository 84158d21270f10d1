"""The debrief: the sessions' rosters, ballot sheets cast straight to the domain, and closing a
session (cut-off, then count). Which sheets count is stated once, in
``AllocationReader.counted_sheets``.

A session with no roster admits no sheet (``rules.check_on_roster``): the organizer registers
each session's representatives before the meeting (any time from the cycle's setup) or while the
session is open, never after it closes.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain import rules
from domain.aggregates import BallotSheet, DebriefRoster, DebriefSession, roster_id
from domain.application.recording import Recorded, UseCases, _strs, already_recorded
from domain.errors import DomainError, InvalidInput, NotFound
from domain.policy import parse_policy
from domain.rules import Actor, CycleStatus, Role
from domain import wording


class Debrief(UseCases):
    """Stage 4 (SPEC §3): the secretaries' debrief, one session per cohort."""

    # ------------------------------------------------------------------ the roster

    def roster(self, cycle: str, cohort: str) -> DebriefRoster | None:
        try:
            return self.repository.get(roster_id(cycle, cohort))
        except AggregateNotFoundError:
            return None

    def roster_of(self, cycle: str, cohort: str) -> dict[str, str]:
        """representative → rostered category; empty when no roster was registered."""
        r = self.roster(cycle, cohort)
        return {} if r is None else r.categories

    def set_rosters(self, cycle: str, rosters: Any, actor: Actor, command_id: str) -> Recorded:
        """Register (or replace) the rosters of one or more cohorts' sessions at once: every
        roster is checked before any is stored, and all are stored in one transaction (a file
        with one bad line stores nothing). Allowed from the cycle's setup until the session
        closes; a representative who has cast stays on the roster in their category."""
        c = self.cycle_to_read(cycle)
        rules.require_role(actor, Role.ORGANIZER)
        if c.status not in (CycleStatus.SETUP, CycleStatus.OPEN):
            rules.require_cycle_status(c.status, CycleStatus.OPEN)
        if not isinstance(rosters, dict) or not rosters:
            raise InvalidInput("invalid_roster", zh="请给出至少一个场次的参会名单", en="give at least one session's roster", field="roster")
        cohorts = c.cohort_units()
        for cohort in rosters:
            if cohort not in cohorts:
                known = "、".join(sorted(cohorts)) or "无 / none"
                raise InvalidInput(
                    "unknown_cohort",
                    zh=f"{wording.cohort(cohort)}不是本周期有单位的党组织类型，没有这一场述职评议（可选：{known}）", en=f"no debrief session for cohort {cohort}",
                    field="cohort",
                )
        existing = {cohort: self.roster(cycle, cohort) for cohort in rosters}
        if all(r is not None and r.seen(command_id) for r in existing.values()):
            return Recorded(None, {"rosters": {k: r.entries for k, r in existing.items()}})  # a retry
        changed: list[DebriefRoster] = []
        answer: dict[str, Any] = {"rosters": {}}
        for cohort, entries in sorted(rosters.items()):
            parsed = rules.parse_roster(entries, c.categories, f"roster.{cohort}" if len(rosters) > 1 else "roster")
            try:
                s: DebriefSession | None = self.session(cycle, cohort)
            except NotFound:
                s = None
            old = existing[cohort]
            before = {} if old is None else old.categories
            now = {x["representative"]: x["category"] for x in parsed}
            answer["rosters"][cohort] = parsed
            moved = sorted(r for r, cat in before.items() if now.get(r) != cat and self.sheet(cycle, cohort, r) is not None)
            rules.check_roster_change(actor, cohort, s is not None and (s.cut_off or s.is_closed), moved)
            if old is None:
                changed.append(DebriefRoster(
                    cycle=cycle, cohort=cohort, entries=parsed, actor=actor.user, role=actor.role, command_id=command_id
                ))
            elif old.entries != parsed:
                old.change(entries=parsed, actor=actor.user, role=actor.role, command_id=command_id)
                changed.append(old)
        if not changed:
            return Recorded(None, answer)
        return self._save(*changed, **answer)

    def check_ballot_sheet(self, cycle: str, cohort: str, scores: Any) -> None:
        """What :meth:`cast_ballot` would refuse of the sheet's scores (a blank row, a bad value),
        stated without storing anything: the page checks a sheet before it asks to confirm it."""
        try:
            s = self.session(cycle, cohort)
        except NotFound:
            raise NotFound(
                "not_open", zh=f"{wording.cohort(cohort)}的述职评议尚未开启，请待组织部开启后再提交", en="this session has not been opened yet", field="cohort"
            ) from None
        rules.parse_ballot_sheet(s.secretaries, scores)

    def cast_ballot(
        self, cycle: str, cohort: str, representative: str, category: Any, scores: Any, actor: Actor, command_id: str
    ) -> Recorded:
        """A representative's ballot sheet, stored as its own ``BallotSheet`` (never a write to the
        session, so a meeting casts at once). Accepted only if it counts: a sheet stored after the
        session's cut-off is recorded void and refused. A retry (same ``command_id``) gets the
        first answer again; another sheet by the same representative is refused."""
        try:
            s = self.session(cycle, cohort)
        except NotFound:
            raise NotFound(
                "not_open", zh=f"{wording.cohort(cohort)}的述职评议尚未开启，请待组织部开启后再提交", en="this session has not been opened yet", field="cohort"
            ) from None
        if done := already_recorded(s, command_id):
            return done  # a BallotCast of an older cycle, retried
        try:
            roster = self.roster_of(cycle, cohort)
            cat = rules.check_ballot(actor, representative, s.is_open, s.ballots, s.categories, category, roster)
            parsed, _abstained = rules.parse_ballot_sheet(s.secretaries, scores)
        except DomainError as err:
            # A retry of a sheet already stored gets its first answer, even if the session has
            # closed since. (Looked up only here and on a collision: a first cast reads the
            # session twice and writes once, nothing more.)
            existing = self.sheet(cycle, cohort, representative)
            if existing is not None and existing.seen(command_id):
                return self._sheet_answer(s, existing, None, actor, command_id)
            if existing is not None and isinstance(err, InvalidInput):
                # One sheet per representative comes first: a second one is refused for that,
                # whatever it holds (an incomplete second sheet is not "incomplete").
                raise rules.ballot_already_cast(representative) from None
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
    ) -> Recorded:
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
        return Recorded(position, {"status": "accepted", "sheet": str(sheet.id), "cohort": s.cohort,
                                  "representative": sheet.representative, "category": sheet.category})

    def close_session(self, cycle: str, cohort: str, actor: Actor, command_id: str, reason: str | None = None) -> Recorded:
        s = self.session(cycle, cohort)
        if s.is_closed and (done := already_recorded(s, command_id, {"ballots": len(s.ballots) + len(s.sheets or ())})):
            return done
        if not s.seen(command_id):
            rules.check_close_session(actor, s.is_open or not s.is_closed)
        return self._close_session(s, actor, command_id, reason)

    def check_turnout(self, s: DebriefSession, reason: str | None) -> str | None:
        """Refuse to close ``s`` below the policy's ``min_turnout`` without a reason (before
        anything is stored); the reason to record otherwise."""
        min_turnout = parse_policy(self.cycle_to_read(s.cycle).policy).min_turnout
        cast = len(s.ballots) + (sum(1 for _ in self._sheet_casts(s)) if min_turnout > 0 else 0)
        return rules.check_turnout(s.cohort, cast, len(self.roster_of(s.cycle, s.cohort)), min_turnout, reason)

    def _close_session(self, s: DebriefSession, actor: Actor, command_id: str, reason: str | None = None) -> Recorded:
        """Cut off (``BallotBoxClosed``), then count: ``DebriefSessionClosed`` lists the sheets
        stored before the cut-off, how many were rostered, and why it closed below the policy's
        ``min_turnout`` (a close below it without a reason is refused before anything is
        stored). A close interrupted between the two is finished by any later close."""
        rostered = len(self.roster_of(s.cycle, s.cohort))
        if not s.cut_off:
            reason = self.check_turnout(s, reason)
            s.close_ballot_box(actor=actor.user, role=actor.role, command_id=command_id)
            cut = self._save(s).position
            assert cut is not None
        else:
            cut = self.cut_off_position(s)
            reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
        sheets = [{"sheet": str(e.originator_id), "representative": e.representative} for _, e in self._sheet_casts(s, cut - 1)]
        s.close(actor=actor.user, role=actor.role, command_id=command_id, sheets=sheets, rostered=rostered, reason=reason)
        return self._save(s, ballots=len(s.ballots) + len(sheets), rostered=rostered)
