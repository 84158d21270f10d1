"""The organizer's overview of a cycle (SPEC §3, "every human step is a task"): per unit and per
step, who is done, who is not, who is overdue; and the organizer's reminder (催办) of a unit.

A unit's state per step (``STEPS``): ``done``, ``not_done`` or ``overdue`` (not done and past
the step's deadline, or recorded as missed after its deadline); ``None`` where the step does not concern the unit
(no rectification item). Reads come from the read models in one query per table, whatever the
number of units.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select

from adapters.accounts import User
from domain.errors import NotFound
from domain.rules import FeedbackStatus, RectificationStatus, SelfReviewStatus
from domain.stages import missed_overdue
from projections.models import CycleRow, RectificationRow, ReminderRow, UnitRow
from services.context import Services, command_id, in_thread
from services.permissions import allow

#: The steps the overview counts, in the cycle's order.
STEPS = ("self_review", "scoring", "feedback", "rectification")
DONE, NOT_DONE, OVERDUE = "done", "not_done", "overdue"
#: A rectification item the unit itself must act on (report or submit).
UNIT_ACTS = (RectificationStatus.OPEN, RectificationStatus.IN_PROGRESS)


def _past(deadline: str | None, now: datetime) -> bool:
    try:
        return bool(deadline) and datetime.fromisoformat(deadline) < now
    except (TypeError, ValueError):
        return False


def item_late(status: str, overdue: bool, deadline: str | None, now: datetime | None = None) -> bool:
    """A rectification item still open is late when it was recorded overdue or its deadline passed."""
    if status == RectificationStatus.CLOSED:
        return False
    return bool(overdue) or _past(deadline, now or datetime.now(timezone.utc))


def unit_states(u: dict[str, Any], deadlines: dict[str, str], now: datetime) -> dict[str, str | None]:
    """The unit's state per step (see the module's docstring)."""
    def state(done: bool, late: bool) -> str:
        return DONE if done else (OVERDUE if late else NOT_DONE)

    items = u["items"]
    return {
        # Recorded as not submitted counts as overdue only when its deadline had passed then
        # (domain.stages.missed_overdue); closed out early it is simply not done.
        "self_review": state(u["self_review"] == SelfReviewStatus.SUBMITTED,
                             missed_overdue(deadlines.get("self_review"), u.get("self_review_at"))
                             if u["self_review"] == SelfReviewStatus.MISSED else _past(deadlines.get("self_review"), now)),
        "scoring": state(u["scored"], _past(deadlines.get("scoring"), now)),
        "feedback": state(u["feedback"] == FeedbackStatus.ACKNOWLEDGED, _past(deadlines.get("feedback"), now)),
        "rectification": None if not items["total"] else state(items["closed"] == items["total"], items["overdue"] > 0),
    }


def _cycle(db: Any, cycle: str) -> CycleRow:
    row = db.get(CycleRow, cycle)
    if row is None:
        raise NotFound("cycle_not_found", zh=f"考核周期 {cycle} 不存在", en="no such cycle", field="cycle")
    return row


def units(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    """Every unit of the cycle with its state per step, its rectification items counted
    (``total``, ``closed``, ``to_act`` by the unit, ``submitted`` for verification, ``overdue``)
    and the reminders it was sent per step (``reminded``: step → count, last time, by whom)."""
    allow(user, "overview.read")
    now = datetime.now(timezone.utc)
    with svc.runner.sessions() as db:
        c = _cycle(db, cycle)
        deadlines = dict(c.deadlines or {})
        items: dict[str, dict[str, int]] = {}
        q = select(RectificationRow.unit, RectificationRow.status, RectificationRow.overdue, RectificationRow.deadline).where(
            RectificationRow.cycle == cycle)
        for unit, status, overdue, deadline in db.execute(q):
            n = items.setdefault(unit, {"total": 0, "closed": 0, "to_act": 0, "submitted": 0, "overdue": 0})
            n["total"] += 1
            if status == RectificationStatus.CLOSED:
                n["closed"] += 1
                continue
            n["to_act"] += status in UNIT_ACTS
            n["submitted"] += status == RectificationStatus.SUBMITTED
            n["overdue"] += item_late(status, overdue, deadline, now)
        reminded: dict[str, dict[str, dict[str, Any]]] = {}
        for r in db.scalars(select(ReminderRow).where(ReminderRow.cycle == cycle)):
            reminded.setdefault(r.unit, {})[r.stage] = {"count": r.count, "at": r.last_at.isoformat(), "by": r.last_by}
        cols = (UnitRow.unit, UnitRow.name, UnitRow.cohort, UnitRow.self_review, UnitRow.self_review_at, UnitRow.scored, UnitRow.feedback)
        out = []
        for unit, name, cohort, self_review, self_review_at, scored, feedback in db.execute(select(*cols).where(UnitRow.cycle == cycle).order_by(UnitRow.unit)):
            u = {
                "unit": unit, "name": name, "cohort": cohort, "self_review": self_review,
                "self_review_at": self_review_at.isoformat() if self_review_at else None, "scored": bool(scored), "feedback": feedback,
                "items": items.get(unit, {"total": 0, "closed": 0, "to_act": 0, "submitted": 0, "overdue": 0}),
                "reminded": reminded.get(unit, {}),
            }
            u["state"] = unit_states(u, deadlines, now)
            last = [r["at"] for r in u["reminded"].values()]
            u["last_reminded"] = max(last) if last else None
            out.append(u)
        return out


def summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Step → cohort (and ``""`` for all) → how many are done, not done (overdue included), overdue."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    for step in STEPS:
        per = out.setdefault(step, {})
        for u in rows:
            s = u["state"][step]
            if s is None:
                continue
            for cohort in (u["cohort"], ""):
                n = per.setdefault(cohort, {DONE: 0, NOT_DONE: 0, OVERDUE: 0})
                n[DONE if s == DONE else NOT_DONE] += 1
                n[OVERDUE] += s == OVERDUE
    return out


def remindable(u: dict[str, Any], step: str, stages: dict[str, str]) -> bool:
    """Whether the page offers a reminder of ``step`` to unit ``u`` (the domain decides when it is sent)."""
    if step == "self_review":
        return stages.get("self_review") == "open" and u["self_review"] == SelfReviewStatus.PENDING
    if step == "feedback":
        return u["feedback"] == FeedbackStatus.ISSUED
    if step == "rectification":
        return u["items"]["to_act"] > 0
    return False


def _to_act(svc: Services, cycle: str, unit: str) -> int:
    with svc.runner.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(RectificationRow).where(
            RectificationRow.cycle == cycle, RectificationRow.unit == unit, RectificationRow.status.in_(UNIT_ACTS))) or 0)


async def remind(svc: Services, user: User, cycle: str, unit: str, stage: str, note: str = "", idem: str | None = None) -> dict[str, Any]:
    """The organizer reminds (催办) ``unit`` of ``stage``: recorded as an event on the unit; the
    unit's inbox shows it until the unit takes the step. A retry with the same key records once."""
    allow(user, "unit.remind")
    to_act = await in_thread(_to_act, svc, cycle, unit)
    return await svc.recorded(svc.app.remind_unit, cycle, unit, stage, note, to_act, user.actor, command_id(user, idem))
