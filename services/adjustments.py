"""Adjustments (SPEC §3 stage 5): bonus points, downgrades and vetoes, proposed by the
organizer and decided by the committee."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from projections.models import AdjustmentRow
from services.committee import roster
from services.context import Services
from services.permissions import allow
from workflows import cycle as cycle_workflow


def adjustment_view(a: AdjustmentRow) -> dict[str, Any]:
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


def adjustments(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    allow(user, "adjustments.read")
    with svc.runner.sessions() as db:
        q = select(AdjustmentRow).where(AdjustmentRow.cycle == cycle).order_by(AdjustmentRow.proposed_at)
        if user.role == "unit":
            q = q.where(AdjustmentRow.unit == user.unit)
        return [adjustment_view(a) for a in db.scalars(q)]


async def propose(
    svc: Services, user: User, cycle: str, unit: str, kind: str, reason: str, points: Any = None, levels: Any = None,
    evidence: str = "", idem: str | None = None,
) -> dict[str, Any]:
    allow(user, "adjustment.propose")
    cmd = cycle_workflow.ProposeAdjustment(user.actor, unit, kind, reason, points, levels, evidence)
    return await svc.cycle_command(user, cycle, "propose_adjustment", cmd, idem)


async def decide(
    svc: Services, user: User, cycle: str, adjustment: str, decision: str, reason: str = "", idem: str | None = None,
    meeting_date: Any = None, minute_number: Any = None,
) -> dict[str, Any]:
    """Propose, at a meeting, the committee's decision on it: it takes effect when the quorum has
    confirmed it (``services.committee.confirm``)."""
    allow(user, "adjustment.decide")
    cmd = cycle_workflow.DecideAdjustment(user.actor, adjustment, decision, reason, meeting_date, minute_number, await roster(svc))
    return await svc.cycle_command(user, cycle, "decide_adjustment", cmd, idem)
