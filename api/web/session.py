"""Who is signed in, and is this POST theirs: the session cookie, the CSRF token, the page user.

Sign-in sets an HttpOnly, SameSite=Lax cookie ``kaohe_token`` holding an ordinary API token
(``Accounts.login``); sign-out revokes it. Every page POST carries a CSRF token derived from
the session token (:func:`csrf_for`): a form field ``csrf`` or a header ``X-Kaohe-CSRF``
(``base.html`` puts the header on every htmx request). Read :func:`checked_form` before
writing a new POST page.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.accounts import User
from services import Services
from api.web import catalogue

TOKEN_COOKIE = "kaohe_token"
LANG_COOKIE = "kaohe_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-Kaohe-CSRF"


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to /login."""


class PageError(Exception):
    """A page refuses with an HTML error page (its status and its message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def services(request: Request) -> Services:
    return request.app.state.services


def check_origin(request: Request) -> None:
    """A page POST from another site is refused (with the SameSite cookie and the CSRF token)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise PageError(403, catalogue.t(request.state.lang, "bad_form"))


def safe_next(target: str | None) -> str:
    """Only a path on this site (``/…``, not ``//host``) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/tasks"


def login_url(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if path in ("/", "/tasks") else f"/login?next={quote(path, safe='/')}"


def csrf_for(token: str) -> str:
    """The CSRF token of a session: derived from its (secret) session token, so no server state."""
    return hashlib.sha256(f"kaohe-web-csrf:{token}".encode()).hexdigest()[:40]


async def session_user(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        return request.state.user
    token = request.cookies.get(TOKEN_COOKIE)
    accounts = services(request).accounts
    user = (accounts.cached(token) or await run_in_threadpool(accounts.authenticate, token)) if token else None
    request.state.user = user
    return user


async def page_user(request: Request) -> User:
    user = await session_user(request)
    if user is None:
        raise LoginRequired()
    return user


PageUser = Annotated[User, Depends(page_user)]


async def checked_form(request: Request) -> FormData:
    """The posted form of a signed-in page, after its CSRF token is checked. Use in every page POST."""
    form = await request.form()
    token = request.cookies.get(TOKEN_COOKIE) or ""
    sent = str(form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or "")
    if not token or not hmac.compare_digest(sent, csrf_for(token)):
        raise PageError(403, catalogue.t(request.state.lang, "bad_form"))
    return form
