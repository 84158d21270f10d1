"""Signing in and out: ``/`` (to the inbox), ``/login`` (the password, then — for an account with
a second factor — ``/login/otp``, the code; then the session cookie), ``/logout``.

Wrong passwords and codes are throttled by the accounts store (per account and per address, in the
database): while locked the form says for how long and answers 429. An account whose role needs a
second factor and has none goes from the password to the enrolment page (``/login/totp``,
:mod:`api.web.pages.totp`) and is signed in only once a code from the new app is typed back."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.accounts import Session, Throttled
from api.deps import client_address
from api.web import backend, catalogue
from api.web.forms import see_other
from api.web.pageroute import page_router
from api.web.render import render
from api.web.session import TOKEN_COOKIE, checked_form, safe_next, services, session_user

router = page_router()

#: The cookie of a sign-in half done: the password is right, the second factor is still to come.
PENDING_COOKIE = "kaohe_pending"


def secure_cookie(request: Request) -> bool:
    """Always in production (TLS may end at a proxy: ``KAOHE_FORWARDED_ALLOW_IPS``); else when the request came over https."""
    return request.app.state.policy.cookie_secure or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, name: str, token: str, expires: datetime) -> None:
    max_age = max(0, int((expires - datetime.now(timezone.utc)).total_seconds()))
    response.set_cookie(name, token, max_age=max_age, httponly=True, samesite="lax", secure=secure_cookie(request), path="/")


def signed_in(request: Request, session: Session, target: str) -> Response:
    """The full session's cookie, the half-done one gone, and on to ``target``."""
    response = see_other(target)
    set_session_cookie(request, response, TOKEN_COOKIE, session.token, session.expires)
    response.delete_cookie(PENDING_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def wait_text(lang: str, seconds: int) -> str:
    if seconds >= 60:
        return catalogue.t(lang, "signin_throttled_minutes", n=-(-seconds // 60))
    return catalogue.t(lang, "signin_throttled_seconds", n=seconds)


def throttled_page(request: Request, err: Throttled, step: str, target: str, username: str = "") -> Response:
    response = render(request, "login.html", None, 429, next=target, username=username, step=step,
                      error=wait_text(request.state.lang, err.retry_after))
    response.headers["Retry-After"] = str(err.retry_after)
    return response


@router.get("/")
async def home() -> Response:
    return see_other("/tasks")


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await session_user(request) is not None:
        return see_other(safe_next(next))
    return render(request, "login.html", None, next=safe_next(next), username="", error=None, step="password")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    lang = request.state.lang
    if not username or not password:
        return render(request, "login.html", None, 400, next=target, username=username, step="password",
                      error=catalogue.t(lang, "login_missing"))
    try:
        outcome = await backend.sign_in(services(request), username, password, client_address(request), pending=True)
    except Throttled as err:
        return throttled_page(request, err, "password", target, username)
    if outcome is None:
        return render(request, "login.html", None, 200, next=target, username=username, step="password",
                      error=catalogue.t(lang, "login_failed"))
    if outcome.step == "full":
        return signed_in(request, outcome, target)
    if outcome.step == "otp":
        response = render(request, "login.html", None, 200, next=target, username=username, step="otp", error=None)
    else:  # "enrol": the role needs a second factor, and there is none yet
        response = see_other(f"/login/totp?next={quote(target, safe='/')}")
    set_session_cookie(request, response, PENDING_COOKIE, outcome.token, outcome.expires)
    return response


@router.post("/login/otp")
async def login_code(request: Request) -> Response:
    form = await request.form()
    code = str(form.get("code") or "").strip()[:40]
    target = safe_next(str(form.get("next") or ""))
    pending = request.cookies.get(PENDING_COOKIE) or ""
    lang = request.state.lang
    if not pending or await backend.pending_user(services(request), pending, "otp") is None:
        return render(request, "login.html", None, 400, next=target, username="", step="password",
                      error=catalogue.t(lang, "signin_pending_gone"))
    if not code:
        return render(request, "login.html", None, 400, next=target, username="", step="otp",
                      error=catalogue.t(lang, "signin_code_missing"))
    try:
        outcome = await backend.second_step(services(request), pending, code, client_address(request))
    except Throttled as err:
        return throttled_page(request, err, "otp", target)
    if outcome is None:
        return render(request, "login.html", None, 200, next=target, username="", step="otp",
                      error=catalogue.t(lang, "signin_code_wrong"))
    return signed_in(request, outcome, target)


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(TOKEN_COOKIE)
    if token and await session_user(request) is not None:
        await checked_form(request)
        await run_in_threadpool(services(request).accounts.logout, token)
    response = see_other("/login")
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="lax")
    response.delete_cookie(PENDING_COOKIE, path="/", httponly=True, samesite="lax")
    return response
