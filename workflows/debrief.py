"""One debrief session (书记述职评议) of one cohort: its opening and its close (the cut-off).
The ballot sheets themselves do not pass through here (see ``cast_ballot``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import rules
    from domain.rules import Actor
    from workflows.activities import KaoheActivities as A
    from workflows.base import KaoheWorkflow, check, command_id
    from workflows import steps
    from workflows.messages import SessionState


@dataclass
class CastBallot:
    actor: Actor
    representative: str
    scores: dict[str, Any]
    category: str | None = None


@dataclass
class CloseSession:
    actor: Actor


@workflow.defn(name="DebriefSession")
class DebriefWorkflow(KaoheWorkflow):
    @workflow.init
    def __init__(self, state: SessionState) -> None:
        self.s = state
        self.done_updates: list[str] = []
        self.finished = False
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, state: SessionState) -> dict[str, Any]:
        await workflow.wait_condition(lambda: self.finished and workflow.all_handlers_finished())
        return {"cohort": self.s.cohort, "ballots": len(self.s.cast_by)}

    @workflow.query
    def state(self) -> SessionState:
        return self.s

    @workflow.signal
    def finish(self) -> None:
        """The cycle closed the debrief stage (which closes this session in the domain)."""
        self.s.is_open = False
        self.finished = True

    @workflow.update
    async def cast_ballot(self, cmd: CastBallot) -> dict[str, Any]:
        """Kept so that recorded histories replay; nothing sends it any more. A ballot sheet
        goes straight to the domain (``KaoheApp.cast_ballot``), a ``BallotSheet`` of its own:
        this workflow owns only the session's opening and closing."""
        async with self.lock:
            step = steps.CastBallotStep(
                self.s.cycle, self.s.cohort, cmd.representative, cmd.category, cmd.scores, cmd.actor, command_id()
            )
            result = await self.legacy_step("cast_ballot", step)
            self.s.cast_by.append(cmd.representative)
            return result

    @cast_ballot.validator
    def _validate_ballot(self, cmd: CastBallot) -> None:
        if self.is_retry():
            return
        check(rules.check_ballot, cmd.actor, cmd.representative, self.s.is_open, self.s.cast_by, self.s.categories, cmd.category)
        check(rules.parse_ballot_scores, self.s.secretaries, cmd.scores)

    @workflow.update
    async def close(self, cmd: CloseSession) -> dict[str, Any]:
        async with self.lock:
            step = steps.CloseSessionStep(self.s.cycle, self.s.cohort, cmd.actor, command_id())
            result = await self.step(A.close_session, step)
            self.s.is_open = False
            return result

    @close.validator
    def _validate_close(self, cmd: CloseSession) -> None:
        if self.is_retry():
            return
        check(rules.check_close_session, cmd.actor, self.s.is_open)
