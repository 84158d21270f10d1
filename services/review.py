"""Self-review and scoring (SPEC §3 stages 2–3): the units' views by role, drafts, the
self-review, an evaluator's scoring of a unit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from domain import rules
from domain.errors import InvalidInput, NotFound, all_of
from domain.rules import FeedbackStatus
from domain.scheme import parse_scheme
from projections.models import AssignmentRow, CycleRow, UnitRow
from services.context import Services, command_id, in_thread
from services.permissions import allow


def unit_row(svc: Services, cycle: str, unit: str) -> UnitRow:
    with svc.runner.sessions() as db:
        row = db.get(UnitRow, (cycle, unit))
        if row is None:
            raise NotFound("unit_not_found", zh=f"单位 {unit} 不在周期 {cycle} 中", en="no such unit in this cycle", field="unit")
        return row


def unit_view(row: UnitRow, role: str) -> dict[str, Any]:
    """What each role sees of a unit: a unit its own draft; evaluators and oversight the scores."""
    view: dict[str, Any] = {
        "cycle": row.cycle,
        "unit": row.unit,
        "name": row.name,
        "cohort": row.cohort,
        "self_review": row.self_review,
        "self_review_at": row.self_review_at.isoformat() if row.self_review_at else None,
        "scored": row.scored,
        "feedback": row.feedback,
    }
    if role in ("unit", "evaluator", "organizer", "auditor", "committee"):
        view["self_scores"] = row.self_scores
        view["self_evidence"] = row.self_evidence
    if role == "unit":
        view["draft"] = row.draft
    if role in ("evaluator", "organizer", "auditor", "committee"):
        view["scores"] = row.scores
        view["na_reasons"] = row.na_reasons
        view["comments"] = row.comments
        view["scored_by"] = row.scored_by
    if role in ("unit", "organizer", "auditor") and row.feedback != FeedbackStatus.NONE:
        view["feedback_text"] = row.feedback_text
    return view


def units(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    """The cycle's units as this user may see them (a unit user: their own)."""
    allow(user, "units.read")
    with svc.runner.sessions() as db:
        q = select(UnitRow).where(UnitRow.cycle == cycle).order_by(UnitRow.unit)
        if user.role == "unit":
            q = q.where(UnitRow.unit == user.unit)
        return [unit_view(r, user.role) for r in db.scalars(q)]


def units_cache_key(user: User, cycle: str) -> tuple:
    """What the units' answer depends on besides the read models."""
    return ("units", cycle, user.role, user.unit if user.role == "unit" else None)


def unit(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any]:
    allow(user, "units.read", unit)
    return unit_view(unit_row(svc, cycle, unit), user.role)


async def save_draft(svc: Services, user: User, cycle: str, unit: str, scores: Any, evidence: Any, idem: str | None = None) -> dict[str, Any]:
    allow(user, "self_review.save_draft", unit)
    return await svc.recorded(svc.app.save_self_review_draft, cycle, unit, scores, evidence, user.actor, command_id(user, idem))


def check_self_review(svc: Services, user: User, cycle: str, unit: str, scores: Any) -> None:
    """Refuse now what submitting would refuse (blocking; nothing is stored): before the confirmation."""
    allow(user, "self_review.submit", unit)
    svc.app.check_self_review(cycle, unit, scores, user.actor)


async def submit_self_review(svc: Services, user: User, cycle: str, unit: str, scores: Any, evidence: Any, idem: str | None = None) -> dict[str, Any]:
    # Straight to the domain, like a draft: the unit's workflow does not branch on it, and the
    # aggregate checks the stage, the actor and the scores (no Temporal update slot per unit).
    allow(user, "self_review.submit", unit)
    return await svc.recorded(svc.app.submit_self_review, cycle, unit, scores, evidence, user.actor, command_id(user, idem))


async def submit_scoring(
    svc: Services, user: User, cycle: str, unit: str, scores: Any, na_reasons: Any, comments: Any, idem: str | None = None
) -> dict[str, Any]:
    # Straight to the domain (twenty evaluators at once need no workflow round trip): the
    # aggregate refuses a second scoring, a closed stage and bad scores.
    allow(user, "scoring.submit")
    out = await svc.recorded(svc.app.submit_scoring, cycle, unit, scores, na_reasons, comments, user.actor, command_id(user, idem))
    if svc.scoring_drafts is not None:
        await in_thread(svc.scoring_drafts.discard, cycle, unit)  # the sheet is in: every draft of it is spent
    return out


#: The longest N/A reason or comment a scoring draft keeps (the submitted sheet's own limit is the domain's).
DRAFT_TEXT_MAX = 2000


