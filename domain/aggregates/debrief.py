"""The secretaries' debrief of one cohort (``DebriefSession``), who sits in it (``DebriefRoster``)
and each representative's ballot sheet in it (``BallotSheet``, an aggregate of its own so a
meeting casts at once)."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, roster_id, session_id, sheet_id


class DebriefSession(KaoheAggregate):
    """The secretaries' debrief of one cohort. The session owns only its opening and closing:
    each ballot sheet is its own aggregate (``BallotSheet``), so a meeting's representatives
    cast at once without contending for this one. Sessions of older cycles hold their ballots
    here (``BallotCast``); they still count.

    Closing is two events recorded by one use case: ``BallotBoxClosed`` is the cut-off (a sheet
    stored before it counts, one stored after it does not), then ``DebriefSessionClosed`` lists
    exactly the sheets stored before the cut-off. The list cannot be written in the cut-off event
    itself: a sheet could be stored between reading the sheets and storing the event."""

    @staticmethod
    def create_id(cycle: str, cohort: str, **_: Any) -> uuid.UUID:
        return session_id(cycle, cohort)

    # ------------------------------------------------------------------ events

    class DebriefSessionOpened(Aggregate.Created):
        """v2 adds ``opened_after``: the log's last position before the session opened, where a
        search for its sheets may start (v1: 0, the log's start)."""

        class_version = 2
        cycle: str
        cohort: str
        secretaries: list
        categories: dict
        actor: str
        role: str
        command_id: str
        opened_after: int

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["opened_after"] = 0

    class BallotCast(Aggregate.Event):
        """Legacy: a ballot sheet recorded on the session itself (before sheets were aggregates)."""

        class_version = 1
        representative: str
        category: str
        scores: dict
        actor: str
        role: str
        command_id: str

    class BallotBoxClosed(Aggregate.Event):
        """The cut-off: a sheet stored before it counts, one stored after it does not."""

        class_version = 1
        actor: str
        role: str
        command_id: str

    class DebriefSessionClosed(Aggregate.Event):
        """v2 adds ``sheets``: the ballot sheets counted, ``[{"sheet", "representative"}]`` in
        log order (v1: none — its ballots are the session's own ``BallotCast`` events).
        v3 adds ``rostered`` (how many representatives the roster held at the close; None before
        rosters) and ``reason`` (why it closed below ``policy.min_turnout``; None otherwise)."""

        class_version = 3
        actor: str
        role: str
        command_id: str
        sheets: list
        rostered: int | None
        reason: str | None

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["sheets"] = []

        @staticmethod
        def upcast_v2_v3(state: dict) -> None:
            state["rostered"] = None
            state["reason"] = None

    # ------------------------------------------------------------------ commands

    @event(DebriefSessionOpened)
    def __init__(
        self,
        cycle: str,
        cohort: str,
        secretaries: list,
        categories: dict,
        actor: str,
        role: str,
        command_id: str,
        opened_after: int = 0,
    ) -> None:
        self.cycle = cycle
        self.cohort = cohort
        self.secretaries = list(secretaries)
        self.categories = categories
        self.ballots: dict[str, dict[str, Any]] = {}  # legacy: sheets cast as BallotCast on this aggregate
        self.is_open = True
        self.cut_off = False
        self.sheets: list[dict[str, str]] | None = None  # the counted BallotSheets, once closed
        self.opened_after = opened_after
        self.command_ids = {command_id: True}

    @event(BallotCast)
    def cast_ballot(self, representative: str, category: str, scores: dict, actor: str, role: str, command_id: str) -> None:
        """Legacy (before ballot sheets were aggregates of their own): kept so old logs replay."""
        self.ballots[representative] = {"category": category, "scores": scores}
        self._mark(command_id)

    @event(BallotBoxClosed)
    def close_ballot_box(self, actor: str, role: str, command_id: str) -> None:
        self.is_open = False
        self.cut_off = True
        self._mark(command_id)

    @event(DebriefSessionClosed)
    def close(
        self, actor: str, role: str, command_id: str, sheets: list, rostered: int | None = None, reason: str | None = None
    ) -> None:
        self.is_open = False
        self.cut_off = True
        self.sheets = [dict(s) for s in sheets]
        self.rostered = rostered
        self.close_reason = reason
        self._mark(command_id)

    # ------------------------------------------------------------------ reading

    @property
    def is_closed(self) -> bool:
        return self.sheets is not None

    def counts(self, sheet: str) -> bool:
        return any(s["sheet"] == sheet for s in self.sheets or ())


class DebriefRoster(KaoheAggregate):
    """Who sits in one cohort's debrief session, each with their ballot category (SPEC §1,
    "Roster"). Only a rostered representative casts a sheet there, in the rostered category.

    An aggregate of its own, not events on ``DebriefSession``: the organizer registers the roster
    before the meeting, when the session does not exist yet (it is created when the debrief stage
    opens), and may correct it while the session is open without contending with the session's
    workflow, which owns its opening and closing. A session with no roster admits no sheet."""

    @staticmethod
    def create_id(cycle: str, cohort: str, **_: Any) -> uuid.UUID:
        return roster_id(cycle, cohort)

    class RosterRegistered(Aggregate.Created):
        """The first roster of the session: ``entries`` is ``[{"representative", "category"}]``."""

        class_version = 1
        cycle: str
        cohort: str
        entries: list
        actor: str
        role: str
        command_id: str

    class RosterChanged(Aggregate.Event):
        """The roster replaced as a whole (``entries`` as in ``RosterRegistered``)."""

        class_version = 1
        entries: list
        actor: str
        role: str
        command_id: str

    @event(RosterRegistered)
    def __init__(self, cycle: str, cohort: str, entries: list, actor: str, role: str, command_id: str) -> None:
        self.cycle = cycle
        self.cohort = cohort
        self.entries = [dict(x) for x in entries]
        self.command_ids = {command_id: True}

    @event(RosterChanged)
    def change(self, entries: list, actor: str, role: str, command_id: str) -> None:
        self.entries = [dict(x) for x in entries]
        self._mark(command_id)

    @property
    def categories(self) -> dict[str, str]:
        """representative → their rostered category."""
        return {x["representative"]: x["category"] for x in self.entries}


class BallotSheet(KaoheAggregate):
    """One representative's ballot sheet in one debrief session (a score 0–100 per secretary)."""

    @staticmethod
    def create_id(cycle: str, cohort: str, representative: str, **_: Any) -> uuid.UUID:
        return sheet_id(cycle, cohort, representative)

    class BallotSheetCast(Aggregate.Created):
        class_version = 1
        cycle: str
        cohort: str
        representative: str
        category: str
        scores: dict
        actor: str
        role: str
        command_id: str

    class BallotSheetVoided(Aggregate.Event):
        """Stored after the session's cut-off: the sheet does not count (and the log says so)."""

        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    @event(BallotSheetCast)
    def __init__(
        self, cycle: str, cohort: str, representative: str, category: str, scores: dict, actor: str, role: str, command_id: str
    ) -> None:
        self.cycle = cycle
        self.cohort = cohort
        self.representative = representative
        self.category = category
        self.scores = scores
        self.voided = False
        self.command_ids = {command_id: True}

    @event(BallotSheetVoided)
    def void(self, reason: str, actor: str, role: str, command_id: str) -> None:
        """Stored after the session's cut-off: the sheet does not count (and the log says so)."""
        self.voided = True
        self._mark(command_id)
