"""Cycles: setup, stages, deadlines, status, the allocation, results."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, json_answer
from api.schemas import AllocationDecisionIn, CycleIn, DeadlineIn, OverrideIn, Reason, TieIn, UnitsIn  # noqa: F401
from services import allocation, setup

router = APIRouter(tags=["cycles 考核周期"])


@router.post("/cycles", status_code=201, summary="创建考核周期 / create a cycle")
async def create_cycle(body: CycleIn, user: CurrentUser, svc: Svc, key: IdempotencyKey = None) -> dict:
    return await setup.create_cycle(svc, user, body.key, body.year, body.name, body.policy, body.schemes, body.categories, body.deadlines, key)


@router.get("/cycles", summary="考核周期列表 / list cycles")
async def list_cycles(user: CurrentUser, svc: Svc) -> list[dict]:
    return await run_in_threadpool(setup.cycles, svc, user)


@router.get("/cycles/{key}", summary="周期详情与各阶段进度 / a cycle and its progress per stage", name="get_cycle")
async def get_cycle(key: str, user: CurrentUser, svc: Svc) -> Response:
    return json_answer(await svc.reads.respond(("cycle", key, setup.cycle_audience(user)), lambda: setup.cycle(svc, user, key)))


@router.post("/cycles/{key}/units", status_code=201, summary="登记单位（可批量）/ register units")
async def register_units(key: str, body: UnitsIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await setup.register_units(svc, user, key, body.units, idem)


@router.post("/cycles/{key}/open", summary="开启周期（启动流程）/ open the cycle")
async def open_cycle(key: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await setup.open_cycle(svc, user, key, idem)


@router.post("/cycles/{key}/stages/{stage}/open", summary="开启阶段 / open a stage")
async def open_stage(key: str, stage: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await setup.open_stage(svc, user, key, stage, idem)


@router.post("/cycles/{key}/stages/{stage}/close", summary="结束阶段 / close a stage")
async def close_stage(key: str, stage: str, user: CurrentUser, svc: Svc, body: Reason | None = None, idem: IdempotencyKey = None) -> dict:
    return await setup.close_stage(svc, user, key, stage, body.reason if body else "", idem)


@router.put("/cycles/{key}/deadlines/{stage}", summary="设置阶段截止时间 / set a stage deadline")
async def set_deadline(key: str, stage: str, body: DeadlineIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await setup.set_deadline(svc, user, key, stage, body.deadline, idem)


@router.post("/cycles/{key}/close", summary="结束周期 / close the cycle")
async def close_cycle(key: str, user: CurrentUser, svc: Svc, body: Reason | None = None, idem: IdempotencyKey = None) -> dict:
    return await setup.close_cycle(svc, user, key, body.reason if body else "", idem)


# ------------------------------------------------------------------ allocation


@router.get("/cycles/{key}/allocation", summary="等次方案（按规则计算）/ the proposed allocation")
async def get_allocation(key: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(allocation.allocation, svc, user, key)


@router.post("/cycles/{key}/allocation/ties", summary="裁定并列 / resolve a tie at the quota boundary")
async def resolve_tie(key: str, body: TieIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await allocation.resolve_tie(svc, user, key, body.cohort, body.units, body.reason, idem, body.meeting_date, body.minute_number)


@router.post("/cycles/{key}/allocation/overrides", summary="调整单个等次 / override a grade")
async def override(key: str, body: OverrideIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await allocation.override(svc, user, key, body.unit, body.grade, body.reason, idem, body.meeting_date, body.minute_number)


@router.post("/cycles/{key}/allocation/approve", summary="提议批准等次方案（法定人数确认后公布）/ propose approving (published once the quorum confirms)")
async def approve(key: str, user: CurrentUser, svc: Svc, body: AllocationDecisionIn | None = None, idem: IdempotencyKey = None) -> dict:
    body = body or AllocationDecisionIn()
    return await allocation.approve(svc, user, key, body.reason, idem, body.meeting_date, body.minute_number)


@router.post("/cycles/{key}/allocation/reject", summary="提议退回等次方案 / propose sending the allocation back")
async def reject(key: str, body: AllocationDecisionIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await allocation.reject(svc, user, key, body.reason, idem, body.meeting_date, body.minute_number)


# ------------------------------------------------------------------ results


@router.get("/cycles/{key}/results", summary="公布的考核结果 / published results")
async def results(key: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(allocation.results, svc, user, key)