def _draft_texts(value: Any, point_max: dict[str, Any], field: str) -> tuple[dict[str, str], list[InvalidInput]]:
    out: dict[str, str] = {}
    errors: list[InvalidInput] = []
    for code, text in (value or {}).items():
        where = f"{field}.{code}"
        if code not in point_max:
            errors.append(InvalidInput("unknown_point", zh=f"未知的评价要点 {code}", en="unknown evaluation point", field=where))
        elif not isinstance(text, str) or len(text) > DRAFT_TEXT_MAX:
            errors.append(InvalidInput("invalid_text", zh=f"须为不超过 {DRAFT_TEXT_MAX} 字的文字", en=f"must be text of at most {DRAFT_TEXT_MAX} characters", field=where))
        elif text.strip():
            out[code] = text
    return out, errors


def _check_scoring_draft(svc: Services, user: User, cycle: str, unit: str, scores: Any, na_reasons: Any, comments: Any) -> dict[str, Any]:
    """The draft as it will be kept, or refused naming every bad field: the evaluator may score the
    unit now (the domain's rule on the read models), each score passes the scheme's checks."""
    row = unit_row(svc, cycle, unit)
    with svc.runner.sessions() as db:
        cyc = db.get(CycleRow, cycle)
        assigned = [a.evaluator for a in db.scalars(select(AssignmentRow).where(AssignmentRow.cycle == cycle, AssignmentRow.unit == unit))]
    rules.check_scoring(cyc.stages, user.actor, unit, row.self_review, row.scored, assigned or None)
    point_max = parse_scheme(svc.app.cycle(cycle).schemes[row.cohort]).point_max
    if not isinstance(scores, dict):
        raise InvalidInput("invalid_scores", zh="scores 必须是对象", en="must be an object", field="scores")
    parsed, errors = rules.point_score_errors(point_max, scores, field="scores", allow_null=True)
    reasons, bad_reasons = _draft_texts(na_reasons, point_max, "na_reasons")
    notes, bad_notes = _draft_texts(comments, point_max, "comments")
    errors += bad_reasons + bad_notes
    if errors:
        raise all_of(errors)
    return {"scores": {c: None if v is None else str(v) for c, v in parsed.items()}, "na_reasons": reasons, "comments": notes}


async def save_scoring_draft(
    svc: Services, user: User, cycle: str, unit: str, scores: Any, na_reasons: Any, comments: Any
) -> dict[str, Any]:
    """Keep the evaluator's sheet of ``unit`` as typed so far (a private working copy, not an event:
    see :mod:`adapters.scoring_drafts`). Bad input is refused naming every bad field; nothing kept."""
    allow(user, "scoring.save_draft")
    sheet = await in_thread(_check_scoring_draft, svc, user, cycle, unit, scores, na_reasons, comments)
    saved_at = await in_thread(svc.scoring_drafts.save, cycle, unit, user.username, sheet)
    return {**sheet, "saved_at": saved_at.isoformat()}


async def scoring_draft(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any] | None:
    """The evaluator's own draft of ``unit`` (``{scores, na_reasons, comments, saved_at}``), or None."""
    allow(user, "scoring.save_draft")
    return await in_thread(svc.scoring_drafts.get, cycle, unit, user.username)


def evaluator_accounts(svc: Services) -> dict[str, str | None]:
    """The active evaluators' accounts: username → the unit each belongs to (None: none)."""
    return {u.username: u.unit for u in svc.accounts.list(role="evaluator") if u.active}


def evaluators(svc: Services, user: User) -> list[dict[str, Any]]:
    """The evaluators the organizer may assign: username and the unit each belongs to."""
    allow(user, "evaluators.assign")
    return [{"username": name, "unit": unit} for name, unit in sorted(evaluator_accounts(svc).items())]


async def assign_evaluators(
    svc: Services, user: User, cycle: str, unit: str, evaluators: Any, idem: str | None = None
) -> dict[str, Any]:
    """The organizer assigns the evaluators who score ``unit`` (an empty list: all again). The
    domain refuses an unknown evaluator or unit, and an evaluator of that very unit."""
    allow(user, "evaluators.assign")
    known = await in_thread(evaluator_accounts, svc)
    return await svc.recorded(svc.app.assign_evaluators, cycle, unit, evaluators, known, user.actor, command_id(user, idem))


def assignments(svc: Services, user: User, cycle: str) -> dict[str, list[str]]:
    """Unit → the evaluators assigned to it; a unit not named is scored by every evaluator."""
    allow(user, "units.read")
    out: dict[str, list[str]] = {}
    with svc.runner.sessions() as db:
        if db.get(CycleRow, cycle) is None:
            raise NotFound("cycle_not_found", zh=f"考核周期 {cycle} 不存在", en="no such cycle", field="cycle")
        q = select(AssignmentRow).where(AssignmentRow.cycle == cycle).order_by(AssignmentRow.unit, AssignmentRow.evaluator)
        if user.role == "unit":
            q = q.where(AssignmentRow.unit == user.unit)
        for row in db.scalars(q):
            out.setdefault(row.unit, []).append(row.evaluator)
    return out
