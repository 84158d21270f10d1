"""The secretaries' debrief of one cohort (``DebriefSession``) and each representative's ballot
sheet in it (``BallotSheet``, an aggregate of its own so a meeting casts at once)."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, session_id, sheet_id


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
        log order (v1: none — its ballots are the session's own ``BallotCast`` events)."""

        class_version = 2
        actor: str
        role: str
        command_id: str
        sheets: list

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["sheets"] = []

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
    def close(self, actor: str, role: str, command_id: str, sheets: list) -> None:
        self.is_open = False
        self.cut_off = True
        self.sheets = [dict(s) for s in sheets]
        self._mark(command_id)

    # ------------------------------------------------------------------ reading

    @property
    def is_closed(self) -> bool:
        return self.sheets is not None

    def counts(self, sheet: str) -> bool:
        return any(s["sheet"] == sheet for s in self.sheets or ())


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
