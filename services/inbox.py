"""My inbox: what waits for me, for which cycle and unit, since when, and by when. The inbox
states no rule of its own: it asks the domain's rules whether each step may happen now."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from domain import rules
from domain import wording
from domain.errors import Bilingual, DomainError
from domain.rules import OPEN, PENDING, STAGE_NAMES, FeedbackStatus, RectificationStatus
from domain.stages import CycleStatus
from projections.models import (
    AdjustmentRow,
    AssignmentRow,
    BallotRow,
    CycleRow,
    NoticeRow,
    RectificationRow,
    ReminderRow,
    SessionRow,
    UnitRow,
)
from services.context import Services
from services.permissions import allow


def _task(kind: str, title: str, cycle: CycleRow, since: Any, stage: str | None = None, **extra: Any) -> dict[str, Any]:
    deadline = cycle.deadlines.get(stage) if stage else None
    now = datetime.now(timezone.utc)
    overdue = bool(deadline) and datetime.fromisoformat(deadline) < now
    if isinstance(since, datetime):
        since = (since if since.tzinfo else since.replace(tzinfo=timezone.utc)).isoformat()
    return {
        "kind": kind,
        "title": title,
        "cycle": cycle.key,
        "cycle_name": cycle.name,
        "stage": stage,
        "since": since,
        "deadline": deadline,
        "overdue": overdue or kind == "deadline_missed",
        **extra,
    }


def allowed(rule, *args: Any) -> bool:
    """Whether the domain's rule lets the step happen now (the inbox states no rule of its own)."""
    try:
        rule(*args)
    except DomainError:
        return False
    return True


_UNIT_COLUMNS = (UnitRow.unit, UnitRow.name, UnitRow.self_review, UnitRow.self_review_at, UnitRow.scored, UnitRow.feedback, UnitRow.feedback_at)


def _units(db, c: CycleRow, user: User) -> list:
    """Only the units this user's tasks can be about, and only the columns the tasks read (no
    JSON score columns): a unit user's own unit; an evaluator's while scoring is open; for the
    organizer, units without feedback while feedback is open."""
    q = select(*_UNIT_COLUMNS).where(UnitRow.cycle == c.key).order_by(UnitRow.unit)
    if user.role == "unit":
        q = q.where(UnitRow.unit == user.unit)
    elif user.role == "evaluator" and c.stages.get("scoring") == OPEN:
        pass
    elif user.role == "organizer" and c.stages.get("feedback") == OPEN:
        q = q.where(UnitRow.feedback == FeedbackStatus.NONE)
    else:
        return []
    return list(db.execute(q))


