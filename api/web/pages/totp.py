"""The TOTP second factor on the pages.

- ``/login/totp``: the enrolment a role that must have a second factor (admin and committee in
  production) is sent to after the password step, holding only the half-done sign-in's cookie
  (``kaohe_pending``, a token that opens nothing else): a QR code and the secret as text, a code from
  the app typed back, then the 10 recovery codes shown once — and only then the session.
- ``/account/totp``: every signed-in user sets a second factor up (optional for the other roles),
  sees how many recovery codes are left, or turns it off with a current code (when the role allows).
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import Response

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.forms import REFUSED, refusal, see_other
from api.web.pageroute import page_router
from api.web.pages.login import PENDING_COOKIE, set_session_cookie
from api.web.qr import qr_svg
from api.web.render import render, render_page
from api.web.session import CSRF_FIELD, TOKEN_COOKIE, PageError, PageUser, checked_form, csrf_for, safe_next, services

router = page_router()

#: The error codes of the store, and the words a page shows for them.
CODE_ERRORS = {"wrong_code": "signin_code_wrong", "totp_required": "signin_totp_cannot_disable", "totp_enrolled": "signin_totp_already",
               "totp_not_begun": "signin_totp_not_begun"}


def code_error(lang: str, err: BaseException) -> str:
    r = refusal(err)
    return catalogue.t(lang, CODE_ERRORS.get(r.code or "", "signin_code_wrong"))


def setup_context(request: Request, secret: str, uri: str) -> dict:
    return {"secret": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), "uri": uri,
            "qr": qr_svg(uri, catalogue.t(request.state.lang, "signin_totp_qr_label"))}


# ------------------------------------------------------------------ enrolment during sign-in


async def _enrolling(request: Request) -> tuple[User, str]:
    token = request.cookies.get(PENDING_COOKIE) or ""
    user = await backend.pending_user(services(request), token, "enrol")
    if user is None:
        raise PageError(401, catalogue.t(request.state.lang, "signin_pending_gone"))
    return user, token


@router.get("/login/totp")
async def enrol_form(request: Request, next: str | None = None) -> Response:
    user, token = await _enrolling(request)
    secret, uri = (await backend.totp_begin(services(request), user)).values()
    return render(request, "totp.html", None, mode="setup", action="/login/totp", next=safe_next(next), error=None,
                  csrf=csrf_for(token), required=True, **setup_context(request, secret, uri))


@router.post("/login/totp")
async def enrol(request: Request) -> Response:
    user, token = await _enrolling(request)
    form = await request.form()
    if not hmac.compare_digest(str(form.get(CSRF_FIELD) or ""), csrf_for(token)):
        raise PageError(403, catalogue.t(request.state.lang, "bad_form"))
    target = safe_next(str(form.get("next") or ""))
    svc = services(request)
    try:
        codes = await backend.totp_confirm(svc, user, str(form.get("code") or "")[:40])
    except REFUSED as err:
        secret, uri = (await backend.totp_begin(svc, user)).values()
        return render(request, "totp.html", None, 422, mode="setup", action="/login/totp", next=target, required=True,
                      error=code_error(request.state.lang, err), csrf=csrf_for(token), **setup_context(request, secret, uri))
    session = await backend.finish_enrolment(svc, token)
    response = render(request, "totp.html", None, mode="codes", codes=codes, next=target)
    if session is not None:
        set_session_cookie(request, response, TOKEN_COOKIE, session.token, session.expires)
    response.delete_cookie(PENDING_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# ------------------------------------------------------------------ a signed-in user's own second factor


async def status_page(request: Request, user: User, status: int = 200, error: str | None = None) -> Response:
    state = await backend.second_factor_status(services(request), user)
    return await render_page(request, "totp.html", user, status, mode="status", error=error, **state)


@router.get("/account/totp")
async def account_totp(request: Request, user: PageUser) -> Response:
    return await status_page(request, user)


@router.post("/account/totp/begin")
async def account_begin(request: Request, user: PageUser) -> Response:
    await checked_form(request)
    try:
        secret, uri = (await backend.totp_begin(services(request), user)).values()
    except REFUSED as err:
        return await status_page(request, user, 409, code_error(request.state.lang, err))
    return await render_page(request, "totp.html", user, mode="setup", action="/account/totp/confirm", next="/account/totp",
                             error=None, required=False, **setup_context(request, secret, uri))


@router.post("/account/totp/confirm")
async def account_confirm(request: Request, user: PageUser) -> Response:
    form = await checked_form(request)
    svc = services(request)
    try:
        codes = await backend.totp_confirm(svc, user, str(form.get("code") or "")[:40])
    except REFUSED as err:
        secret, uri = (await backend.totp_begin(svc, user)).values()
        return await render_page(request, "totp.html", user, 422, mode="setup", action="/account/totp/confirm",
                                 next="/account/totp", required=False, error=code_error(request.state.lang, err),
                                 **setup_context(request, secret, uri))
    return await render_page(request, "totp.html", user, mode="codes", codes=codes, next="/account/totp")


@router.post("/account/totp/disable")
async def account_disable(request: Request, user: PageUser) -> Response:
    form = await checked_form(request)
    try:
        await backend.totp_disable(services(request), user, str(form.get("code") or "")[:40])
    except REFUSED as err:
        return await status_page(request, user, 422, code_error(request.state.lang, err))
    return see_other("/account/totp")
