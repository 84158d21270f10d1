"""``/b/{code}``: the phone ballot a printed QR code opens (述职评议 · 扫码评分) — no account: the
one-time code is the credential. It shows the session's secretaries and casts once as the code's
representative through the same use case as an account's sheet (roster, category, one sheet per
session). A spent, revoked, expired or unknown code gets a clear page, never a crash."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, ballot_sheet, catalogue
from api.web.confirm import confirm_page, confirmed, going_back
from api.web.forms import REFUSED, by_place, refusal
from api.web.pageroute import page_router
from api.web.render import render
from api.web.session import services

router = page_router()


async def code_page(request: Request, code: str, *, status: int = 200, typed: dict[str, str] | None = None,
                    error=None, done: bool = False, abstained: dict[str, bool] | None = None,
                    sheet_errors: tuple[dict[str, str], str | None] | None = None) -> Response:
    try:
        ballot = await backend.code_ballot(services(request), code)
    except REFUSED as err:
        if done:  # just cast: the code is spent, and that is the good news
            return render(request, "people_ballot_code.html", None, 200, ballot=None, done=True, refused=None)
        refused = refusal(err)
        return render(request, "people_ballot_code.html", None, refused.status, ballot=None, done=False, refused=refused.message)
    units = [s["unit"] for s in ballot["secretaries"]]
    field_errors, form_error = sheet_errors or by_place(error, units, ("scores.",))
    return render(request, "people_ballot_code.html", None, status, ballot=ballot, code=code, typed=typed or {},
                  abstained=abstained or {}, field_errors=field_errors, form_error=form_error, done=False, refused=None)


@router.get("/b/{code}")
async def ballot_by_code(request: Request, code: str, done: str | None = None) -> Response:
    return await code_page(request, code, done=done == "1")


@router.post("/b/{code}")
async def cast_by_code(request: Request, code: str) -> Response:
    form = await request.form()  # the code in the path is the secret: no session, no CSRF token to check
    try:
        ballot = await backend.code_ballot(services(request), code)
    except REFUSED as err:
        refused = refusal(err)
        return render(request, "people_ballot_code.html", None, refused.status, ballot=None, done=False, refused=refused.message)
    lang = request.state.lang
    sheet = ballot_sheet.read(form, ballot["secretaries"])
    again = dict(typed=sheet.typed, abstained=sheet.abstained)
    if going_back(form):
        return await code_page(request, code, **again)
    if not confirmed(form):  # every row scored or abstained, and checked, before the sheet is confirmed
        missing = ballot_sheet.problems(lang, sheet, ballot["secretaries"])
        if missing[0]:
            return await code_page(request, code, status=422, sheet_errors=missing, **again)
        try:
            await backend.check_code_ballot(services(request), code, sheet.scores())
        except REFUSED as err:
            return await code_page(request, code, status=refusal(err).status, error=refusal(err), **again)
        return await confirm_page(
            request, None, form, title=catalogue.t(lang, "cf_ballot_title"),
            lines=[catalogue.t(lang, "cf_ballot_line", n=len(ballot["secretaries"]))],
            items=ballot_sheet.summary(lang, sheet, ballot["secretaries"]), after=[catalogue.t(lang, "cf_ballot_after")],
            confirm_label=catalogue.t(lang, "cf_ballot_yes"), testid="confirm-ballot",
        )
    try:
        await backend.cast_by_code(services(request), code, sheet.scores())
    except REFUSED as err:
        error = refusal(err)
        if error.field == "code":  # spent meanwhile, expired, revoked: the clear page
            return render(request, "people_ballot_code.html", None, error.status, ballot=None, done=False, refused=error.message)
        return await code_page(request, code, status=error.status, error=error, **again)
    return render(request, "people_ballot_code.html", None, 200, ballot=ballot, done=True, refused=None)
