"""Server-rendered pages (Jinja2) over the same Python code as the JSON API.

The pages never call the API over HTTP: they call the API's own route functions
(``api.routers.tasks.my_tasks``, ``api.routers.cycles.get_cycle``, ``api.routers.units.get_unit``…)
with the signed-in :class:`~adapters.accounts.User`, so every role and unit-scope rule is the
API's rule. Errors those functions raise (``DomainError``, ``HTTPException``) become HTML
pages here (:class:`PageRoute`), never JSON and never a crash.

Sign-in sets an HttpOnly, SameSite=Lax cookie ``kaohe_token`` holding an ordinary API token
(``Accounts.login``); sign-out revokes it. Every page POST carries a CSRF token derived from
the session token (:func:`csrf_for`): a form field ``csrf`` or a header ``X-Kaohe-CSRF``
(``base.html`` puts the header on every htmx request). Read :func:`checked_form` before
writing a new POST page.

Adding a page: ``@router.get("/path")`` with ``user: PageUser`` and return
``render(request, "name.html", user, **context)``.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Callable
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from adapters.accounts import User
from api.deps import Services
from api.errors import STATUS, as_unavailable, retry_headers
from api.routers import cycles as cycles_api
from api.routers import tasks as tasks_api
from api.routers import units as units_api
from api.web import i18n
from domain.errors import DomainError
from domain.rules import STAGES
from reporting.documents import CHINA
from projections.models import UnitRow

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

TOKEN_COOKIE = "kaohe_token"
LANG_COOKIE = "kaohe_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-Kaohe-CSRF"
#: Bumped when a static file changes, so browsers fetch it again (``/static/x.css?v=…``).
ASSET_VERSION = "2"

templates = Jinja2Templates(directory=str(TEMPLATES))


# ------------------------------------------------------------------ errors as pages


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to /login."""


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class PageRoute(APIRoute):
    """A page route: language from ``?lang=``/cookie; errors rendered as HTML; safe headers."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            query_lang = request.query_params.get("lang")
            request.state.lang = i18n.choose(query_lang, request.cookies.get(LANG_COOKIE))
            try:
                if request.method == "POST":
                    check_origin(request)
                response = await original(request)
            except LoginRequired:
                response = RedirectResponse(login_url(request), status_code=303)
            except PageError as err:
                response = error_page(request, err.status, err.message)
            except DomainError as err:
                response = error_page(request, STATUS.get(err.kind, 400), err.message)
                response.headers.update(retry_headers(err) or {})
                request.state.unavailable_message = err.message
            except HTTPException as err:
                detail = err.detail.get("message") if isinstance(err.detail, dict) else str(err.detail)
                response = error_page(request, err.status_code, detail or "")
            except RequestValidationError:
                response = error_page(request, 422, i18n.t(request.state.lang, "bad_form"))
            except Exception as err:  # an outage (Temporal, the database) is a 503 page; anything else a bug
                outage = as_unavailable(err)
                if outage is None:
                    raise
                response = error_page(request, 503, outage.message)
                response.headers.update(retry_headers(outage) or {})
                request.state.unavailable_message = outage.message
            if response.status_code == 503 and request.method == "POST":
                response = await retry_page(request, response)
            if query_lang in i18n.LANGS and request.cookies.get(LANG_COOKIE) != query_lang:
                response.set_cookie(LANG_COOKIE, query_lang, max_age=365 * 86400, samesite="lax", path="/")
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            return response

        return handler


router = APIRouter(route_class=PageRoute, include_in_schema=False)


def check_origin(request: Request) -> None:
    """A page POST from another site is refused (with the SameSite cookie and the CSRF token)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise PageError(403, i18n.t(request.state.lang, "bad_form"))


def safe_next(target: str | None) -> str:
    """Only a path on this site (``/…``, not ``//host``) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/tasks"


def login_url(request: Request) -> str:
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if path in ("/", "/tasks") else f"/login?next={quote(path, safe='/')}"


# ------------------------------------------------------------------ the signed-in user


def services(request: Request) -> Services:
    return request.app.state.services


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
        raise PageError(403, i18n.t(request.state.lang, "bad_form"))
    return form


def unit_label(svc: Services, unit: str | None) -> str:
    """``第一支部（U1）``: the unit's name from its latest cycle, or its key alone."""
    if not unit:
        return ""
    with svc.runner.sessions() as db:
        name = db.scalar(select(UnitRow.name).where(UnitRow.unit == unit).order_by(UnitRow.cycle.desc()).limit(1))
    return f"{name}（{unit}）" if name else unit


