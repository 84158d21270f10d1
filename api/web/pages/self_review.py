"""``/self-review/{cycle}/{unit}``: the unit (被考核单位) fills its self-review — a score and evidence
per evaluation point, a draft saved as it types (``…/draft``, answered in JSON), then submits.
A refused submission shows the API's message beside the point it names (``scores.1.1.2`` → point
1.1.2) and keeps everything typed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.forms import REFUSED, by_place, idem_of, new_idem, refusal, see_other
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import fmt, scheme_tree, stage_open, total_of

router = page_router()

TASK_PAGES = {"submit_self_review": "/self-review/{cycle}/{unit}", "remind_self_review": "/self-review/{cycle}/{unit}"}

#: Prefixes of the API's error fields that belong to one evaluation point (``scores.1.1.2``).
POINT_FIELDS = ("scores.", "evidence.", "na_reasons.", "comments.")


def self_review_form(form: Any, codes: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Scores and evidence as typed: blank scores are left out (the API asks for them on submit)."""
    scores = {c: str(form.get(f"score.{c}") or "").strip() for c in codes}
    evidence = {c: str(form.get(f"evidence.{c}") or "") for c in codes}
    return {c: v for c, v in scores.items() if v}, {c: v for c, v in evidence.items() if v.strip()}


async def render_self_review(
    request: Request, user: User, cycle: str, unit: str, *, status: int = 200,
    typed: tuple[dict[str, str], dict[str, str]] | None = None, error=None, idem: str | None = None,
) -> Response:
    svc = services(request)
    backend.may_open(user, "self_review.submit")
    view = await backend.unit(svc, user, cycle, unit)  # the API's unit scope: 403 for another unit
    cyc = await backend.cycle_record(svc, cycle)
    groups, points, total = await scheme_tree(svc, cycle, view["cohort"], request.state.lang)
    carried = await backend.carried_items(svc, user, cycle, unit)
    submitted = view["self_review"] != "pending"
    if typed is not None:
        scores, evidence = typed
    elif submitted:
        scores, evidence = view.get("self_scores") or {}, view.get("self_evidence") or {}
    else:
        draft = view.get("draft") or {}
        scores, evidence = draft.get("scores") or {}, draft.get("evidence") or {}
    scores = {k: fmt(v) if v is not None else "" for k, v in scores.items()}
    codes = [p["code"] for p in points]
    field_errors, form_error = by_place(error, codes, POINT_FIELDS)
    return await render_page(
        request, "people_self_review.html", user, status,
        cycle=cyc, unit=view, groups=groups, points=points, total=total, scores=scores, evidence=evidence,
        typed_total=total_of(scores), carried=carried, submitted=submitted, stage_open=stage_open(cyc, "self_review"),
        field_errors=field_errors, form_error=form_error, idem=idem or new_idem(), item_status=catalogue.item_status,
    )


@router.get("/self-review/{cycle}/{unit}")
async def self_review_page(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await render_self_review(request, user, cycle, unit)


async def typed_sheet(request: Request, user: User, cycle: str, unit: str, form) -> tuple[dict[str, str], dict[str, str]]:
    svc = services(request)
    view = await backend.unit(svc, user, cycle, unit)
    _, points, _ = await scheme_tree(svc, cycle, view["cohort"], request.state.lang)
    return self_review_form(form, [p["code"] for p in points])


@router.post("/self-review/{cycle}/{unit}/draft")
async def self_review_draft(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    """Save the draft as the user types (``fetch`` from the form): the API's PUT …/self-review/draft."""
    form = await checked_form(request)
    scores, evidence = await typed_sheet(request, user, cycle, unit, form)
    try:
        await backend.save_self_review_draft(services(request), user, cycle, unit, scores, evidence)
    except REFUSED as err:
        error = refusal(err)
        return JSONResponse({"saved": False, "error": error.body()}, status_code=error.status)
    return JSONResponse({"saved": True, "message": catalogue.t(request.state.lang, "pp_draft_saved")})


@router.post("/self-review/{cycle}/{unit}")
async def self_review_submit(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "self_review.submit")
    typed = await typed_sheet(request, user, cycle, unit, form)
    try:
        await backend.submit_self_review(services(request), user, cycle, unit, typed[0], typed[1], idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        return await render_self_review(request, user, cycle, unit, status=error.status, typed=typed, error=error, idem=new_idem())
    return see_other(f"/self-review/{quote(cycle)}/{quote(unit)}?submitted=1")
