"""A unit in a cycle: self-review (draft and submit), indicator scoring, feedback."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, command_id, forbidden, require, require_unit_scope
from api.schemas import FeedbackIn, ScoringIn, SelfReviewIn
from domain.errors import NotFound
from projections.models import UnitRow
from workflows import unit as uw

router = APIRouter(tags=["units 被考核单位"])


def _unit_row(svc, cycle: str, unit: str) -> UnitRow:
    with svc.runner.sessions() as db:
        row = db.get(UnitRow, (cycle, unit))
        if row is None:
            raise NotFound("unit_not_found", f"单位 {unit} 不在周期 {cycle} 中 / no such unit in this cycle", "unit")
        return row


def unit_view(row: UnitRow, role: str) -> dict[str, Any]:
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
    if role in ("unit", "organizer", "auditor") and row.feedback != "none":
        view["feedback_text"] = row.feedback_text
    return view


@router.get("/cycles/{cycle}/units", summary="周期内的单位 / units of a cycle", name="list_units")
async def list_units_answer(cycle: str, user: CurrentUser, svc: Svc) -> list[dict]:
    return await list_units(cycle, user, svc, answer=True)


async def list_units(cycle: str, user, svc, answer: bool = False) -> Any:
    """The units' views (the pages call this); ``answer``: as the route's cached JSON response."""
    if user.role == "representative":
        raise forbidden("参会代表请使用述职评议页面 / representatives use the debrief pages")

    def load():
        with svc.runner.sessions() as db:
            q = select(UnitRow).where(UnitRow.cycle == cycle).order_by(UnitRow.unit)
            if user.role == "unit":
                q = q.where(UnitRow.unit == user.unit)
            return [unit_view(r, user.role) for r in db.scalars(q)]

    if answer:
        return await svc.reads.respond(("units", cycle, user.role, user.unit if user.role == "unit" else None), load)
    return await run_in_threadpool(load)


@router.get("/cycles/{cycle}/units/{unit}", summary="单位详情 / one unit")
async def get_unit(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> dict:
    require_unit_scope(user, unit)
    if user.role == "representative":
        raise forbidden("参会代表请使用述职评议页面 / representatives use the debrief pages")
    return unit_view(await run_in_threadpool(_unit_row, svc, cycle, unit), user.role)


@router.put("/cycles/{cycle}/units/{unit}/self-review/draft", summary="保存自评草稿 / save a self-review draft")
async def save_draft(cycle: str, unit: str, body: SelfReviewIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "unit")
    require_unit_scope(user, unit)
    out = await run_in_threadpool(
        svc.app.save_self_review_draft, cycle, unit, body.scores, body.evidence, user.actor, command_id(user, idem)
    )
    await svc.settle(out.to_dict())
    return out.to_dict()


@router.post("/cycles/{cycle}/units/{unit}/self-review", summary="提交自查自评 / submit the self-review")
async def submit_self_review(cycle: str, unit: str, body: SelfReviewIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "unit")
    require_unit_scope(user, unit)
    # Straight to the domain, like a draft: the unit's workflow does not branch on it, and the
    # aggregate checks the stage, the actor and the scores (no Temporal update slot per unit).
    out = await run_in_threadpool(
        svc.app.submit_self_review, cycle, unit, body.scores, body.evidence, user.actor, command_id(user, idem)
    )
    await svc.settle(out.to_dict())
    return out.to_dict()


@router.post("/cycles/{cycle}/units/{unit}/scoring", summary="提交指标评分 / submit the unit's scoring")
async def submit_scoring(cycle: str, unit: str, body: ScoringIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "evaluator")
    # Straight to the domain (twenty evaluators at once need no workflow round trip): the
    # aggregate refuses a second scoring, a closed stage and bad scores.
    out = await run_in_threadpool(
        svc.app.submit_scoring, cycle, unit, body.scores, body.na_reasons, body.comments, user.actor, command_id(user, idem)
    )
    result = out.to_dict()
    await svc.settle(result)
    return result


@router.post("/cycles/{cycle}/units/{unit}/feedback", summary="下发考核反馈 / issue feedback")
async def issue_feedback(cycle: str, unit: str, body: FeedbackIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    result = await svc.gateway.unit_update(cycle, unit, "issue_feedback", uw.IssueFeedback(user.actor, body.text), command_id(user, idem))
    await svc.settle(result)
    return result


@router.post("/cycles/{cycle}/units/{unit}/feedback/acknowledge", summary="确认收到反馈 / acknowledge feedback")
async def acknowledge(cycle: str, unit: str, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "unit")
    require_unit_scope(user, unit)
    # Straight to the domain: nothing in the process waits for an acknowledgement.
    out = await run_in_threadpool(svc.app.acknowledge_feedback, cycle, unit, user.actor, command_id(user, idem))
    result = out.to_dict()
    await svc.settle(result)
    return result
