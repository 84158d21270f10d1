"""What every answer says about itself, and who may read the API's own documentation.

- :class:`SecurityHeadersMiddleware` puts ``X-Content-Type-Options: nosniff`` and a
  ``Referrer-Policy`` on every answer (pages, API, static files, errors), and in production
  ``Strict-Transport-Security`` (``KAOHE_HSTS_SECONDS``; the site is served over TLS there, by
  a proxy if not by uvicorn itself). A header an answer already carries is kept.
- :func:`install_docs`: ``/docs``, ``/redoc`` and ``/openapi.json`` are open in the embedded
  default; in production only a signed-in caller reads them (a bearer token or the page's
  session cookie). Others are sent to sign in (the two pages) or answered 401 (the schema).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.errors import error_body
from api.limits import MiB, token_of

DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


@dataclass(frozen=True)
class HttpPolicy:
    """The HTTP side of the settings (built by the composition root from ``kaohe.settings``)."""

    production: bool = False
    max_body_bytes: int = MiB
    hsts_seconds: int = 365 * 86400
    referrer_policy: str = "same-origin"

    @property
    def docs_public(self) -> bool:
        return not self.production

    @property
    def cookie_secure(self) -> bool:
        """The session cookie is ``Secure`` always in production (TLS may end at a proxy)."""
        return self.production


class SecurityHeadersMiddleware:
    """Pure ASGI: adds the safe headers to every ``http.response.start``."""

    def __init__(self, app: Callable, *, policy: HttpPolicy) -> None:
        self.app = app
        extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", policy.referrer_policy.encode())]
        if policy.production and policy.hsts_seconds > 0:
            extra.append((b"strict-transport-security", f"max-age={policy.hsts_seconds}; includeSubDomains".encode()))
        self.extra = extra

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_docs(app: FastAPI, policy: HttpPolicy, authenticate: Callable[[str], object]) -> None:
    """The documentation routes: FastAPI's own when public, else guarded copies of them."""
    if policy.docs_public:
        return  # create_app left FastAPI's /docs, /redoc, /openapi.json in place

    async def signed_in(request: Request) -> bool:
        token = token_of(request.scope)
        return bool(token) and await run_in_threadpool(authenticate, token) is not None

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> Response:
        if not await signed_in(request):
            return JSONResponse(error_body("unauthenticated", "请先登录 / sign in first"), status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        if not await signed_in(request):
            return RedirectResponse("/login?next=/docs", status_code=303)
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - Swagger UI")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> Response:
        if not await signed_in(request):
            return RedirectResponse("/login?next=/redoc", status_code=303)
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")
