"""Signing in and out: ``/`` (to the inbox), ``/login`` (the form, then the session cookie), ``/logout``."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.web import catalogue
from api.web.forms import see_other
from api.web.pageroute import page_router
from api.web.render import render
from api.web.session import TOKEN_COOKIE, checked_form, safe_next, services, session_user

router = page_router()


@router.get("/")
async def home() -> Response:
    return see_other("/tasks")


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await session_user(request) is not None:
        return see_other(safe_next(next))
    return render(request, "login.html", None, next=safe_next(next), username="", error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    lang = request.state.lang
    if not username or not password:
        return render(request, "login.html", None, 400, next=target, username=username, error=catalogue.t(lang, "login_missing"))
    outcome = await services(request).accounts.login_async(username, password)  # bounded Argon2
    if outcome is None:
        return render(request, "login.html", None, 200, next=target, username=username, error=catalogue.t(lang, "login_failed"))
    token, expires, _ = outcome
    response = see_other(target)
    max_age = max(0, int((expires - datetime.now(timezone.utc)).total_seconds()))
    response.set_cookie(
        TOKEN_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure_cookie(request), path="/"
    )
    return response


def secure_cookie(request: Request) -> bool:
    """Always in production (TLS may end at a proxy: ``KAOHE_FORWARDED_ALLOW_IPS``); else when the request came over https."""
    return request.app.state.policy.cookie_secure or request.url.scheme == "https"


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(TOKEN_COOKIE)
    if token and await session_user(request) is not None:
        await checked_form(request)
        await run_in_threadpool(services(request).accounts.logout, token)
    response = see_other("/login")
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="lax")
    return response
