"""``/ballot/{cycle}/{cohort}``: the representative's (参会代表) debrief ballot on a phone — a score
(0–100) for each secretary's report, the representative's category, cast once."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.forms import REFUSED, by_place, idem_of, new_idem, refusal, see_other, text
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageError, PageUser, checked_form, services
from domain.scheme import ORG_TYPES

router = page_router()

TASK_PAGES = {"cast_ballot": "/ballot/{cycle}/{cohort}"}


async def session_of(request: Request, user: User, cycle: str, cohort: str) -> dict[str, Any]:
    backend.may_open(user, "ballot.cast")
    for s in await backend.sessions(services(request), user, cycle):
        if s["cohort"] == cohort:
            return s
    raise PageError(404, catalogue.both("err_no_session", cohort=cohort))


async def render_ballot(
    request: Request, user: User, cycle: str, cohort: str, *, status: int = 200,
    typed: dict[str, str] | None = None, category: str = "", error=None,
    idem: str | None = None, just_cast: bool = False,
) -> Response:
    session = await session_of(request, user, cycle, cohort)
    cyc = await backend.cycle_record(services(request), cycle)
    units = [s["unit"] for s in session["secretaries"]]
    field_errors, form_error = by_place(error, units, ("scores.",))
    if error is not None and error.field == "category":
        field_errors, form_error = {"__category": error.message}, None
    return await render_page(
        request, "people_ballot.html", user, status,
        cycle=cyc, session=session, cohort_name=cohort if request.state.lang == "en" else ORG_TYPES.get(cohort, cohort),
        typed=typed or {}, category=category, categories=list((cyc.get("categories") or {}).keys()),
        field_errors=field_errors, form_error=form_error, idem=idem or new_idem(), just_cast=just_cast,
    )


@router.get("/ballot/{cycle}/{cohort}")
async def ballot_page(request: Request, cycle: str, cohort: str, user: PageUser, done: str | None = None) -> Response:
    return await render_ballot(request, user, cycle, cohort, just_cast=done == "1")


@router.post("/ballot/{cycle}/{cohort}")
async def ballot_cast(request: Request, cycle: str, cohort: str, user: PageUser) -> Response:
    form = await checked_form(request)
    session = await session_of(request, user, cycle, cohort)
    typed = {s["unit"]: text(form, f"score.{s['unit']}") for s in session["secretaries"]}
    category = text(form, "category")
    try:
        await backend.cast_ballot(services(request), user, cycle, cohort, {u: v for u, v in typed.items() if v},
                                  category or None, idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        return await render_ballot(request, user, cycle, cohort, status=error.status, typed=typed, category=category,
                                   error=error, idem=new_idem())
    return see_other(f"/ballot/{quote(cycle)}/{quote(cohort)}?done=1")
