"""Bonus items, downgrades and vetoes: proposed by the organizer, decided by the committee."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, command_id, forbidden, require
from api.schemas import AdjustmentIn, DecisionIn
from projections.models import AdjustmentRow
from workflows import cycle as cw

router = APIRouter(tags=["adjustments 加分与降档"])


def adjustment_view(a: AdjustmentRow) -> dict:
    return {
        "id": a.id,
        "cycle": a.cycle,
        "unit": a.unit,
        "kind": a.kind,
        "points": a.points,
        "levels": a.levels,
        "reason": a.reason,
        "evidence": a.evidence,
        "proposer": a.proposer,
        "proposed_at": a.proposed_at.isoformat(),
        "status": a.status,
        "decided_by": a.decided_by,
        "decision_reason": a.decision_reason,
    }


@router.get("/cycles/{cycle}/adjustments", summary="加分与降档事项 / adjustments")
async def list_adjustments(cycle: str, user: CurrentUser, svc: Svc) -> list[dict]:
    if user.role not in ("organizer", "committee", "auditor", "admin", "unit"):
        raise forbidden("您的角色不能查看加分与降档 / your role cannot read adjustments")

    def load():
        with svc.runner.sessions() as db:
            q = select(AdjustmentRow).where(AdjustmentRow.cycle == cycle).order_by(AdjustmentRow.proposed_at)
            if user.role == "unit":
                q = q.where(AdjustmentRow.unit == user.unit)
            return [adjustment_view(a) for a in db.scalars(q)]

    return await run_in_threadpool(load)


@router.post("/cycles/{cycle}/adjustments", status_code=201, summary="提出加分/降档/否决 / propose an adjustment")
async def propose(cycle: str, body: AdjustmentIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    cmd = cw.ProposeAdjustment(user.actor, body.unit, body.kind, body.reason, body.points, body.levels, body.evidence)
    result = await svc.gateway.cycle_update(cycle, "propose_adjustment", cmd, command_id(user, idem))
    await svc.settle(result)
    return result


@router.post("/cycles/{cycle}/adjustments/{adjustment}/decision", summary="党委审批 / decide an adjustment")
async def decide(cycle: str, adjustment: str, body: DecisionIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "committee")
    cmd = cw.DecideAdjustment(user.actor, adjustment, body.decision, body.reason)
    result = await svc.gateway.cycle_update(cycle, "decide_adjustment", cmd, command_id(user, idem))
    await svc.settle(result)
    return result
