"""What every answer says about itself, and who may read the API's own documentation.

- :class:`SecurityHeadersMiddleware` puts ``X-Content-Type-Options: nosniff`` and a
  ``Referrer-Policy`` on every answer (pages, API, static files, errors), and in production
  ``Strict-Transport-Security`` (``KAOHE_HSTS_SECONDS``; the site is served over TLS there, by
  a proxy if not by uvicorn itself). A header an answer already carries is kept.
- The same middleware puts a ``Content-Security-Policy`` on every answer: :data:`PAGE_CSP` on
  an HTML page (scripts and styles only from the site's own files: no inline script, no event
  handler attributes, no ``eval``; ``data:`` images for the QR codes), :data:`API_CSP` on
  everything else (JSON, files, static assets: nothing may load, nothing may frame it). The API
  documentation pages (``/docs``, ``/redoc``) are FastAPI's own, which load Swagger UI and ReDoc
  from jsDelivr: they get :func:`docs_csp`, which names exactly those files and the hash of the
  page's own inline start-up script (and, for styles only, ``'unsafe-inline'``: both apply
  styles at run time). These pages show no user data; the script policy stays strict there.
- :func:`install_docs`: ``/docs``, ``/redoc`` and ``/openapi.json`` are open in the embedded
  default; in production only a signed-in caller reads them (a bearer token or the page's
  session cookie). Others are sent to sign in (the two pages) or answered 401 (the schema).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.errors import error_body
from api.limits import MiB, token_of

DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")

#: Every HTML page of the site. The templates hold no inline script, no ``on…=`` attribute, no
#: ``javascript:`` URL and no ``style=`` attribute (tests/test_csp.py scans them); htmx runs
#: without its indicator style sheet (base.html's htmx-config meta; the rules are in kaohe.css).
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
#: API answers (JSON), downloads and static files: they load nothing and nobody frames them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: Paths whose answers get :data:`API_CSP` even when they say text/html (an HTML answer with a
#: ``Content-Disposition`` gets it too: a file, say an uploaded .html evidence file, is no page).
NEVER_PAGES = ("/api/", "/static/")

#: What FastAPI's documentation pages load (fastapi.openapi.docs), named one by one.
SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
REDOC_JS = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
FASTAPI_FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"
DOCS_PAGES = ("/docs", "/redoc")  # /docs/oauth2-redirect too (a prefix)

_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(html: bytes) -> list[str]:
    """The CSP source of each inline ``<script>`` of a page: ``'sha256-…'`` of its text."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'" for body in _INLINE_SCRIPT.findall(html)]


def docs_csp(path: str, html: bytes) -> str:
    """The policy of a documentation page: its CDN files by name, its inline script by hash."""
    scripts = " ".join([SWAGGER_JS, REDOC_JS, *inline_script_hashes(html)])
    # Both apply styles at run time that no hash can name: ReDoc writes <style> elements (styled
    # components), Swagger UI 5 sets inline styles (swagger-api/swagger-ui#10655). Only styles: a
    # script still has to be one of the named files or the page's own start-up script.
    styles = "'unsafe-inline' " + ("https://fonts.googleapis.com" if path.startswith("/redoc") else SWAGGER_CSS)
    return (f"default-src 'none'; script-src {scripts}; style-src {styles}; font-src https://fonts.gstatic.com; "
            f"img-src 'self' data: https://cdn.jsdelivr.net {FASTAPI_FAVICON}; connect-src 'self'; worker-src blob:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def is_docs_page(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in DOCS_PAGES)


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
    """Pure ASGI: adds the safe headers and the Content-Security-Policy to every
    ``http.response.start`` (the policy by the answer's content type; a documentation page's
    body is held until its end, a few kilobytes, to hash its inline script)."""

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

        docs = is_docs_page(scope.get("path", ""))
        page = not scope.get("path", "").startswith(NEVER_PAGES)
        held: list[dict] = []  # a documentation page: its start and body, until the body ends

        def headed(message: dict, csp: str | None) -> dict:
            headers = list(message.get("headers", ()))
            present = {k.lower() for k, _ in headers}
            extra = list(self.extra)
            if csp is not None:
                extra.append((b"content-security-policy", csp.encode()))
            headers += [(k, v) for k, v in extra if k not in present]
            return {**message, "headers": headers}

        async def with_headers(message: dict) -> None:
            if held or (docs and message["type"] == "http.response.start" and _is_html(message)):
                held.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    body = b"".join(m.get("body", b"") for m in held[1:])
                    await send(headed(held[0], docs_csp(scope["path"], body)))
                    await send({"type": "http.response.body", "body": body})
                return
            if message["type"] == "http.response.start":
                message = headed(message, PAGE_CSP if page and _is_html(message) and not _is_file(message) else API_CSP)
            await send(message)

        await self.app(scope, receive, with_headers)


def _is_html(start: dict) -> bool:
    for k, v in start.get("headers", ()):
        if k.lower() == b"content-type":
            return v.split(b";")[0].strip().lower() == b"text/html"
    return False


def _is_file(start: dict) -> bool:
    """A download (``Content-Disposition``), whatever type it says it is: never a page."""
    return any(k.lower() == b"content-disposition" for k, _ in start.get("headers", ()))


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