def inbox(db, user: User, proposals: Any = None) -> list[dict[str, Any]]:
    """``proposals``: the cycle key → its committee proposals (``Assessments.proposals``), for a
    committee member's confirmations."""
    tasks: list[dict[str, Any]] = []
    cycles = list(db.scalars(select(CycleRow).where(CycleRow.status != CycleStatus.CLOSED).order_by(CycleRow.key)))
    for c in cycles:
        since = lambda stage: (c.stage_changed_at or {}).get(stage) or c.updated_at  # noqa: E731
        units = _units(db, c, user)
        if user.role == "organizer":
            if c.status == CycleStatus.SETUP:
                tasks.append(_task("open_cycle", Bilingual(f"开启考核周期「{c.name}」", f"open the cycle “{c.name}”"), c, c.created_at))
            for n in db.scalars(select(NoticeRow).where(NoticeRow.cycle == c.key, NoticeRow.resolved.is_(False))):
                tasks.append(_task(n.kind, n.text, c, n.at, n.stage))
            for stage in ("self_review", "scoring", "debrief", "adjustments"):
                if c.stages.get(stage) == OPEN:
                    tasks.append(_task("close_stage", Bilingual(f"结束「{STAGE_NAMES[stage]}」阶段", f"close the {wording.stage(stage, 'en')} stage"), c, since(stage), stage))
            if c.status == CycleStatus.OPEN:
                for stage in ("scoring", "debrief", "adjustments"):
                    if allowed(rules.check_open_stage, c.stages, stage):
                        tasks.append(_task("open_stage", Bilingual(f"开启「{STAGE_NAMES[stage]}」阶段", f"open the {wording.stage(stage, 'en')} stage"), c, c.updated_at, stage))
            for s in db.scalars(select(SessionRow).where(SessionRow.cycle == c.key, SessionRow.is_open.is_(True))):
                tasks.append(_task("close_session", Bilingual(f"结束{wording.cohort(s.cohort)}述职评议（已收 {s.ballots} 份）",
                                                      f"close the debrief session of the {wording.cohort(s.cohort, 'en')} ({s.ballots} sheets in)"), c, s.opened_at, "debrief", cohort=s.cohort))
            if c.stages.get("feedback") == OPEN:
                for u in units:
                    if u.feedback == FeedbackStatus.NONE:
                        tasks.append(_task("issue_feedback", Bilingual(f"向 {u.name} 下发考核反馈", f"issue feedback to {u.name}"), c, since("feedback"), "feedback", unit=u.unit))
        elif user.role == "unit":
            for u in units:
                if u.unit != user.unit:
                    continue
                if allowed(rules.check_self_review, c.stages, user.actor, u.unit, u.self_review):
                    tasks.append(_task("submit_self_review", Bilingual(f"提交 {u.name} 的自查自评", f"submit the self-review of {u.name}"), c, since("self_review"), "self_review", unit=u.unit))
                if u.feedback == FeedbackStatus.ISSUED:
                    tasks.append(_task("acknowledge_feedback", Bilingual("确认收到考核反馈", "acknowledge the feedback"), c, u.feedback_at, "feedback", unit=u.unit))
        elif user.role == "evaluator":
            if c.stages.get("scoring") == OPEN:
                assigned: dict[str, list[str]] = {}  # unit → its evaluators; a unit not here: all of them
                for a in db.scalars(select(AssignmentRow).where(AssignmentRow.cycle == c.key)):
                    assigned.setdefault(a.unit, []).append(a.evaluator)
                for u in units:
                    if allowed(rules.check_scoring, c.stages, user.actor, u.unit, u.self_review, u.scored, assigned.get(u.unit)):
                        tasks.append(_task("submit_scoring", Bilingual(f"为 {u.name} 的评价要点评分", f"score {u.name}"), c, u.self_review_at or since("scoring"), "scoring", unit=u.unit))
        elif user.role == "representative":
            cast = {b.cohort for b in db.scalars(select(BallotRow).where(BallotRow.cycle == c.key, BallotRow.representative == user.username))}
            for s in db.scalars(select(SessionRow).where(SessionRow.cycle == c.key, SessionRow.is_open.is_(True))):
                if s.cohort not in cast and on_roster(s, user):  # only where the organizer rostered them
                    tasks.append(_task("cast_ballot", Bilingual(f"为{wording.cohort(s.cohort)}书记述职评分", f"score the secretaries of the {wording.cohort(s.cohort, 'en')}"), c, s.opened_at, "debrief", cohort=s.cohort))
        elif user.role == "committee":
            deciding = c.stages.get("adjustments") == OPEN or c.stages.get("allocation") == OPEN
            pending = [p for p in (proposals(c.key) if proposals and deciding else []) if p["status"] == rules.ProposalStatus.PENDING]
            proposed_on = {p.get("adjustment") for p in pending}
            for p in pending:
                if not rules.may_confirm(user.actor, p):
                    continue  # the proposer and those who confirmed; a member attached to a unit it concerns abstains
                stage = "adjustments" if p["subject"] == rules.Subject.ADJUSTMENT else "allocation"
                what = f"{p['subject_name']}" + (f"（{p['unit']}）" if p.get("unit") else "")
                tasks.append(_task(
                    "confirm_decision",
                    Bilingual(f"确认党委会议（{p['meeting_date']}，纪要 {p['minute_number']}）提议：{what}，已确认 {len(p['confirmed_by'])}/{p['quorum']}",
                              f"confirm the proposal of the meeting of {p['meeting_date']} (minute {p['minute_number']}), "
                              f"{len(p['confirmed_by'])} of {p['quorum']} confirmed"),
                    c, since(stage), stage, proposal=p["id"], subject=p["subject"], unit=p.get("unit"), adjustment=p.get("adjustment"),
                ))
            if c.stages.get("adjustments") == OPEN:
                for a in db.scalars(select(AdjustmentRow).where(AdjustmentRow.cycle == c.key, AdjustmentRow.status == PENDING)):
                    if a.id in proposed_on or not allowed(rules.check_decide, c.stages, user.actor, a.unit, a.proposer, a.status):
                        continue  # already proposed; or the proposer, or a member attached to the unit, abstains
                    tasks.append(_task("decide_adjustment", Bilingual(f"审批 {a.unit} 的{ {'bonus': '加分', 'downgrade': '降档', 'veto': '一票否决'}[a.kind] }事项", f"decide the {a.kind} of {a.unit}"), c, a.proposed_at, "adjustments", unit=a.unit, adjustment=a.id))
            whole = {rules.Subject.APPROVE_ALLOCATION, rules.Subject.REJECT_ALLOCATION}
            if c.stages.get("allocation") == OPEN and not any(p["subject"] in whole for p in pending):
                tasks.append(_task("approve_allocation", Bilingual("审定考核等次方案", "approve the grade allocation"), c, since("allocation"), "allocation"))
    all_cycles = {c.key: c for c in db.scalars(select(CycleRow))}
    tasks.extend(rectification_tasks(db, user, all_cycles))
    tasks.extend(reminder_tasks(db, user, all_cycles))
    return tasks


