"""The committee decides as a body: its pending proposals, and a member's confirmation or
objection. Proposals are made by each decision's own route (``…/adjustments/{a}/decision``,
``…/allocation/ties``, ``…/allocation/overrides``, ``…/allocation/approve``, ``…/allocation/reject``)
with the meeting's ``meeting_date`` and ``minute_number``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc
from api.schemas import ObjectionIn
from services import committee

router = APIRouter(tags=["committee 党委集体决定"])


@router.get("/cycles/{cycle}/proposals", summary="党委待确认与已处理的提议 / the committee's proposals")
async def list_proposals(cycle: str, user: CurrentUser, svc: Svc, pending: bool = False) -> list[dict]:
    return await run_in_threadpool(committee.proposals, svc, user, cycle, pending)


@router.post("/cycles/{cycle}/proposals/{proposal}/confirm", summary="确认提议 / confirm a proposal")
async def confirm(cycle: str, proposal: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await committee.confirm(svc, user, cycle, proposal, idem)


@router.post("/cycles/{cycle}/proposals/{proposal}/objection", summary="对提议提出异议 / object to a proposal")
async def object_to(cycle: str, proposal: str, body: ObjectionIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await committee.object_to(svc, user, cycle, proposal, body.reason, idem)
