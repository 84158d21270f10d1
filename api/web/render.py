"""Rendering a page: the Jinja2 templates, the context every template gets, the error page and the
503 page that sends a form again (``static/retry.js``)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from adapters.accounts import User
from services import Services
from api.web import backend, catalogue
from api.web.session import CSRF_FIELD, CSRF_HEADER, TOKEN_COOKIE, csrf_for, services
from reporting.documents import CHINA

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: Bumped when a static file changes, so browsers fetch it again (``/static/x.css?v=…``).
ASSET_VERSION = "3"

templates = Jinja2Templates(directory=str(TEMPLATES))

#: The error page's title (a catalogue key) by status; any other status is ``error_title``.
ERROR_TITLES = {403: "forbidden_title", 404: "not_found_title", 503: "unavailable_title"}


def unit_label(svc: Services, unit: str | None, lang: str = catalogue.DEFAULT) -> str:
    """``第一支部（U1）``: the unit's name from its latest cycle, or its key alone."""
    if not unit:
        return ""
    name = backend.unit_name(svc, unit)
    return catalogue.t(lang, "unit_label", name=name, unit=unit) if name else unit


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


def person(names: dict[str, str], login: str | None) -> Markup:
    """A person by display name, their login in a tooltip (``<span title="zzb-li">李明</span>``)."""
    if not login:
        return Markup("")
    name = names.get(login) or login
    return Markup('<span class="person" title="{}">{}</span>').format(login, name)


def may_do(user: User | None, action: str) -> bool:
    """Whether the signed-in user's role may take ``action`` (the role table): what the nav offers."""
    return user is not None and backend.may(user, action)


def person_name(names: dict[str, str], login: str | None) -> str:
    """A person's display name as plain text (where markup cannot go, as in an ``<option>``)."""
    return (names.get(login) or login or "") if login else ""


def static_url(request: Request, path: str) -> str:
    return f"{request.scope.get('root_path', '')}/static/{path}?v={ASSET_VERSION}"


def lang_url(request: Request, lang: str) -> str:
    """This page in another language (a relative URL: path and query, ``lang`` replaced)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(query)}"


def render(request: Request, name: str, user: User | None, status: int = 200, **context: Any) -> Response:
    lang = getattr(request.state, "lang", catalogue.DEFAULT)
    token = request.cookies.get(TOKEN_COOKIE)
    ctx = {
        "user": user,
        "user_unit": getattr(request.state, "unit_label", ""),
        "lang": lang,
        "html_lang": catalogue.HTML_LANG[lang],
        "t": partial(catalogue.t, lang),
        "v": partial(catalogue.value, lang),
        "pick": partial(catalogue.pick, lang),
        "role_name": partial(catalogue.role, lang),
        "stage_name": partial(catalogue.stage, lang),
        "kind_name": partial(catalogue.kind, lang),
        "cohort_name": partial(catalogue.cohort, lang),
        "event_name": partial(catalogue.event, lang),
        "num": catalogue.num,
        "person": partial(person, getattr(request.state, "people", None) or {}),
        "person_name": partial(person_name, getattr(request.state, "people", None) or {}),
        "fmt_time": fmt_time,
        "static": partial(static_url, request),
        "lang_url": partial(lang_url, request),
        "may": partial(may_do, user),
        "csrf": csrf_for(token) if user is not None and token else "",
        "csrf_field": CSRF_FIELD,
        "csrf_header": CSRF_HEADER,
        **context,
    }
    return templates.TemplateResponse(request, name, ctx, status_code=status)


async def render_page(request: Request, name: str, user: User, status: int = 200, **context: Any) -> Response:
    """:func:`render` for a signed-in user, with the header's unit label looked up."""
    lang = getattr(request.state, "lang", catalogue.DEFAULT)
    request.state.unit_label = await run_in_threadpool(unit_label, services(request), user.unit, lang)
    request.state.people = await run_in_threadpool(backend.display_names, services(request))
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
    message = getattr(request.state, "unavailable_message", None) or catalogue.both("busy_retry_shortly")
    page = error_page(request, 503, message, resend=resend)
    page.headers["Retry-After"] = retry_after
    return page


def error_page(request: Request, status: int, message: str, resend: dict[str, Any] | None = None) -> Response:
    user = getattr(request.state, "user", None)
    title = ERROR_TITLES.get(status, "error_title")
    if user is not None:
        try:
            request.state.unit_label = unit_label(services(request), user.unit, getattr(request.state, "lang", catalogue.DEFAULT))
        except Exception:  # noqa: BLE001 - the error page must render even if the lookup fails
            request.state.unit_label = user.unit or ""
    return render(request, "error.html", user, status, status_code=status, title_key=title, message=message, resend=resend)
