"""``/account/password``: every signed-in user changes their own password — the current one
first, the new one twice, at least as long as the accounts store asks
(:data:`adapters.accounts.MIN_PASSWORD`). Their other sessions end; this one stays signed in."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from adapters.accounts import MIN_PASSWORD, User
from api.web import backend, catalogue
from api.web.forms import REFUSED, beside, raw, refusal, see_other
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import TOKEN_COOKIE, PageUser, checked_form, services

router = page_router()

#: The form's inputs; the store's ``password`` field is the new one.
FIELDS = ["current", "new", "repeated"]


async def password_page(request: Request, user: User, errors: dict[str, str] | None = None, status: int = 200,
                        done: bool = False) -> Response:
    return await render_page(request, "account_password.html", user, status, errors=errors or {}, done=done,
                             min_length=MIN_PASSWORD)


@router.get("/account/password")
async def password_form(request: Request, user: PageUser, done: str | None = None) -> Response:
    return await password_page(request, user, done=done == "1")


@router.post("/account/password")
async def change_password(request: Request, user: PageUser) -> Response:
    form = await checked_form(request)
    current, new, repeated = raw(form, "current"), raw(form, "new"), raw(form, "repeated")
    errors: dict[str, str] = {}
    lang = request.state.lang
    if not current:
        errors["current"] = catalogue.t(lang, "nav_pw_need_current")
    if len(new) < MIN_PASSWORD:
        errors["new"] = catalogue.t(lang, "nav_pw_too_short", n=MIN_PASSWORD)
    if new != repeated:
        errors["repeated"] = catalogue.t(lang, "nav_pw_mismatch")
    if errors:
        return await password_page(request, user, errors, 422)
    try:
        await backend.change_own_password(services(request), user, request.cookies.get(TOKEN_COOKIE), current, new, repeated)
    except REFUSED as err:
        error = refusal(err)
        if error.field == "password":
            error = type(error)(error.status, error.code, error.message, "new")
        return await password_page(request, user, beside(error, FIELDS), error.status)
    return see_other("/account/password?done=1")
