"""The debrief (SPEC §3 stage 4): the sessions, a representative's ballot sheet, closing a
session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from projections.models import BallotRow, SessionRow, UnitRow
from services.context import Services, command_id
from services.permissions import allow
from workflows import debrief as debrief_workflow


def sessions(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    """The cycle's sessions; a representative sees whether they cast, not the count."""
    allow(user, "debrief.read")
    with svc.runner.sessions() as db:
        names = dict(db.execute(select(UnitRow.unit, UnitRow.name).where(UnitRow.cycle == cycle)).all())
        mine = {
            b.cohort
            for b in db.scalars(select(BallotRow).where(BallotRow.cycle == cycle, BallotRow.representative == user.username))
        }
        out = []
        for s in db.scalars(select(SessionRow).where(SessionRow.cycle == cycle).order_by(SessionRow.cohort)):
            view = {
                "cohort": s.cohort,
                "open": s.is_open,
                "secretaries": [{"unit": u, "name": names.get(u, u)} for u in s.secretaries],
                "cast_by_me": s.cohort in mine,
            }
            if user.role != "representative":
                view["ballots"] = s.ballots
            out.append(view)
        return out


def sessions_cache_key(user: User, cycle: str) -> tuple:
    return ("debrief", cycle, user.username, user.role)


async def cast_ballot(svc: Services, user: User, cycle: str, cohort: str, category: str | None, scores: Any, idem: str | None = None) -> dict[str, Any]:
    """Straight to the domain, not through the session's workflow: a meeting's representatives
    cast at once, and a workflow takes at most 10 updates in flight (2,000 in all). The workflow
    owns the session's opening and closing; the domain refuses a sheet once it is cut off."""
    allow(user, "ballot.cast")
    return await svc.recorded(
        svc.app.cast_ballot, cycle=cycle, cohort=cohort, representative=user.username,
        category=category, scores=scores, actor=user.actor, command_id=command_id(user, idem),
    )


async def close_session(svc: Services, user: User, cycle: str, cohort: str, idem: str | None = None) -> dict[str, Any]:
    allow(user, "session.close")
    result = await svc.gateway.session_update(cycle, cohort, "close", debrief_workflow.CloseSession(user.actor), command_id(user, idem))
    await svc.caught_up(result)
    return result
