"""Debrief sessions and ballot sheets."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, command_id, forbidden, require
from api.schemas import BallotIn
from projections.models import BallotRow, SessionRow, UnitRow
from workflows import debrief as dw

router = APIRouter(tags=["debrief 述职评议"])


@router.get("/cycles/{cycle}/debrief", summary="述职评议场次 / debrief sessions", name="sessions")
async def sessions_answer(cycle: str, user: CurrentUser, svc: Svc) -> list[dict]:
    return await sessions(cycle, user, svc, answer=True)


async def sessions(cycle: str, user, svc, answer: bool = False):
    """The sessions' views (the pages call this); ``answer``: as the route's cached JSON response."""
    if user.role == "unit":
        raise forbidden("单位用户不能查看述职评议 / unit users cannot see ballots")

    def load():
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

    if answer:
        return await svc.reads.respond(("debrief", cycle, user.username, user.role), load)
    return await run_in_threadpool(load)


@router.post("/cycles/{cycle}/debrief/{cohort}/ballots", summary="提交评议表 / cast my ballot sheet")
async def cast(cycle: str, cohort: str, body: BallotIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    """Straight to the domain, not through the session's workflow: a meeting's representatives
    cast at once, and a workflow takes at most 10 updates in flight (2,000 in all). The workflow
    owns the session's opening and closing; the domain refuses a sheet once it is cut off."""
    require(user, "representative")
    key = command_id(user, idem)
    outcome = await run_in_threadpool(
        svc.app.cast_ballot, cycle=cycle, cohort=cohort, representative=user.username,
        category=body.category, scores=body.scores, actor=user.actor, command_id=key,
    )
    result = outcome.to_dict()
    await svc.settle(result)
    return result


@router.post("/cycles/{cycle}/debrief/{cohort}/close", summary="结束本场评议 / close the session")
async def close(cycle: str, cohort: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    result = await svc.gateway.session_update(cycle, cohort, "close", dw.CloseSession(user.actor), command_id(user, idem))
    await svc.settle(result)
    return result