# ------------------------------------------------------------------ rendering


def fmt_time(value: Any) -> str:
    """An ISO time (or datetime) as Beijing time ``2026-03-01 14:00``."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def static_url(request: Request, path: str) -> str:
    return f"{request.scope.get('root_path', '')}/static/{path}?v={ASSET_VERSION}"


def lang_url(request: Request, lang: str) -> str:
    """This page in another language (a relative URL: path and query, ``lang`` replaced)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(query)}"


def render(request: Request, name: str, user: User | None, status: int = 200, **context: Any) -> Response:
    lang = getattr(request.state, "lang", i18n.DEFAULT)
    token = request.cookies.get(TOKEN_COOKIE)
    ctx = {
        "user": user,
        "user_unit": getattr(request.state, "unit_label", ""),
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "t": partial(i18n.t, lang),
        "v": partial(i18n.value, lang),
        "pick": partial(i18n.pick, lang),
        "role_name": partial(i18n.role, lang),
        "stage_name": partial(i18n.stage, lang),
        "kind_name": partial(i18n.kind, lang),
        "fmt_time": fmt_time,
        "static": partial(static_url, request),
        "lang_url": partial(lang_url, request),
        "csrf": csrf_for(token) if user is not None and token else "",
        "csrf_field": CSRF_FIELD,
        "csrf_header": CSRF_HEADER,
        **context,
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status)


async def render_page(request: Request, name: str, user: User, status: int = 200, **context: Any) -> Response:
    """:func:`render` for a signed-in user, with the header's unit label looked up."""
    request.state.unit_label = await run_in_threadpool(unit_label, services(request), user.unit)
    return render(request, name, user, status, **context)


async def retry_page(request: Request, response: Response) -> Response:
    """A page form answered 503: the 503 page carries a hidden copy of the form (same fields, same
    idempotency key) that ``static/retry.js`` sends again after Retry-After. A form with a file in
    it cannot be copied; its page only says to submit again."""
    retry_after = response.headers.get("Retry-After") or "2"
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - a body that is not a form: nothing to send again
        form = None
    fields = [(k, v) for k, v in form.multi_items()] if form is not None else []
    resend = None
    if fields and all(isinstance(v, str) for _, v in fields) and any(k == "idem" and v for k, v in fields):
        query = f"?{request.url.query}" if request.url.query else ""
        resend = {"action": request.url.path + query, "fields": fields, "retry_after": retry_after}
    message = getattr(request.state, "unavailable_message", None) or "系统繁忙，请稍后重试 / the system is busy; retry shortly"
    page = error_page(request, 503, message, resend=resend)
    page.headers["Retry-After"] = retry_after
    return page


def error_page(request: Request, status: int, message: str, resend: dict[str, Any] | None = None) -> Response:
    user = getattr(request.state, "user", None)
    title = {403: "forbidden_title", 404: "not_found_title", 503: "unavailable_title"}.get(status, "error_title")
    if user is not None:
        try:
            request.state.unit_label = unit_label(services(request), user.unit)
        except Exception:  # noqa: BLE001 - the error page must render even if the lookup fails
            request.state.unit_label = user.unit or ""
    return render(request, "error.html", user, status, status_code=status, title_key=title, message=message, resend=resend)


