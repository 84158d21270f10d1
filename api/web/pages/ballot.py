"""``/ballot/{cycle}/{cohort}``: the representative's (参会代表) debrief ballot on a phone — a score
(0–100) for each secretary's report, the representative's category, cast once."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from adapters.accounts import User
from api.web import backend, ballot_sheet, catalogue
from api.web.confirm import confirm_page, confirmed, going_back
from api.web.forms import REFUSED, by_place, idem_of, new_idem, refusal, see_other, text
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageError, PageUser, checked_form, services

router = page_router()

TASK_PAGES = {"cast_ballot": "/ballot/{cycle}/{cohort}"}


async def session_of(request: Request, user: User, cycle: str, cohort: str) -> dict[str, Any]:
    backend.may_open(user, "ballot.cast")
    for s in await backend.sessions(services(request), user, cycle):
        if s["cohort"] == cohort:
            return s
    raise PageError(404, catalogue.both("err_no_session", cohort=catalogue.cohort("zh", cohort)))


async def render_ballot(
    request: Request, user: User, cycle: str, cohort: str, *, status: int = 200,
    typed: dict[str, str] | None = None, category: str = "", error=None,
    idem: str | None = None, just_cast: bool = False, abstained: dict[str, bool] | None = None,
    sheet_errors: tuple[dict[str, str], str | None] | None = None,
) -> Response:
    session = await session_of(request, user, cycle, cohort)
    cyc = await backend.cycle_record(services(request), cycle)
    units = [s["unit"] for s in session["secretaries"]]
    field_errors, form_error = sheet_errors or by_place(error, units, ("scores.",))
    if error is not None and error.field == "category":
        field_errors, form_error = {"__category": error.message}, None
    return await render_page(
        request, "people_ballot.html", user, status,
        cycle=cyc, session=session, cohort_name=catalogue.cohort(request.state.lang, cohort),
        typed=typed or {}, category=category, categories=list((cyc.get("categories") or {}).keys()),
        field_errors=field_errors, form_error=form_error, idem=idem or new_idem(), just_cast=just_cast,
        abstained=abstained or {},
    )


@router.get("/ballot/{cycle}/{cohort}")
async def ballot_page(request: Request, cycle: str, cohort: str, user: PageUser, done: str | None = None) -> Response:
    return await render_ballot(request, user, cycle, cohort, just_cast=done == "1")


@router.post("/ballot/{cycle}/{cohort}")
async def ballot_cast(request: Request, cycle: str, cohort: str, user: PageUser) -> Response:
    form = await checked_form(request)
    session = await session_of(request, user, cycle, cohort)
    lang = request.state.lang
    sheet = ballot_sheet.read(form, session["secretaries"])
    category = text(form, "category")
    again = dict(typed=sheet.typed, abstained=sheet.abstained, category=category)
    if going_back(form):
        return await render_ballot(request, user, cycle, cohort, idem=idem_of(form), **again)
    if not confirmed(form):  # every row scored or abstained, and checked, before the sheet is confirmed
        missing = ballot_sheet.problems(lang, sheet, session["secretaries"])
        if missing[0]:
            return await render_ballot(request, user, cycle, cohort, status=422, sheet_errors=missing, idem=idem_of(form), **again)
        try:
            await backend.check_ballot(services(request), user, cycle, cohort, sheet.scores())
        except REFUSED as err:
            return await render_ballot(request, user, cycle, cohort, status=refusal(err).status, error=refusal(err),
                                       idem=idem_of(form), **again)
        return await confirm_page(
            request, user, form, title=catalogue.t(lang, "cf_ballot_title"),
            lines=[catalogue.t(lang, "cf_ballot_line", n=len(session["secretaries"]))],
            items=ballot_sheet.summary(lang, sheet, session["secretaries"]), after=[catalogue.t(lang, "cf_ballot_after")],
            confirm_label=catalogue.t(lang, "cf_ballot_yes"), testid="confirm-ballot",
        )
    try:
        await backend.cast_ballot(services(request), user, cycle, cohort, sheet.scores(), category or None, idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        return await render_ballot(request, user, cycle, cohort, status=error.status, error=error, idem=new_idem(), **again)
    return see_other(f"/ballot/{quote(cycle)}/{quote(cohort)}?done=1")
