"""``/scoring/{cycle}/{unit}``: the evaluator's (考核组) scoring sheet of one unit — per point a score
or N/A with its reason, a comment, the unit's self-score beside it. A refused submission shows the
API's message beside the point it names and keeps everything typed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from adapters.accounts import User
from api.web import backend
from api.web.forms import REFUSED, by_place, idem_of, new_idem, refusal, see_other
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import fmt, scheme_tree, stage_open, total_of, self_review_state

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
    if typed is None:
        saved = view.get("scores") or {}
        typed = {
            "scores": {c: fmt(v) if v is not None else "" for c, v in saved.items()},
            "na": {c for c, v in saved.items() if v is None},
            "na_reasons": view.get("na_reasons") or {},
            "comments": view.get("comments") or {},
        }
    self_scores = {c: fmt(v) if v is not None else "" for c, v in (view.get("self_scores") or {}).items()}
    field_errors, form_error = by_place(error, codes, POINT_FIELDS)
    running = total_of({c: v for c, v in typed["scores"].items() if c not in typed["na"]})
    return await render_page(
        request, "people_scoring.html", user, status,
        cycle=cyc, unit=view, groups=groups, points=points, total=total, typed=typed, self_scores=self_scores,
        self_total=total_of(self_scores), running=running, field_errors=field_errors, form_error=form_error,
        stage_open=stage_open(cyc, "scoring"), idem=idem or new_idem(),
    )


@router.get("/scoring/{cycle}/{unit}")
async def scoring_page(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await render_scoring(request, user, cycle, unit)


@router.post("/scoring/{cycle}/{unit}")
async def scoring_submit(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
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
    try:
        await backend.submit_scoring(
            svc, user, cycle, unit, scores,
            na_reasons={c: v for c, v in typed["na_reasons"].items() if c in typed["na"] and v.strip()},
            comments={c: v for c, v in typed["comments"].items() if v.strip()},
            idem=idem_of(form),
        )
    except REFUSED as err:
        error = refusal(err)
        return await render_scoring(request, user, cycle, unit, status=error.status, typed=typed, error=error, idem=new_idem())
    return see_other(f"/scoring/{quote(cycle)}/{quote(unit)}?submitted=1")
