"""Debrief sessions and ballot sheets."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CurrentUser, IdempotencyKey, Svc, json_answer
from api.schemas import BallotIn
from services import debrief

router = APIRouter(tags=["debrief 述职评议"])


@router.get("/cycles/{cycle}/debrief", summary="述职评议场次 / debrief sessions", name="sessions")
async def sessions(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    return json_answer(await svc.reads.respond(debrief.sessions_cache_key(user, cycle), lambda: debrief.sessions(svc, user, cycle)))


@router.post("/cycles/{cycle}/debrief/{cohort}/ballots", summary="提交评议表 / cast my ballot sheet")
async def cast(cycle: str, cohort: str, body: BallotIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await debrief.cast_ballot(svc, user, cycle, cohort, body.category, body.scores, idem)


@router.post("/cycles/{cycle}/debrief/{cohort}/close", summary="结束本场评议 / close the session")
async def close(cycle: str, cohort: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await debrief.close_session(svc, user, cycle, cohort, idem)
