"""Setup (SPEC §3 stage 1) and the cycle's course: create a cycle, register units, open it,
open and close stages, set deadlines, close the cycle; the cycle's view and its progress."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from adapters.accounts import User
from domain.errors import NotFound
from domain.rules import (
    STAGES,
    AdjustmentStatus,
    FeedbackStatus,
    RectificationStatus,
    SelfReviewStatus,
)
from domain.scheme import parse_scheme
from projections.models import (
    AdjustmentRow,
    CycleRow,
    NoticeRow,
    RectificationRow,
    SessionRow,
    UnitRow,
)
from services.context import Services, command_id, in_thread
from services.permissions import allow, may
from workflows import cycle as cycle_workflow

# ------------------------------------------------------------------ queries


def cycle_row(svc: Services, key: str) -> CycleRow:
    with svc.runner.sessions() as db:
        row = db.get(CycleRow, key)
        if row is None:
            raise NotFound("cycle_not_found", zh=f"考核周期 {key} 不存在", en="no such cycle", field="cycle")
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


def cycle_summary(svc: Services, user: User, key: str) -> dict[str, Any]:
    """The cycle itself, without its progress."""
    allow(user, "cycle.read")
    return cycle_view(cycle_row(svc, key))


def cycles(svc: Services, user: User) -> list[dict[str, Any]]:
    allow(user, "cycle.read")
    with svc.runner.sessions() as db:
        return [cycle_view(r) for r in db.scalars(select(CycleRow).order_by(CycleRow.year.desc(), CycleRow.key))]


def _counts(db: Any, column: Any, cycle_column: Any, key: str, names: tuple) -> dict:
    """How many rows of the cycle have each value of ``column``: one indexed GROUP BY."""
    found = dict(db.execute(select(column, func.count()).where(cycle_column == key).group_by(column)).all())
    return {n: found.get(n, 0) for n in names}


def cycle(svc: Services, user: User, key: str) -> dict[str, Any]:
    """The cycle with its progress per stage and the notices the organizer must see.

    What one unit could learn of the others is for the roles that oversee the cycle only
    (``oversight.read``: organizer, committee, auditor): the committee's free-text reason for
    sending the allocation back (it may name units and grades) and the ballot counts. The
    progress is for those who read the units (not the admin, who keeps the accounts)."""
    allow(user, "cycle.read")
    overseer = may(user, "oversight.read")
    with svc.runner.sessions() as db:
        row = db.get(CycleRow, key)
        if row is None:
            raise NotFound("cycle_not_found", zh=f"考核周期 {key} 不存在", en="no such cycle", field="cycle")
        view = cycle_view(row)
        if not may(user, "units.read"):
            return view
        scored = _counts(db, UnitRow.scored, UnitRow.cycle, key, (True, False))
        view["progress"] = {
            "units": scored[True] + scored[False],
            "self_review": _counts(db, UnitRow.self_review, UnitRow.cycle, key, tuple(SelfReviewStatus)),
            "scoring": {"scored": scored[True], "pending": scored[False]},
            "debrief": {
                cohort: ({"open": is_open, "ballots": ballots} if overseer else {"open": is_open})
                for cohort, is_open, ballots in db.execute(
                    select(SessionRow.cohort, SessionRow.is_open, SessionRow.ballots).where(SessionRow.cycle == key)
                )
            },
            "adjustments": _counts(db, AdjustmentRow.status, AdjustmentRow.cycle, key, tuple(AdjustmentStatus)),
            "feedback": _counts(db, UnitRow.feedback, UnitRow.cycle, key, tuple(FeedbackStatus)),
        }
        view["notices"] = [
            {"kind": n.kind, "stage": n.stage, "text": n.text if overseer or n.kind != "allocation_rejected" else SENT_BACK,
             "at": n.at.isoformat(), "resolved": n.resolved}
            for n in db.execute(
                select(NoticeRow.kind, NoticeRow.stage, NoticeRow.text, NoticeRow.at, NoticeRow.resolved)
                .where(NoticeRow.cycle == key).order_by(NoticeRow.id)
            )
        ]
    return view


#: A sent-back allocation as those who do not oversee the cycle read it: without the reason.
SENT_BACK = "党委退回等次方案 / the committee sent the allocation back"


def cycle_audience(user: User) -> str:
    """Which version of ``cycle`` the user reads (a read cache keeps one answer per version)."""
    return "overseer" if may(user, "oversight.read") else "units" if may(user, "units.read") else "summary"


def stage(name: str) -> str:
    if name not in STAGES:
        raise NotFound("unknown_stage", zh=f"未知阶段 {name}（可选：{', '.join(STAGES)}）", en="unknown stage", field="stage")
    return name


# ------------------------------------------------------------------ commands


async def create_cycle(
    svc: Services, user: User, key: str, year: int, name: str, policy: Any, schemes: Any, categories: Any = None,
    deadlines: Any = None, idem: str | None = None,
) -> dict[str, Any]:
    allow(user, "cycle.create")
    await svc.recorded(svc.app.create_cycle, key, year, name, policy, schemes, categories, deadlines, user.actor, command_id(user, idem))
    return await in_thread(lambda: cycle_view(cycle_row(svc, key)))


async def register_units(svc: Services, user: User, key: str, units: Any, idem: str | None = None) -> dict[str, Any]:
    allow(user, "units.register")
    out = await svc.recorded(svc.app.register_units, key, units, user.actor, command_id(user, idem))
    return {"registered": out.get("registered", 0)}


async def open_cycle(svc: Services, user: User, key: str, idem: str | None = None) -> dict[str, Any]:
    """Start the cycle's workflow, then carry into it the items still open for its units from
    earlier cycles."""
    allow(user, "cycle.open")
    cid = command_id(user, idem)

    def prepare():
        # A retry of an open that went through (its answer lost with the process that sent it)
        # skips the "still in setup?" check: the workflow answers it as the retry it is.
        c = svc.app.cycle(key)
        if not c.seen(cid):
            c = svc.app.check_can_open(key, user.actor)
        return c, {org: {k: str(v) for k, v in parse_scheme(t).point_max.items()} for org, t in c.schemes.items()}

    c, point_max = await in_thread(prepare)
    result = await svc.gateway.open_cycle(c, point_max, user.actor, cid)

    def carry():
        with svc.runner.sessions() as db:
            open_items = list(db.scalars(select(RectificationRow.id).where(
                RectificationRow.unit.in_(list(c.units)), RectificationRow.status != RectificationStatus.CLOSED, RectificationRow.cycle != key
            )))
        return svc.app.carry_over(key, open_items, user.actor, cid + "/carry-over")

    carried = await in_thread(carry)
    result["carried_over"] = carried.data.get("carried", [])
    await svc.caught_up(result)
    await svc.caught_up(carried.to_dict())
    return result




async def open_stage(svc: Services, user: User, key: str, name: str, idem: str | None = None) -> dict[str, Any]:
    allow(user, "stage.open")
    return await svc.cycle_command(user, key, "open_stage", cycle_workflow.StageCommand(user.actor, stage(name)), idem)


async def close_stage(svc: Services, user: User, key: str, name: str, reason: str = "", idem: str | None = None) -> dict[str, Any]:
    allow(user, "stage.close")
    return await svc.cycle_command(user, key, "close_stage", cycle_workflow.StageCommand(user.actor, stage(name), reason), idem)


async def set_deadline(svc: Services, user: User, key: str, name: str, deadline: str | None, idem: str | None = None) -> dict[str, Any]:
    allow(user, "deadline.set")
    return await svc.cycle_command(user, key, "set_deadline", cycle_workflow.SetDeadline(user.actor, stage(name), deadline), idem)


async def close_cycle(svc: Services, user: User, key: str, reason: str = "", idem: str | None = None) -> dict[str, Any]:
    allow(user, "cycle.close")
    return await svc.cycle_command(user, key, "close_cycle", cycle_workflow.Decision(user.actor, reason), idem)

