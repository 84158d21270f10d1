"""The committee's pending proposals (SPEC §1, the committee decides as a body): shown on the
adjustments and allocation pages with who confirmed; a member confirms or objects here, and
returns to the page they came from."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.forms import REFUSED, done_redirect, idem_of, new_idem, raw, refusal
from api.web.pageroute import page_router
from api.web.session import PageUser, checked_form, services

router = page_router()

TASK_PAGES = {"confirm_decision": "/committee/{cycle}/proposals/{proposal}"}
BACK = {"adjustments": "adjustments", "allocation": "allocation"}


def why_blocked(lang: str, user, p: dict[str, Any]) -> str:
    """Why ``user`` cannot confirm this proposal ("" when they can)."""
    if user.role != "committee":
        return catalogue.t(lang, "ov_read_only")
    if user.unit and user.unit in p["concerns"]:
        return catalogue.t(lang, "ov_confirm_blocked_attached")
    if user.username in p["confirmed_by"]:
        return catalogue.t(lang, "ov_confirm_blocked_done")
    return ""


async def pending_for_page(request: Request, cycle: str, user, where: str) -> dict[str, Any]:
    """The template context of ``oversight_proposals.html``: the pending proposals of one page
    (``adjustments`` or ``allocation``)."""
    found = await backend.proposals(services(request), user, cycle)
    mine = []
    for p in found:
        if p["status"] != "pending" or (p["subject"] == "adjustment") != (where == "adjustments"):
            continue
        p["blocked"] = why_blocked(request.state.lang, user, p)
        p["idem"], p["object_idem"] = new_idem(), new_idem()
        mine.append(p)
    return {"proposals": mine, "can_confirm": user.role == "committee"}


def meeting_of(form) -> dict[str, Any]:
    return {"meeting_date": raw(form, "meeting_date"), "minute_number": raw(form, "minute_number")}


@router.get("/committee/{cycle}/proposals/{proposal}")
async def proposal_page(request: Request, cycle: str, proposal: str, user: PageUser) -> Response:
    """From the inbox: to the page that shows the proposal."""
    found = await backend.proposals(services(request), user, cycle)
    where = next(("adjustments" if p["subject"] == "adjustment" else "allocation" for p in found if p["id"] == proposal), "allocation")
    return done_redirect(f"/committee/{quote(cycle)}/{where}", "", f"#p-{quote(proposal)}")


async def _answer(request: Request, cycle: str, user, form, call, done: str) -> Response:
    back = BACK.get(raw(form, "back"), "allocation")
    try:
        await call()
    except REFUSED as err:
        error = refusal(err)
        from api.web.pages.adjustments import adjustments_context
        from api.web.pages.allocation import allocation_context
        from api.web.render import render_page

        if back == "adjustments":
            ctx = await adjustments_context(request, cycle, user)
            template = "oversight_adjustments.html"
        else:
            ctx = await allocation_context(request, cycle, user)
            template = "oversight_allocation.html"
        ctx["errors"] = {f"p-{request.path_params['proposal']}": {"message": error.message, "field": error.field}}
        return await render_page(request, template, user, error.status, **ctx)
    return done_redirect(f"/committee/{quote(cycle)}/{back}", done)


@router.post("/committee/{cycle}/proposals/{proposal}/confirm")
async def confirm(request: Request, cycle: str, proposal: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "decision.confirm")
    return await _answer(request, cycle, user, form,
                         lambda: backend.confirm_proposal(services(request), user, cycle, proposal, idem_of(form)), "confirmed")


@router.post("/committee/{cycle}/proposals/{proposal}/objection")
async def object_to(request: Request, cycle: str, proposal: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "decision.object")
    reason = raw(form, "reason")
    return await _answer(request, cycle, user, form,
                         lambda: backend.object_proposal(services(request), user, cycle, proposal, reason, idem_of(form)), "objected")