# ------------------------------------------------------------------ sign-in


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/tasks", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if await session_user(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", None, next=safe_next(next), username="", error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or ""))
    lang = request.state.lang
    if not username or not password:
        return render(request, "login.html", None, 400, next=target, username=username, error=i18n.t(lang, "login_missing"))
    outcome = await services(request).accounts.login_async(username, password)  # bounded Argon2
    if outcome is None:
        return render(request, "login.html", None, 200, next=target, username=username, error=i18n.t(lang, "login_failed"))
    token, expires, _ = outcome
    response = RedirectResponse(target, status_code=303)
    max_age = max(0, int((expires - datetime.now(timezone.utc)).total_seconds()))
    response.set_cookie(
        TOKEN_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(TOKEN_COOKIE)
    if token and await session_user(request) is not None:
        await checked_form(request)
        await run_in_threadpool(services(request).accounts.logout, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# ------------------------------------------------------------------ my tasks

#: Where each kind of task is done. The specific pages (self-review form, scoring sheet,
#: ballot, allocation…) replace these as they are built.
TASK_PAGES: dict[str, str] = {
    "submit_self_review": "/cycles/{cycle}/units/{unit}",
    "acknowledge_feedback": "/cycles/{cycle}/units/{unit}",
    "submit_scoring": "/cycles/{cycle}/units/{unit}",
    "issue_feedback": "/cycles/{cycle}/units/{unit}",
}


def task_href(task: dict[str, Any]) -> str:
    """The page that does a task. Patterns may use {cycle}, {unit}, {cohort}, {item}, {adjustment}."""
    pattern = TASK_PAGES.get(task["kind"])
    if pattern:
        values = {k: quote(str(task.get(k) or "")) for k in ("cycle", "unit", "cohort", "item", "adjustment")}
        needed = [k for k in values if "{" + k + "}" in pattern]
        if all(values[k] for k in needed):
            return pattern.format(**values)
    return f"/cycles/{quote(task['cycle'])}"


@router.get("/tasks")
async def my_tasks(request: Request, user: PageUser) -> Response:
    tasks = await tasks_api.my_tasks(user, services(request))
    for task in tasks:
        task["href"] = task_href(task)
    return await render_page(request, "tasks.html", user, tasks=tasks, nav="tasks")


# ------------------------------------------------------------------ a cycle, a unit


def stage_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage: its state, deadline, and how far it has got (done of total)."""
    p = view["progress"]
    n = p["units"]
    done: dict[str, tuple[int, int] | None] = {
        "self_review": (n - p["self_review"]["pending"], n),
        "scoring": (p["scoring"]["scored"], n),
        "debrief": (sum(1 for s in p["debrief"].values() if not s["open"]), len(p["debrief"])) if p["debrief"] else None,
        "adjustments": (p["adjustments"]["approved"] + p["adjustments"]["rejected"], sum(p["adjustments"].values()))
        if sum(p["adjustments"].values())
        else None,
        "allocation": None,
        "feedback": (p["feedback"]["issued"] + p["feedback"]["acknowledged"], n),
    }
    rows = []
    for stage in STAGES:
        pair = done.get(stage)
        rows.append({
            "stage": stage,
            "state": view["stages"].get(stage, "pending"),
            "deadline": view["deadlines"].get(stage),
            "done": pair[0] if pair else None,
            "total": pair[1] if pair else None,
            "percent": round(100 * pair[0] / pair[1]) if pair and pair[1] else 0,
        })
    return rows


@router.get("/cycles/{key}")
async def cycle_page(request: Request, key: str, user: PageUser) -> Response:
    svc = services(request)
    view = await cycles_api.get_cycle(key, user, svc)
    units = [] if user.role == "representative" else await units_api.list_units(key, user, svc)
    return await render_page(request, "cycle.html", user, cycle=view, stages=stage_rows(view), units=units)


@router.get("/cycles/{key}/units/{unit}")
async def unit_page(request: Request, key: str, unit: str, user: PageUser) -> Response:
    svc = services(request)
    cycle = cycles_api.cycle_view(await run_in_threadpool(cycles_api._cycle_row, svc, key))
    view = await units_api.get_unit(key, unit, user, svc)  # the API's unit scope: 403 for another unit
    return await render_page(request, "unit.html", user, cycle=cycle, unit=view)


# ------------------------------------------------------------------ mounting


def install(app: FastAPI) -> None:
    """Mount the pages and ``/static`` on the app (outside ``/api/v1``).

    Each module of ``api.web.pages`` is a group of role pages: its ``router`` (an APIRouter with
    ``route_class=PageRoute``) is included, and its ``TASK_PAGES`` (task kind → page pattern)
    points the inbox at its pages."""
    import importlib
    import pkgutil

    from api.web import pages

    app.include_router(router)
    for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"api.web.pages.{info.name}")
        TASK_PAGES.update(getattr(module, "TASK_PAGES", {}))
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
