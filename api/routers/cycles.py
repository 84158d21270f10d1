"""Cycles: setup, stages, deadlines, status, the allocation, results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, command_id, forbidden, require, require_unit_scope
from api.errors import error_body
from api.schemas import CycleIn, DeadlineIn, OverrideIn, Reason, TieIn, UnitsIn
from domain.errors import Conflict, NotFound
from domain.grading import unit_result
from domain.rules import STAGES
from domain.scheme import parse_scheme
from projections.models import AdjustmentRow, CycleRow, DistributionRow, NoticeRow, RectificationRow, ResultRow, SessionRow, UnitRow
from workflows import cycle as cw

router = APIRouter(tags=["cycles 考核周期"])


def _cycle_row(svc, key: str) -> CycleRow:
    with svc.runner.sessions() as db:
        row = db.get(CycleRow, key)
        if row is None:
            raise NotFound("cycle_not_found", f"考核周期 {key} 不存在 / no such cycle", "cycle")
        return row


def cycle_view(row: CycleRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "year": row.year,
        "name": row.name,
        "status": row.status,
        "stages": row.stages,
        "deadlines": row.deadlines,
        "policy": row.policy,
        "categories": row.categories,
        "org_types": row.org_types,
        "created_at": row.created_at.isoformat(),
        "published_at": row.published_at.isoformat() if row.published_at else None,
    }


@router.post("/cycles", status_code=201, summary="创建考核周期 / create a cycle")
async def create_cycle(body: CycleIn, user: CurrentUser, svc: Svc, key: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    out = await run_in_threadpool(
        svc.app.create_cycle,
        body.key, body.year, body.name, body.policy, body.schemes, body.categories, body.deadlines,
        user.actor, command_id(user, key),
    )
    await svc.settle(out.to_dict())
    return cycle_view(await run_in_threadpool(_cycle_row, svc, body.key))


@router.get("/cycles", summary="考核周期列表 / list cycles")
async def list_cycles(user: CurrentUser, svc: Svc) -> list[dict]:
    def load():
        with svc.runner.sessions() as db:
            return [cycle_view(r) for r in db.scalars(select(CycleRow).order_by(CycleRow.year.desc(), CycleRow.key))]

    return await run_in_threadpool(load)


def _counts(db, column, cycle_column, key: str, names: tuple) -> dict:
    """How many rows of the cycle have each value of ``column``: one indexed GROUP BY."""
    found = dict(db.execute(select(column, func.count()).where(cycle_column == key).group_by(column)).all())
    return {n: found.get(n, 0) for n in names}


@router.get("/cycles/{key}", summary="周期详情与各阶段进度 / a cycle and its progress per stage", name="get_cycle")
async def get_cycle_answer(key: str, user: CurrentUser, svc: Svc) -> dict:
    return await get_cycle(key, user, svc, answer=True)


async def get_cycle(key: str, user, svc, answer: bool = False) -> Any:
    """The cycle's view (the pages call this); ``answer``: as the route's cached JSON response."""

    def load():
        with svc.runner.sessions() as db:
            row = db.get(CycleRow, key)
            if row is None:
                raise NotFound("cycle_not_found", f"考核周期 {key} 不存在 / no such cycle", "cycle")
            view = cycle_view(row)
            scored = _counts(db, UnitRow.scored, UnitRow.cycle, key, (True, False))
            view["progress"] = {
                "units": scored[True] + scored[False],
                "self_review": _counts(db, UnitRow.self_review, UnitRow.cycle, key, ("pending", "submitted", "missed")),
                "scoring": {"scored": scored[True], "pending": scored[False]},
                "debrief": {
                    cohort: {"open": is_open, "ballots": ballots}
                    for cohort, is_open, ballots in db.execute(
                        select(SessionRow.cohort, SessionRow.is_open, SessionRow.ballots).where(SessionRow.cycle == key)
                    )
                },
                "adjustments": _counts(db, AdjustmentRow.status, AdjustmentRow.cycle, key, ("pending", "approved", "rejected")),
                "feedback": _counts(db, UnitRow.feedback, UnitRow.cycle, key, ("none", "issued", "acknowledged")),
            }
            view["notices"] = [
                {"kind": n.kind, "stage": n.stage, "text": n.text, "at": n.at.isoformat(), "resolved": n.resolved}
                for n in db.execute(
                    select(NoticeRow.kind, NoticeRow.stage, NoticeRow.text, NoticeRow.at, NoticeRow.resolved)
                    .where(NoticeRow.cycle == key).order_by(NoticeRow.id)
                )
            ]
        return view

    if answer:
        return await svc.reads.respond(("cycle", key), load)
    return await run_in_threadpool(load)


@router.post("/cycles/{key}/units", status_code=201, summary="登记单位（可批量）/ register units")
async def register_units(key: str, body: UnitsIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    out = await run_in_threadpool(svc.app.register_units, key, body.units, user.actor, command_id(user, idem))
    await svc.settle(out.to_dict())
    return {"registered": out.data.get("registered", 0)}


@router.post("/cycles/{key}/open", summary="开启周期（启动流程）/ open the cycle")
async def open_cycle(key: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")

    cid = command_id(user, idem)

    def prepare():
        # A retry of an open that went through (its answer lost with the process that sent it)
        # skips the "still in setup?" check: the workflow answers it as the retry it is.
        c = svc.app.cycle(key)
        if not c.seen(cid):
            c = svc.app.check_can_open(key, user.actor)
        return c, {org: {k: str(v) for k, v in parse_scheme(t).point_max.items()} for org, t in c.schemes.items()}

    c, point_max = await run_in_threadpool(prepare)
    result = await svc.gateway.open_cycle(c, point_max, user.actor, cid)

    def carry():
        # Items still open for these units from earlier cycles are carried into this one.
        with svc.runner.sessions() as db:
            rows = db.scalars(select(RectificationRow.id).where(
                RectificationRow.unit.in_(list(c.units)), RectificationRow.status != "closed", RectificationRow.cycle != key
            ))
            open_items = list(rows)
        return svc.app.carry_over(key, open_items, user.actor, cid + "/carry-over")

    carried = await run_in_threadpool(carry)
    result["carried_over"] = carried.data.get("carried", [])
    await svc.settle(result)
    await svc.settle(carried.to_dict())
    return result


def _stage(stage: str) -> str:
    if stage not in STAGES:
        raise NotFound("unknown_stage", f"未知阶段 {stage}（可选：{', '.join(STAGES)}）/ unknown stage", "stage")
    return stage


@router.post("/cycles/{key}/stages/{stage}/open", summary="开启阶段 / open a stage")
async def open_stage(key: str, stage: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    result = await svc.gateway.cycle_update(key, "open_stage", cw.StageCommand(user.actor, _stage(stage)), command_id(user, idem))
    await svc.settle(result)
    return result


@router.post("/cycles/{key}/stages/{stage}/close", summary="结束阶段 / close a stage")
async def close_stage(key: str, stage: str, user: CurrentUser, svc: Svc, body: Reason | None = None, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    cmd = cw.StageCommand(user.actor, _stage(stage), body.reason if body else "")
    result = await svc.gateway.cycle_update(key, "close_stage", cmd, command_id(user, idem))
    await svc.settle(result)
    return result


@router.put("/cycles/{key}/deadlines/{stage}", summary="设置阶段截止时间 / set a stage deadline")
async def set_deadline(key: str, stage: str, body: DeadlineIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    cmd = cw.SetDeadline(user.actor, _stage(stage), body.deadline)
    result = await svc.gateway.cycle_update(key, "set_deadline", cmd, command_id(user, idem))
    await svc.settle(result)
    return result


@router.post("/cycles/{key}/close", summary="结束周期 / close the cycle")
async def close_cycle(key: str, user: CurrentUser, svc: Svc, body: Reason | None = None, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    result = await svc.gateway.cycle_update(key, "close_cycle", cw.Decision(user.actor, body.reason if body else ""), command_id(user, idem))
    await svc.settle(result)
    return result


# ------------------------------------------------------------------ allocation


@router.get("/cycles/{key}/allocation", summary="等次方案（按规则计算）/ the proposed allocation")
async def get_allocation(key: str, user: CurrentUser, svc: Svc) -> dict:
    require(user, "committee", "organizer", "auditor")

    def compute():
        allocation = svc.app.allocation(key)
        cohorts = {}
        for name, c in allocation.cohorts.items():
            cohorts[name] = {
                "n": c.n,
                "quota": c.quota,
                "excellent": c.excellent_count,
                "tie": None
                if c.tie is None
                else {"candidates": list(c.tie.candidates), "places": c.tie.places, "chosen": list(c.tie.chosen or []) or None},
                "incomplete": dict(c.incomplete),
                "units": [
                    {"unit": g.unit, **unit_result(g), "quota_place": g.quota_place, "override_reason": g.override_reason}
                    for g in c.units
                ],
            }
        return {"cycle": key, "approvable": allocation.approvable, "problems": allocation.problems(), "cohorts": cohorts}

    return await run_in_threadpool(compute)


async def _allocation_update(svc, key, user, name, arg, idem) -> dict:
    require(user, "committee")
    result = await svc.gateway.cycle_update(key, name, arg, command_id(user, idem))
    await svc.settle(result)
    return result


@router.post("/cycles/{key}/allocation/ties", summary="裁定并列 / resolve a tie at the quota boundary")
async def resolve_tie(key: str, body: TieIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await _allocation_update(svc, key, user, "resolve_tie", cw.ResolveTie(user.actor, body.cohort, body.units, body.reason), idem)


@router.post("/cycles/{key}/allocation/overrides", summary="调整单个等次 / override a grade")
async def override(key: str, body: OverrideIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await _allocation_update(svc, key, user, "override_grade", cw.OverrideGrade(user.actor, body.unit, body.grade, body.reason), idem)


@router.post("/cycles/{key}/allocation/approve", summary="批准等次方案并公布 / approve and publish")
async def approve(key: str, user: CurrentUser, svc: Svc, body: Reason | None = None, idem: IdempotencyKey = None) -> dict:
    return await _allocation_update(svc, key, user, "approve_allocation", cw.Decision(user.actor, body.reason if body else ""), idem)


@router.post("/cycles/{key}/allocation/reject", summary="退回等次方案 / send the allocation back")
async def reject(key: str, body: Reason, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await _allocation_update(svc, key, user, "reject_allocation", cw.Decision(user.actor, body.reason), idem)


# ------------------------------------------------------------------ results


@router.get("/cycles/{key}/results", summary="公布的考核结果 / published results")
async def results(key: str, user: CurrentUser, svc: Svc) -> dict:
    if user.role not in ("organizer", "committee", "auditor", "admin", "unit"):
        raise forbidden("您的角色不能查看考核结果 / your role cannot read results")

    def load():
        row = _cycle_row(svc, key)
        if row.status not in ("published", "closed"):
            raise Conflict("results_not_published", "考核结果尚未公布 / results are not published yet", "cycle")
        with svc.runner.sessions() as db:
            q = select(ResultRow).where(ResultRow.cycle == key)
            if user.role == "unit":
                q = q.where(ResultRow.unit == user.unit)
            units = {r.unit: r.result for r in db.scalars(q.order_by(ResultRow.unit))}
            doc: dict[str, Any] = {"cycle": key, "units": units}
            if user.role != "unit":
                doc["distribution"] = {
                    d.cohort: d.counts for d in db.scalars(select(DistributionRow).where(DistributionRow.cycle == key).order_by(DistributionRow.cohort))
                }
            return doc

    return await run_in_threadpool(load)
