"""The debrief: ballot sheets cast straight to the domain, and closing a session (cut-off, then
count). Which sheets count is stated once, in ``AllocationReader.counted_sheets``.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError

from domain import rules
from domain.aggregates import BallotSheet, DebriefSession
from domain.application.recording import Recorded, UseCases, _strs, already_recorded
from domain.errors import DomainError, NotFound
from domain.rules import Actor


class Debrief(UseCases):
    """Stage 4 (SPEC §3): the secretaries' debrief, one session per cohort."""

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
                "not_open", f"{cohort} 的述职评议尚未开启，请待组织部开启后再提交 / this session has not been opened yet", "cohort"
            ) from None
        if done := already_recorded(s, command_id):
            return done  # a BallotCast of an older cycle, retried
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

    def close_session(self, cycle: str, cohort: str, actor: Actor, command_id: str) -> Recorded:
        s = self.session(cycle, cohort)
        if s.is_closed and (done := already_recorded(s, command_id, {"ballots": len(s.ballots) + len(s.sheets or ())})):
            return done
        if not s.seen(command_id):
            rules.check_close_session(actor, s.is_open or not s.is_closed)
        return self._close_session(s, actor, command_id)

    def _close_session(self, s: DebriefSession, actor: Actor, command_id: str) -> Recorded:
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
