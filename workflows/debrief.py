"""One debrief session (书记述职评议) of one cohort: its opening and its close (the cut-off).
The ballot sheets themselves do not pass through here (see ``cast_ballot``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import rules
    from workflows.activities import KaoheActivities as A
    from workflows.base import KaoheWorkflow, check, command_id
    from workflows import steps
    from workflows.messages import SessionState, SignedActor


@dataclass
class CastBallot:
    actor: SignedActor
    representative: str
    scores: dict[str, Any]
    category: str | None = None


@dataclass
class CloseSession:
    actor: SignedActor
    #: Why the session closes below ``policy.min_turnout`` (the domain refuses without one).
    reason: str | None = None


@workflow.defn(name="DebriefSession")
class DebriefWorkflow(KaoheWorkflow):
    @workflow.init
    def __init__(self, state: SessionState) -> None:
        self.state = state
        self.done_updates: list[str] = []
        self.finished = False
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, state: SessionState) -> dict[str, Any]:
        await workflow.wait_condition(lambda: self.finished and workflow.all_handlers_finished())
        return {"cohort": self.state.cohort, "ballots": len(self.state.cast_by)}

    @workflow.query
    def state(self) -> SessionState:
        return self.state

    @workflow.signal
    def finish(self) -> None:
        """The cycle closed the debrief stage (which closes this session in the domain)."""
        self.state.is_open = False
        self.finished = True

    @workflow.update
    async def cast_ballot(self, cmd: CastBallot) -> dict[str, Any]:
        """Kept so that recorded histories replay; nothing sends it any more. A ballot sheet
        goes straight to the domain (``Assessments.cast_ballot``), a ``BallotSheet`` of its own:
        this workflow owns only the session's opening and closing."""
        async with self.lock:
            step = steps.CastBallotStep(
                self.state.cycle, self.state.cohort, cmd.representative, cmd.category, cmd.scores, cmd.actor, command_id()
            )
            result = await self.legacy_step("cast_ballot", step)
            self.state.cast_by.append(cmd.representative)
            return result

    @cast_ballot.validator
    def _validate_ballot(self, cmd: CastBallot) -> None:
        if self.is_retry():
            return
        check(rules.check_ballot, cmd.actor, cmd.representative, self.state.is_open, self.state.cast_by, self.state.categories, cmd.category)
        check(rules.parse_ballot_scores, self.state.secretaries, cmd.scores)

    @workflow.update
    async def close(self, cmd: CloseSession) -> dict[str, Any]:
        async with self.lock:
            step = steps.CloseSessionStep(self.state.cycle, self.state.cohort, cmd.actor, command_id(), cmd.reason)
            result = await self.step(A.close_session, step)
            self.state.is_open = False
            return result

    @close.validator
    def _validate_close(self, cmd: CloseSession) -> None:
        if self.is_retry():
            return
        check(rules.check_close_session, cmd.actor, self.state.is_open)
