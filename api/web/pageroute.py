"""The page route: what every page shares around its handler.

The language comes from ``?lang=`` or the cookie; a POST from another site is refused; the errors a
handler lets through become HTML pages, never JSON and never a crash (no session → /login, a
``DomainError`` or ``HTTPException`` → its status and message, an outage → 503, and a 503 to a
form → the page that sends the form again); safe headers on every answer.

A page module makes its router with :func:`page_router`.
"""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from api.errors import STATUS, as_unavailable, retry_headers
from api.web import catalogue
from api.web.render import error_page, retry_page
from api.web.session import LANG_COOKIE, LoginRequired, PageError, check_origin, login_url
from domain.errors import DomainError


class PageRoute(APIRoute):
    """A page route: language from ``?lang=``/cookie; errors rendered as HTML; safe headers."""

    def get_route_handler(self) -> Callable:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            query_lang = request.query_params.get("lang")
            request.state.lang = catalogue.choose(query_lang, request.cookies.get(LANG_COOKIE))
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
                response = error_page(request, 422, catalogue.t(request.state.lang, "bad_form"))
            except Exception as err:  # an outage (Temporal, the database) is a 503 page; anything else a bug
                outage = as_unavailable(err)
                if outage is None:
                    raise
                response = error_page(request, 503, outage.message)
                response.headers.update(retry_headers(outage) or {})
                request.state.unavailable_message = outage.message
            if response.status_code == 503 and request.method == "POST":
                response = await retry_page(request, response)
            if query_lang in catalogue.LANGS and request.cookies.get(LANG_COOKIE) != query_lang:
                response.set_cookie(LANG_COOKIE, query_lang, max_age=365 * 86400, samesite="lax", path="/")
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            return response

        return handler


def page_router() -> APIRouter:
    """The router of one page module: its routes are :class:`PageRoute` and stay out of the OpenAPI schema."""
    return APIRouter(route_class=PageRoute, include_in_schema=False)
