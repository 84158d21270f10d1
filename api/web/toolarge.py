"""The HTML page of a 413: a form whose body passed its route's limit (:mod:`api.limits`)."""

from __future__ import annotations

from starlette.requests import Request

from api.limits import size_text
from api.web import catalogue
from api.web.render import render
from api.web.session import LANG_COOKIE


async def page_413(scope: dict, limit: int) -> tuple[bytes, bytes]:
    """The error page (``error.html``) in the caller's language, as (content type, body)."""
    request = Request(scope)
    lang = catalogue.choose(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))
    request.state.lang = lang
    message = catalogue.t(lang, "limits_too_large", size=size_text(limit))
    response = render(request, "error.html", None, 413, status_code=413, title_key="limits_too_large_title", message=message, resend=None)
    return b"text/html; charset=utf-8", bytes(response.body)
