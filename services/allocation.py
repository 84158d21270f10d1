"""The grade allocation (SPEC §3 stage 6, §5): the proposed allocation under the quota, the
committee's tie resolutions, overrides, approval or sending back; the published results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from domain.errors import Conflict
from domain.grading import unit_result
from domain.stages import CycleStatus
from projections.models import DistributionRow, ResultRow
from services.committee import roster
from services.context import Services
from services.permissions import allow
from services.setup import cycle_row
from workflows import cycle as cycle_workflow


def allocation(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    """The allocation as the rules compute it now, per cohort: quota, tie, incomplete units."""
    allow(user, "allocation.read")
    found = svc.app.allocation(cycle)
    cohorts = {}
    for name, c in found.cohorts.items():
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
    return {"cycle": cycle, "approvable": found.approvable, "problems": found.problems(), "cohorts": cohorts}


# Each decision is a proposal at a meeting; it takes effect when the quorum has confirmed it
# (``services.committee.confirm``).


async def resolve_tie(
    svc: Services, user: User, cycle: str, cohort: str, units: list[str], reason: str = "", idem: str | None = None,
    meeting_date: Any = None, minute_number: Any = None,
) -> dict[str, Any]:
    allow(user, "allocation.decide")
    cmd = cycle_workflow.ResolveTie(user.actor, cohort, units, reason, meeting_date, minute_number, await roster(svc))
    return await svc.cycle_command(user, cycle, "resolve_tie", cmd, idem)


async def override(
    svc: Services, user: User, cycle: str, unit: str, grade: str, reason: str, idem: str | None = None,
    meeting_date: Any = None, minute_number: Any = None,
) -> dict[str, Any]:
    allow(user, "allocation.decide")
    cmd = cycle_workflow.OverrideGrade(user.actor, unit, grade, reason, meeting_date, minute_number, await roster(svc))
    return await svc.cycle_command(user, cycle, "override_grade", cmd, idem)


async def approve(
    svc: Services, user: User, cycle: str, reason: str = "", idem: str | None = None, meeting_date: Any = None, minute_number: Any = None,
) -> dict[str, Any]:
    allow(user, "allocation.decide")
    cmd = cycle_workflow.Decision(user.actor, reason, meeting_date, minute_number, await roster(svc))
    return await svc.cycle_command(user, cycle, "approve_allocation", cmd, idem)


async def reject(
    svc: Services, user: User, cycle: str, reason: str, idem: str | None = None, meeting_date: Any = None, minute_number: Any = None,
) -> dict[str, Any]:
    allow(user, "allocation.decide")
    cmd = cycle_workflow.Decision(user.actor, reason, meeting_date, minute_number, await roster(svc))
    return await svc.cycle_command(user, cycle, "reject_allocation", cmd, idem)


def results(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    """The published results; a unit user sees their own unit and no distribution."""
    allow(user, "results.read")
    row = cycle_row(svc, cycle)
    if row.status not in (CycleStatus.PUBLISHED, CycleStatus.CLOSED):
        raise Conflict("results_not_published", zh="考核结果尚未公布", en="results are not published yet", field="cycle")
    with svc.runner.sessions() as db:
        q = select(ResultRow).where(ResultRow.cycle == cycle)
        if user.role == "unit":
            q = q.where(ResultRow.unit == user.unit)
        doc: dict[str, Any] = {"cycle": cycle, "units": {r.unit: r.result for r in db.scalars(q.order_by(ResultRow.unit))}}
        if user.role != "unit":
            doc["distribution"] = {
                d.cohort: d.counts
                for d in db.scalars(select(DistributionRow).where(DistributionRow.cycle == cycle).order_by(DistributionRow.cohort))
            }
        return doc
