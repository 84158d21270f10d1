"""Bonus items, downgrades and vetoes: proposed by the organizer, decided by the committee."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc
from api.schemas import AdjustmentIn, DecisionIn
from services import adjustments

router = APIRouter(tags=["adjustments 加分与降档"])


@router.get("/cycles/{cycle}/adjustments", summary="加分与降档事项 / adjustments")
async def list_adjustments(cycle: str, user: CurrentUser, svc: Svc) -> list[dict]:
    return await run_in_threadpool(adjustments.adjustments, svc, user, cycle)


@router.post("/cycles/{cycle}/adjustments", status_code=201, summary="提出加分/降档/否决 / propose an adjustment")
async def propose(cycle: str, body: AdjustmentIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await adjustments.propose(svc, user, cycle, body.unit, body.kind, body.reason, body.points, body.levels, body.evidence, idem)


@router.post("/cycles/{cycle}/adjustments/{adjustment}/decision", summary="提议党委审批决定（待法定人数确认）/ propose the committee's decision on an adjustment")
async def decide(cycle: str, adjustment: str, body: DecisionIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await adjustments.decide(svc, user, cycle, adjustment, body.decision, body.reason, idem, body.meeting_date, body.minute_number)
