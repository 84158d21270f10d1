"""``/self-review/{cycle}/{unit}``: the unit (被考核单位) fills its self-review — a score and evidence
per evaluation point, checked as it is typed (``static/sheet.js``), a draft saved as it types
(``…/draft``, answered in JSON) that keeps every valid value and names the rest beside their
points, then submits. A refused submission shows every error the API names beside its point
(``scores.1.1.2`` → point 1.1.2), keeps everything typed, and keeps what is valid as the draft."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.confirm import confirm_page, confirmed, going_back
from api.web.forms import REFUSED, by_place, draft_answer, draft_refused, idem_of, keep_as_draft, new_idem, refusal, save_keeping_valid, see_other, without
from api.web.pageroute import page_router
from api.web.render import fmt_time, render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import fmt, scheme_tree, self_review_state, stage_open, total_of, valid_total

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
    # Recorded as not submitted (the stage closed): the page says so, and shows the draft read-only.
    missed = self_review_state(view, cyc) if view["self_review"] == "missed" else None
    submitted = view["self_review"] != "pending"  # the sheet is read-only: submitted, or missed
    draft_at = None
    if typed is not None:
        scores, evidence = typed
    elif view["self_review"] == "submitted":
        scores, evidence = view.get("self_scores") or {}, view.get("self_evidence") or {}
    else:
        draft = view.get("draft") or {}
        scores, evidence = draft.get("scores") or {}, draft.get("evidence") or {}
        draft_at = draft.get("saved_at")
    scores = {k: fmt(v) if v is not None else "" for k, v in scores.items()}
    codes = [p["code"] for p in points]
    field_errors, form_error = by_place(error, codes, POINT_FIELDS)
    return await render_page(
        request, "people_self_review.html", user, status,
        cycle=cyc, unit=view, groups=groups, points=points, total=total, scores=scores, evidence=evidence,
        typed_total=valid_total(scores, points), carried=carried, submitted=submitted, stage_open=stage_open(cyc, "self_review"),
        missed=missed, has_draft=bool(view.get("draft")),
        field_errors=field_errors, form_error=form_error, idem=idem or new_idem(), item_status=catalogue.item_status,
        draft_note=catalogue.t(request.state.lang, "forms_draft_saved_at", time=fmt_time(draft_at)) if draft_at else "",
    )


@router.get("/self-review/{cycle}/{unit}")
async def self_review_page(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await render_self_review(request, user, cycle, unit)


async def typed_sheet(request: Request, user: User, cycle: str, unit: str, form) -> tuple[dict[str, str], dict[str, str]]:
    svc = services(request)
    view = await backend.unit(svc, user, cycle, unit)
    _, points, _ = await scheme_tree(svc, cycle, view["cohort"], request.state.lang)
    return self_review_form(form, [p["code"] for p in points])


def draft_saver(request: Request, user: User, cycle: str, unit: str, scores: dict[str, str], evidence: dict[str, str]):
    """``save(dropped)`` for :func:`save_keeping_valid`: the draft without the fields dropped."""
    async def save(dropped: set[str]) -> None:
        await backend.save_self_review_draft(services(request), user, cycle, unit,
                                             without(scores, dropped, "scores."), without(evidence, dropped, "evidence."))
    return save


@router.post("/self-review/{cycle}/{unit}/draft")
async def self_review_draft(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    """Save the draft as the user types (``fetch`` from ``static/sheet.js``): the API's PUT
    …/self-review/draft, keeping every valid value; the answer names each value not kept, beside
    its point, and the time in Beijing time."""
    form = await checked_form(request)
    lang = request.state.lang
    scores, evidence = await typed_sheet(request, user, cycle, unit, form)
    try:
        _, dropped = await save_keeping_valid(draft_saver(request, user, cycle, unit, scores, evidence))
    except REFUSED as err:
        error = refusal(err)
        return JSONResponse(draft_refused(lang, error), status_code=error.status)
    return JSONResponse(draft_answer(lang, dropped))


@router.post("/self-review/{cycle}/{unit}")
async def self_review_submit(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.may_open(user, "self_review.submit")
    typed = await typed_sheet(request, user, cycle, unit, form)
    if going_back(form):
        return await render_self_review(request, user, cycle, unit, typed=typed, idem=idem_of(form))
    if not confirmed(form):  # a final action: check the sheet, then say what will be submitted
        try:
            await backend.check_self_review(services(request), user, cycle, unit, typed[0])
        except REFUSED as err:
            error = refusal(err)
            if error.status == 422:  # what was typed and is valid stays as the draft (a reload, or no JS, keeps it)
                await keep_as_draft(draft_saver(request, user, cycle, unit, *typed))
            return await render_self_review(request, user, cycle, unit, status=error.status, typed=typed, error=error,
                                            idem=idem_of(form))
        return await confirm_self_review(request, user, cycle, unit, form, typed[0])
    try:
        await backend.submit_self_review(services(request), user, cycle, unit, typed[0], typed[1], idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        if error.status == 422:  # what was typed and is valid stays as the draft (a reload, or no JS, keeps it)
            await keep_as_draft(draft_saver(request, user, cycle, unit, *typed))
        return await render_self_review(request, user, cycle, unit, status=error.status, typed=typed, error=error, idem=new_idem())
    return see_other(f"/self-review/{quote(cycle)}/{quote(unit)}?submitted=1")


async def confirm_self_review(request: Request, user: User, cycle: str, unit: str, form, scores: dict[str, str]) -> Response:
    """What will be submitted: how many points, the self-score total, and that it cannot be changed."""
    svc = services(request)
    lang = request.state.lang
    view = await backend.unit(svc, user, cycle, unit)
    _, points, total = await scheme_tree(svc, cycle, view["cohort"], lang)
    blank = [f"{p['code']} {p['name']}" for p in points if not scores.get(p["code"])]
    lines = [catalogue.t(lang, "cf_sr_total", points=len(points), filled=len(points) - len(blank), total=total_of(scores), max=total)]
    if blank:
        lines.insert(0, catalogue.t(lang, "cf_sr_blank", n=len(blank)))
    return await confirm_page(
        request, user, form, title=catalogue.t(lang, "cf_sr_title"), lines=lines, items=blank,
        after=[catalogue.t(lang, "cf_sr_after")], confirm_label=catalogue.t(lang, "cf_sr_yes"), testid="confirm-self-review",
    )