def on_roster(session: SessionRow, user: User) -> bool:
    return any(entry.get("representative") == user.username for entry in session.roster or [])


def rectification_tasks(db, user: User, cycles: dict[str, CycleRow]) -> list[dict[str, Any]]:
    """Items to report on (unit), to verify (organizer), and overdue ones (both)."""
    out: list[dict[str, Any]] = []
    q = select(RectificationRow).where(RectificationRow.status != RectificationStatus.CLOSED).order_by(RectificationRow.deadline)
    if user.role == "unit":
        q = q.where(RectificationRow.unit == user.unit)
    elif user.role != "organizer":
        return out
    now = datetime.now(timezone.utc)
    for r in db.scalars(q):
        c = cycles.get(r.cycle)
        late = r.overdue or datetime.fromisoformat(r.deadline) < now
        base = {
            "cycle": r.cycle, "cycle_name": c.name if c else r.cycle, "stage": "rectification", "since": r.updated_at.isoformat(),
            "deadline": r.deadline, "overdue": late, "unit": r.unit, "item": r.id,
        }
        if user.role == "unit" and r.status in (RectificationStatus.OPEN, RectificationStatus.IN_PROGRESS):
            out.append({"kind": "report_rectification", "title": Bilingual(f"报告整改进展：{r.description[:40]}", f"report on the item: {r.description[:40]}"), **base})
        elif user.role == "organizer" and r.status == RectificationStatus.SUBMITTED:
            out.append({"kind": "verify_rectification", "title": Bilingual(f"核验 {r.unit} 的整改完成情况", f"verify the item of {r.unit}"), **base})
        elif user.role == "organizer" and late:
            out.append({"kind": "rectification_overdue", "title": Bilingual(f"{r.unit} 的整改事项已逾期", f"the item of {r.unit} is overdue"), **base})
    return out


#: A reminder's task, by step: its kind and what the unit is asked to do.
REMINDERS = {
    "self_review": ("remind_self_review", "组织部催办：请提交本单位的自查自评 / Reminder from the organization department: submit your self-review"),
    "feedback": ("remind_feedback", "组织部催办：请确认收到考核反馈 / Reminder from the organization department: acknowledge your feedback"),
    "rectification": ("remind_rectification", "组织部催办：请报告整改进展 / Reminder from the organization department: report on your rectification items"),
}


def reminder_tasks(db, user: User, cycles: dict[str, CycleRow]) -> list[dict[str, Any]]:
    """The organizer's reminders (催办) to a unit user's unit, each shown until the unit takes
    the step: submits its self-review, acknowledges its feedback, reports on an item (after the
    reminder) that waits for it."""
    if user.role != "unit" or not user.unit:
        return []
    out: list[dict[str, Any]] = []
    for r in db.scalars(select(ReminderRow).where(ReminderRow.unit == user.unit).order_by(ReminderRow.cycle, ReminderRow.stage)):
        c = cycles.get(r.cycle)
        u = db.get(UnitRow, (r.cycle, r.unit))
        if c is None or u is None or r.stage not in REMINDERS:
            continue
        if r.stage == "self_review":
            waiting = u.self_review == rules.SelfReviewStatus.PENDING and c.stages.get("self_review") == OPEN
        elif r.stage == "feedback":
            waiting = u.feedback == FeedbackStatus.ISSUED
        else:
            at = r.last_at if r.last_at.tzinfo else r.last_at.replace(tzinfo=timezone.utc)
            items = db.scalars(select(RectificationRow).where(
                RectificationRow.cycle == r.cycle, RectificationRow.unit == r.unit,
                RectificationRow.status.in_((RectificationStatus.OPEN, RectificationStatus.IN_PROGRESS))))
            waiting = any(not any(datetime.fromisoformat(rep["at"]) >= at for rep in i.reports or []) for i in items)
        if not waiting:
            continue
        kind, title = REMINDERS[r.stage]
        zh, en = title.split(" / ")
        if r.note:  # what the organizer added, in both halves of the title
            note = r.note.replace(" / ", "/")
            zh, en = f"{zh}（{note}）", f"{en} ({note})"
        title = Bilingual(zh, en)
        step = None if r.stage == "rectification" else r.stage  # an item has its own deadline
        task = _task(kind, title, c, r.last_at, step, unit=r.unit, reminded_by=r.last_by, reminders=r.count, note=r.note)
        task["stage"] = r.stage
        out.append(task)
    return out


def tasks(svc: Services, user: User) -> list[dict[str, Any]]:
    allow(user, "tasks.read")
    with svc.runner.sessions() as db:
        return inbox(db, user, svc.app.proposals if user.role == "committee" else None)


def tasks_cache_key(user: User) -> tuple:
    # Kept at most read_cache_seconds, and never past a change to the read models: "overdue"
    # depends on the clock too.
    return ("tasks", user.username, user.role, user.unit)
