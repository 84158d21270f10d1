"""Mounting the web UI: every page module of :mod:`api.web.pages` and ``/static``.

The shared machinery lives beside it: :mod:`api.web.session` (sign-in cookie, CSRF, the page
user), :mod:`api.web.render` (templates, error and retry pages), :mod:`api.web.pageroute`
(errors as pages), :mod:`api.web.forms` (form, error and idempotency helpers),
:mod:`api.web.backend` (every call into the system), :mod:`api.web.catalogue` (every string).

Adding a page: a module under ``api/web/pages/`` with ``router = page_router()``, a handler
``@router.get("/path")`` taking ``user: PageUser`` and returning
``await render_page(request, "name.html", user, **context)``, and — if it does a kind of task —
``TASK_PAGES = {"task_kind": "/path/{cycle}"}``. No list to edit: ``install`` finds it.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web import catalogue
from api.web.render import STATIC, error_page
from api.web.session import LANG_COOKIE, session_user
from api.web.session import CSRF_FIELD, CSRF_HEADER, TOKEN_COOKIE, csrf_for  # noqa: F401 - tests sign forms with these

#: Paths that are not pages: an unknown one answers the JSON API's 404, not the 404 page.
NOT_PAGES = ("/api/", "/docs", "/openapi.json", "/redoc")

__all__ = ["install", "page_modules", "CSRF_FIELD", "CSRF_HEADER", "TOKEN_COOKIE", "csrf_for"]


def page_modules() -> list:
    """Every module of :mod:`api.web.pages`, by name."""
    from api.web import pages

    return [importlib.import_module(f"api.web.pages.{m.name}") for m in sorted(pkgutil.iter_modules(pages.__path__), key=lambda m: m.name)]


def specificity(path: str) -> tuple[int, ...]:
    """A path's segments, 0 for a literal and 1 for a ``{parameter}``: sorted by this, a literal
    segment is tried before a parameter in the same place (``/org/cycles/new`` before
    ``/org/cycles/{key}``, ``/my/files/{sha}`` before ``/my/{cycle}/{unit}``), whichever module holds it."""
    return tuple(1 if part.startswith("{") else 0 for part in path.split("/"))


def install(app: FastAPI) -> None:
    """Mount the pages and ``/static`` on the app (outside ``/api/v1``).

    Each page module's ``router`` is included, its routes ordered so that a literal path segment
    wins over a parameter; its ``TASK_PAGES`` point the inbox at its pages (two modules claiming
    one task kind is a mistake, refused here)."""
    from api.web.pages import tasks

    claimed: dict[str, str] = {}
    routes = []
    for module in page_modules():
        for kind, pattern in getattr(module, "TASK_PAGES", {}).items():
            if kind in claimed and claimed[kind] != module.__name__:
                raise RuntimeError(f"task kind {kind} is claimed by {claimed[kind]} and {module.__name__}")
            claimed[kind] = module.__name__
            tasks.LINKS[kind] = pattern
        routes.extend(module.router.routes)
    everything = APIRouter()
    everything.routes.extend(sorted(routes, key=lambda route: specificity(route.path)))  # stable: a module's order kept
    app.include_router(everything)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.add_exception_handler(StarletteHTTPException, not_found)  # the route-not-found 404 (FastAPI's HTTPException keeps api.errors')


async def not_found(request: Request, err: StarletteHTTPException) -> Response:
    """No route for the path: a page's 404 is the HTML error page (in the page's language, with the
    header's nav for whoever is signed in); ``/api/…`` keeps its JSON answer."""
    if err.status_code != 404 or request.url.path.startswith(NOT_PAGES):
        return await http_exception_handler(request, err)
    request.state.lang = catalogue.choose(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))
    try:
        await session_user(request)
    except Exception:  # noqa: BLE001 - the 404 page renders, signed in or not
        request.state.user = None
    page = error_page(request, 404, catalogue.t(request.state.lang, "nav_not_found"))
    page.headers["Cache-Control"] = "no-store"
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page
