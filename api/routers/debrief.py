"""Debrief sessions, their rosters, ballot sheets and the one-time ballot codes."""

from __future__ import annotations


from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, download, json_answer
from api.schemas import BallotIn, Bounded, CloseSessionIn, CodeBallotIn, CodesIn
from services import debrief

router = APIRouter(tags=["debrief 述职评议"])


@router.get("/cycles/{cycle}/debrief", summary="述职评议场次 / debrief sessions", name="sessions")
async def sessions(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    return json_answer(await svc.reads.respond(debrief.sessions_cache_key(user, cycle), lambda: debrief.sessions(svc, user, cycle)))


@router.get("/cycles/{cycle}/debrief/{cohort}", summary="一场述职评议：名单、到会率 / one session: roster, turnout")
async def session(cycle: str, cohort: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(debrief.session_view, svc, user, cycle, cohort)


@router.put("/cycles/{cycle}/debrief/{cohort}/roster", summary="登记参会名单 / set the session's roster")
async def set_roster(
    cycle: str, cohort: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None,
    body: Bounded = Body(..., examples=[[{"representative": "R01", "category": "leaders"}]]),
) -> dict:
    """``[{representative, category}]``; replaces the roster as a whole. Allowed from the cycle's
    setup until the session closes; a representative who has cast stays on it."""
    return await debrief.set_roster(svc, user, cycle, cohort, body, idem)


@router.post("/cycles/{cycle}/debrief/{cohort}/ballots", summary="提交评议表 / cast my ballot sheet")
async def cast(cycle: str, cohort: str, body: BallotIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await debrief.cast_ballot(svc, user, cycle, cohort, body.category, body.scores, idem)


@router.post("/cycles/{cycle}/debrief/{cohort}/close", summary="结束本场评议 / close the session")
async def close(
    cycle: str, cohort: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None, body: CloseSessionIn | None = None
) -> dict:
    return await debrief.close_session(svc, user, cycle, cohort, idem, body.reason if body else None)


@router.post("/cycles/{cycle}/debrief/{cohort}/codes", summary="发放一次性评议码 / issue one-time ballot codes")
async def issue_codes(cycle: str, cohort: str, request: Request, user: CurrentUser, svc: Svc, body: CodesIn | None = None) -> dict:
    """Codes for the rostered representatives who have not cast (or ``representatives`` only),
    each with the URL of its phone ballot page. Issuing again revokes their unspent codes."""
    return await debrief.issue_codes(svc, user, cycle, cohort, str(request.base_url), body.representatives if body else None)


@router.post("/cycles/{cycle}/debrief/{cohort}/codes.pdf", summary="评议码打印页（PDF）/ the printable QR sheet")
async def codes_pdf(cycle: str, cohort: str, request: Request, user: CurrentUser, svc: Svc, body: CodesIn | None = None) -> Response:
    data = await debrief.codes_pdf(svc, user, cycle, cohort, str(request.base_url), body.representatives if body else None)
    return download(data, "application/pdf", f"{cycle}-{cohort}-评议码.pdf")


@router.get("/ballot-codes/{code}", summary="评议码对应的评议表 / the ballot a code opens (no account)")
async def code_ballot(code: str, svc: Svc) -> dict:
    return await run_in_threadpool(debrief.code_ballot, svc, code)


@router.post("/ballot-codes/{code}", summary="凭评议码提交评议表 / cast the sheet of a ballot code (no account)")
async def cast_by_code(code: str, body: CodeBallotIn, svc: Svc) -> dict:
    return await debrief.cast_by_code(svc, code, body.scores)
