"""``/scoring/{cycle}/{unit}``: the evaluator's (考核组) scoring sheet of one unit — per point a score
or N/A with its reason, a comment, the unit's self-score and evidence text beside it and the
scheme's scoring criterion under the point's name; each score checked as it is typed
(``static/sheet.js``) and the sheet kept as the evaluator's private draft (``…/draft``,
:mod:`adapters.scoring_drafts`), shown again when they come back. A refused submission shows every
error the API names beside its point and keeps everything typed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.forms import REFUSED, by_place, draft_answer, draft_refused, idem_of, keep_as_draft, new_idem, refusal, save_keeping_valid, see_other, without
from api.web.pageroute import page_router
from api.web.render import fmt_time, render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import fmt, scheme_tree, self_review_state, stage_open, total_of, valid_total

router = page_router()

TASK_PAGES = {"submit_scoring": "/scoring/{cycle}/{unit}"}

POINT_FIELDS = ("scores.", "evidence.", "na_reasons.", "comments.")


def scoring_form(form: Any, codes: list[str]) -> dict[str, Any]:
    """The sheet as typed: per point the score, N/A and its reason, the comment."""
    return {
        "scores": {c: str(form.get(f"score.{c}") or "").strip() for c in codes},
        "na": {c for c in codes if form.get(f"na.{c}")},
        "na_reasons": {c: str(form.get(f"na_reason.{c}") or "") for c in codes},
        "comments": {c: str(form.get(f"comment.{c}") or "") for c in codes},
    }


async def render_scoring(
    request: Request, user: User, cycle: str, unit: str, *, status: int = 200,
    typed: dict[str, Any] | None = None, error=None, idem: str | None = None,
) -> Response:
    svc = services(request)
    backend.may_open(user, "scoring.submit")
    await backend.may_score(svc, user, cycle, unit)
    view = await backend.unit(svc, user, cycle, unit)
    cyc = await backend.cycle_record(svc, cycle)
    view["sr_state"] = self_review_state(view, cyc)
    groups, points, total = await scheme_tree(svc, cycle, view["cohort"], request.state.lang)
    codes = [p["code"] for p in points]
    draft_at = None
    if typed is None:
        source: dict[str, Any] = view
        if not view["scored"]:  # the evaluator's own draft, as they left it
            draft = await backend.scoring_draft(svc, user, cycle, unit)
            if draft:
                source, draft_at = draft, draft.get("saved_at")
        saved = source.get("scores") or {}
        typed = {
            "scores": {c: fmt(v) if v is not None else "" for c, v in saved.items()},
            "na": {c for c, v in saved.items() if v is None},
            "na_reasons": source.get("na_reasons") or {},
            "comments": source.get("comments") or {},
        }
    self_scores = {c: fmt(v) if v is not None else "" for c, v in (view.get("self_scores") or {}).items()}
    self_evidence = {c: str(v) for c, v in (view.get("self_evidence") or {}).items() if str(v or "").strip()}
    field_errors, form_error = by_place(error, codes, POINT_FIELDS)
    running = valid_total({c: v for c, v in typed["scores"].items() if c not in typed["na"]}, points)
    return await render_page(
        request, "people_scoring.html", user, status,
        cycle=cyc, unit=view, groups=groups, points=points, total=total, typed=typed, self_scores=self_scores,
        self_evidence=self_evidence,
        self_total=total_of(self_scores), running=running, field_errors=field_errors, form_error=form_error,
        stage_open=stage_open(cyc, "scoring"), idem=idem or new_idem(),
        draft_note=catalogue.t(request.state.lang, "forms_draft_saved_at", time=fmt_time(draft_at)) if draft_at else "",
    )


@router.get("/scoring/{cycle}/{unit}")
async def scoring_page(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await render_scoring(request, user, cycle, unit)


async def typed_scoring(request: Request, user: User, cycle: str, unit: str, form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sheet as typed, and as the API takes it: scores (N/A as null), reasons, comments."""
    svc = services(request)
    backend.may_open(user, "scoring.submit")
    await backend.may_score(svc, user, cycle, unit)
    view = await backend.unit(svc, user, cycle, unit)
    _, points, _ = await scheme_tree(svc, cycle, view["cohort"], request.state.lang)
    codes = [p["code"] for p in points]
    typed = scoring_form(form, codes)
    scores: dict[str, Any] = {}
    for c in codes:
        if c in typed["na"]:
            scores[c] = None
        elif typed["scores"][c]:
            scores[c] = typed["scores"][c]
    sheet = {
        "scores": scores,
        "na_reasons": {c: v for c, v in typed["na_reasons"].items() if c in typed["na"] and v.strip()},
        "comments": {c: v for c, v in typed["comments"].items() if v.strip()},
    }
    return typed, sheet


def draft_saver(request: Request, user: User, cycle: str, unit: str, sheet: dict[str, Any]):
    """``save(dropped)`` for :func:`save_keeping_valid`: the evaluator's draft without the fields dropped."""
    async def save(dropped: set[str]) -> None:
        await backend.save_scoring_draft(services(request), user, cycle, unit, without(sheet["scores"], dropped, "scores."),
                                         without(sheet["na_reasons"], dropped, "na_reasons."), without(sheet["comments"], dropped, "comments."))
    return save


@router.post("/scoring/{cycle}/{unit}/draft")
async def scoring_draft(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    """The evaluator's draft, saved as they type (``static/sheet.js``), keeping every valid value;
    the answer names each value not kept, beside its point."""
    form = await checked_form(request)
    lang = request.state.lang
    _, sheet = await typed_scoring(request, user, cycle, unit, form)
    try:
        _, dropped = await save_keeping_valid(draft_saver(request, user, cycle, unit, sheet))
    except REFUSED as err:
        error = refusal(err)
        return JSONResponse(draft_refused(lang, error), status_code=error.status)
    return JSONResponse(draft_answer(lang, dropped))


@router.post("/scoring/{cycle}/{unit}")
async def scoring_submit(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    svc = services(request)
    typed, sheet = await typed_scoring(request, user, cycle, unit, form)
    try:
        await backend.submit_scoring(svc, user, cycle, unit, sheet["scores"], na_reasons=sheet["na_reasons"],
                                     comments=sheet["comments"], idem=idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        if error.status == 422:  # what was typed and is valid stays as the draft (a reload, or no JS, keeps it)
            await keep_as_draft(draft_saver(request, user, cycle, unit, sheet))
        return await render_scoring(request, user, cycle, unit, status=error.status, typed=typed, error=error, idem=new_idem())
    return see_other(f"/scoring/{quote(cycle)}/{quote(unit)}?submitted=1")
