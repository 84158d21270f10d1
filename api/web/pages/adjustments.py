"""``/committee/{cycle}/adjustments``: the party committee (集团党委) decides each proposed bonus,
downgrade or veto — approve, or reject with a reason. The organizer and the auditor read it.

A member attached to the unit abstains, the proposer cannot decide their own, nothing is decided
while the stage is closed: the page says so beside the adjustment, and the API refuses it anyway."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.forms import REFUSED, done_redirect, idem_of, new_idem, raw, refusal
from api.web.pageroute import page_router
from api.web.pages.proposals import meeting_of, pending_for_page
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import bonus_cap, done_message, fmt, mark_bonus_caps, oversight_helpers

router = page_router()

TASK_PAGES = {"decide_adjustment": "/committee/{cycle}/adjustments#adj-{adjustment}"}


def why_blocked(lang: str, user, adjustment: dict[str, Any], stage_open: bool) -> str:
    """Why ``user`` cannot decide this adjustment now ("" when they can)."""
    if user.role != "committee":
        return catalogue.t(lang, "ov_read_only")
    if not stage_open:
        return catalogue.t(lang, "ov_stage_not_open")
    if user.unit and user.unit == adjustment["unit"]:
        return catalogue.t(lang, "ov_abstain")
    if adjustment["proposer"] == user.username:
        return catalogue.t(lang, "ov_own_proposal")
    return ""


async def adjustments_context(request: Request, cycle: str, user) -> dict[str, Any]:
    svc = services(request)
    backend.may_open(user, "oversight.read")
    view = await backend.cycle_record(svc, cycle)
    items = await backend.adjustments(svc, user, cycle)
    names = await backend.unit_names(svc, cycle)
    stage_open = view["stages"].get("adjustments") == "open"
    for a in items:
        a["unit_name"] = names.get(a["unit"], a["unit"])
        a["blocked"] = why_blocked(request.state.lang, user, a, stage_open)
        a["idem"] = new_idem()
    mark_bonus_caps(request.state.lang, view, items)
    return {
        "cycle": view,
        "pending": [a for a in items if a["status"] == "pending"],
        "decided": [a for a in items if a["status"] != "pending"],
        "can_write": user.role == "committee",
        "done": done_message(request),
        "errors": {},
        "values": {},
        "ov_nav": "adjustments",
        "bonus_cap": fmt(bonus_cap(view)),
        **await pending_for_page(request, cycle, user, "adjustments"),
        **oversight_helpers(request),
    }


@router.get("/committee/{cycle}/adjustments")
async def adjustments_page(request: Request, cycle: str, user: PageUser) -> Response:
    ctx = await adjustments_context(request, cycle, user)
    return await render_page(request, "oversight_adjustments.html", user, **ctx)


@router.post("/committee/{cycle}/adjustments/{adjustment}/decision")
async def decide_adjustment(request: Request, cycle: str, adjustment: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "adjustment.decide")
    decision = raw(form, "decision")
    reason = raw(form, "reason")
    meeting = meeting_of(form)
    try:
        answer = await backend.decide_adjustment(services(request), user, cycle, adjustment, decision, reason, idem_of(form), meeting)
    except REFUSED as err:
        error = refusal(err)
        ctx = await adjustments_context(request, cycle, user)
        ctx["errors"] = {adjustment: {"message": error.message, "field": error.field}}
        ctx["values"] = {adjustment: {"reason": reason, "decision": decision, **meeting}}
        return await render_page(request, "oversight_adjustments.html", user, error.status, **ctx)
    # in effect at once (a quorum of one): decided; else it waits for the other members
    return done_redirect(f"/committee/{quote(cycle)}/adjustments", "decided" if (answer or {}).get("effective") else "proposed")
