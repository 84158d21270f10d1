"""A unit in a cycle: self-review (draft and submit), indicator scoring, feedback."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, json_answer
from api.schemas import EvaluatorsIn, FeedbackIn, ScoringIn, SelfReviewIn
from services import feedback, review

router = APIRouter(tags=["units 被考核单位"])


@router.get("/cycles/{cycle}/units", summary="周期内的单位 / units of a cycle", name="list_units")
async def list_units(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    return json_answer(await svc.reads.respond(review.units_cache_key(user, cycle), lambda: review.units(svc, user, cycle)))


@router.get("/cycles/{cycle}/units/{unit}", summary="单位详情 / one unit")
async def get_unit(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(review.unit, svc, user, cycle, unit)


@router.put("/cycles/{cycle}/units/{unit}/self-review/draft", summary="保存自评草稿 / save a self-review draft")
async def save_draft(cycle: str, unit: str, body: SelfReviewIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await review.save_draft(svc, user, cycle, unit, body.scores, body.evidence, idem)


@router.post("/cycles/{cycle}/units/{unit}/self-review", summary="提交自查自评 / submit the self-review")
async def submit_self_review(cycle: str, unit: str, body: SelfReviewIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await review.submit_self_review(svc, user, cycle, unit, body.scores, body.evidence, idem)


@router.post("/cycles/{cycle}/units/{unit}/scoring", summary="提交指标评分 / submit the unit's scoring")
async def submit_scoring(cycle: str, unit: str, body: ScoringIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await review.submit_scoring(svc, user, cycle, unit, body.scores, body.na_reasons, body.comments, idem)


@router.put("/cycles/{cycle}/units/{unit}/evaluators", summary="分配考核组成员 / assign the unit's evaluators")
async def assign_evaluators(cycle: str, unit: str, body: EvaluatorsIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await review.assign_evaluators(svc, user, cycle, unit, body.evaluators, idem)


@router.get("/cycles/{cycle}/evaluators", summary="各单位的考核组成员 / evaluators assigned per unit")
async def list_assignments(cycle: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(review.assignments, svc, user, cycle)


@router.post("/cycles/{cycle}/units/{unit}/feedback", summary="下发考核反馈 / issue feedback")
async def issue_feedback(cycle: str, unit: str, body: FeedbackIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await feedback.issue(svc, user, cycle, unit, body.text, idem)


@router.post("/cycles/{cycle}/units/{unit}/feedback/acknowledge", summary="确认收到反馈 / acknowledge feedback")
async def acknowledge(cycle: str, unit: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await feedback.acknowledge(svc, user, cycle, unit, idem)
