"""``/committee/{cycle}/allocation``: the proposed grade allocation per cohort — ranked, ``F, D, W``,
the quota line, ties at the line, overrides with a required reason — and the committee's decision
(approve and publish, or send back with a reason). The organizer and the auditor read it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.confirm import confirm_page, confirmed, going_back
from api.web.forms import REFUSED, done_redirect, idem_of, new_idem, raw, refusal
from api.web.pageroute import page_router
from api.web.pages.proposals import meeting_of, pending_for_page
from api.web.render import render_page
from api.web.session import PageError, PageUser, checked_form, services
from api.web.views import done_message, oversight_helpers

router = page_router()

TASK_PAGES = {"approve_allocation": "/committee/{cycle}/allocation"}


def quota_line_after(units: list[dict[str, Any]]) -> int:
    """The index of the row after which the quota line is drawn (-1: above the first row)."""
    last = -1
    for i, u in enumerate(units):
        if u.get("quota_place"):
            last = i
    return last


async def allocation_context(request: Request, cycle: str, user) -> dict[str, Any]:
    svc = services(request)
    view = await backend.cycle_record(svc, cycle)
    allocation = await backend.allocation(svc, user, cycle)  # the API's role check
    names = await backend.unit_names(svc, cycle)
    cohorts = []
    for name, c in allocation["cohorts"].items():
        tie = c["tie"] or {}
        candidates = set(tie.get("candidates") or [])
        for u in c["units"]:
            u["name"] = names.get(u["unit"], u["unit"])
            u["tied"] = u["unit"] in candidates
            u["incomplete_reason"] = c["incomplete"].get(u["unit"])
            u["idem"] = new_idem()
        cohorts.append({"name": name, **c, "line_after": quota_line_after(c["units"]), "tie_idem": new_idem()})
    stage_open = view["stages"].get("allocation") == "open"
    return {
        "cycle": view,
        "allocation": allocation,
        "cohorts": cohorts,
        "stage_open": stage_open,
        "can_write": user.role == "committee" and stage_open,
        "done": done_message(request),
        "errors": {},
        "values": {},
        "decision_idem": new_idem(),
        "ov_nav": "allocation",
        **await pending_for_page(request, cycle, user, "allocation"),
        **oversight_helpers(request),
    }


@router.get("/committee/{cycle}/allocation")
async def allocation_page(request: Request, cycle: str, user: PageUser) -> Response:
    backend.may_open(user, "oversight.read")
    ctx = await allocation_context(request, cycle, user)
    return await render_page(request, "oversight_allocation.html", user, **ctx)


async def allocation_command(request: Request, cycle: str, user, form_id: str, values: dict[str, Any], call) -> Response | None:
    """Run one committee command; None when it went through, else the page again with the
    message beside the form ``form_id`` and what was typed kept."""
    try:
        answer = await call()
    except REFUSED as err:
        error = refusal(err)
        ctx = await allocation_context(request, cycle, user)
        ctx["errors"] = {form_id: {"message": error.message, "field": error.field}}
        ctx["values"] = {form_id: values}
        return await render_page(request, "oversight_allocation.html", user, error.status, **ctx)
    request.state.took_effect = bool((answer or {}).get("effective"))
    return None


def took_effect(request: Request) -> bool:
    """Whether the command ``allocation_command`` ran took effect at once (a quorum of one): the
    notice then says what was done, else that the proposal awaits the other members."""
    return bool(getattr(request.state, "took_effect", False))


@router.post("/committee/{cycle}/allocation/override")
async def override_grade(request: Request, cycle: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "allocation.decide")
    unit, grade, reason = raw(form, "unit"), raw(form, "grade"), raw(form, "reason")
    meeting = meeting_of(form)
    failed = await allocation_command(
        request, cycle, user, f"override-{unit}", {"grade": grade, "reason": reason, **meeting},
        lambda: backend.override_grade(services(request), user, cycle, unit, grade, reason, idem_of(form), meeting),
    )
    return failed or done_redirect(f"/committee/{quote(cycle)}/allocation", "override" if took_effect(request) else "proposed", f"#override-{quote(unit)}")


@router.post("/committee/{cycle}/allocation/tie")
async def resolve_tie(request: Request, cycle: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "allocation.decide")
    cohort = raw(form, "cohort")
    units = [str(u) for u in form.getlist("units")]
    reason = raw(form, "reason")
    meeting = meeting_of(form)
    failed = await allocation_command(
        request, cycle, user, f"tie-{cohort}", {"units": units, "reason": reason, **meeting},
        lambda: backend.resolve_tie(services(request), user, cycle, cohort, units, reason, idem_of(form), meeting),
    )
    return failed or done_redirect(f"/committee/{quote(cycle)}/allocation", "tie" if took_effect(request) else "proposed")


@router.post("/committee/{cycle}/allocation/decision")
async def decide_allocation(request: Request, cycle: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "allocation.decide")
    action = raw(form, "action")
    reason = raw(form, "reason")
    svc = services(request)
    meeting = meeting_of(form)
    if action == "approve" and going_back(form):
        ctx = await allocation_context(request, cycle, user)
        ctx["values"] = {"decision": {"reason": reason, "action": action, **meeting}}
        return await render_page(request, "oversight_allocation.html", user, **ctx)
    if action == "approve" and not confirmed(form):  # a final action: say what will be published
        return await confirm_approval(request, user, cycle, form)
    if action == "approve":
        call = lambda: backend.approve_allocation(svc, user, cycle, reason, idem_of(form), meeting)  # noqa: E731
    elif action == "reject":
        call = lambda: backend.reject_allocation(svc, user, cycle, reason, idem_of(form), meeting)  # noqa: E731
    else:
        raise PageError(422, catalogue.t(request.state.lang, "bad_form"))
    failed = await allocation_command(request, cycle, user, "decision", {"reason": reason, "action": action, **meeting}, call)
    if failed:
        return failed
    if action == "approve" and took_effect(request):
        return done_redirect(f"/results/{quote(cycle)}", "approve")
    return done_redirect(f"/committee/{quote(cycle)}/allocation", "reject" if took_effect(request) else "proposed")


async def confirm_approval(request: Request, user, cycle: str, form) -> Response:
    """What approving publishes: per cohort, how many units get each grade."""
    lang = request.state.lang
    allocation = await backend.allocation(services(request), user, cycle)
    rows, n = [], 0
    for name, c in allocation["cohorts"].items():
        count = {g: 0 for g in ("excellent", "good", "average", "poor")}
        for u in c["units"]:
            if u.get("grade") in count:
                count[u["grade"]] += 1
        n += len(c["units"])
        rows.append(catalogue.t(lang, "cf_approve_cohort", cohort=catalogue.cohort(lang, name), **count))
    return await confirm_page(
        request, user, form, title=catalogue.t(lang, "cf_approve_title"), lines=[catalogue.t(lang, "cf_approve_line", n=n),
        catalogue.t(lang, "cf_approve_quorum")], items=rows, after=[catalogue.t(lang, "cf_approve_after")],
        confirm_label=catalogue.t(lang, "cf_approve_yes"), testid="confirm-approve",
    )
