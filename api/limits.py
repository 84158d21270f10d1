"""How large a request body may be, enforced while it is read (not after).

Every request with a body gets a limit from its route (:class:`BodyLimits`): small for JSON and
forms (``KAOHE_MAX_BODY_BYTES``, default 1 MiB; measured on examples/generate_large.py with 1,000
units: the units body is 85 KB, a ballot sheet over 500 units 15 KB, the default scheme 14 KB,
so a JSON route needs no more), 
and the upload limit of the route's file(s) for the few routes that take files. An upload limit
applies only to a caller who is signed in (a bearer token or the page's session cookie); anyone
else gets the small one, so nobody unauthenticated can make the server spool megabytes.

:class:`BodyLimitMiddleware` refuses at once, reading nothing, a ``Content-Length`` above the
limit; a body without one (chunked) is counted as it arrives, and the request is answered the
moment the count passes the limit — the rest is never read (uvicorn closes the connection). The
answer is ``413``: JSON ``{code, message, field: "body", rule, max_bytes}`` for the API, the HTML
error page for the web pages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from starlette.concurrency import run_in_threadpool

MiB = 1024 * 1024
#: What a multipart envelope adds around its files (boundaries, part headers, the form's fields).
ENVELOPE = 256 * 1024
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class BodyTooLarge(Exception):
    """The body passed its limit while it was being read."""


@dataclass
class BodyLimits:
    """The limit of each route's body, in bytes. ``uploads`` are (method, path pattern, bytes)."""

    default: int = MiB
    uploads: list[tuple[str, re.Pattern, int]] = field(default_factory=list)

    @classmethod
    def for_settings(cls, json_max: int, attachment_max: int, sheet_max: int, grades_max: int, attachments_per_report: int = 20) -> "BodyLimits":
        seg = r"[^/]+"
        routes = [
            # evidence: one file on the API, up to the per-report count on the unit's page
            (r"/api/v1/attachments", attachment_max + ENVELOPE),
            (rf"/my/{seg}/{seg}/items/{seg}/{seg}", attachments_per_report * attachment_max + ENVELOPE),
            # spreadsheets and CSV files the organizer uploads
            (rf"/api/v1/cycles/{seg}/business-grades/file", grades_max + ENVELOPE),
            (r"/org/cycles/new", 4 * sheet_max + ENVELOPE),  # one scheme file per org type
            (rf"/org/cycles/{seg}/units/upload", sheet_max + ENVELOPE),
            (rf"/org/cycles/{seg}/debrief/{seg}/roster/upload", sheet_max + ENVELOPE),
        ]
        return cls(json_max, [("POST", re.compile(p + r"/?"), max(n, json_max)) for p, n in routes])

    def upload_limit(self, method: str, path: str) -> int | None:
        for m, pattern, limit in self.uploads:
            if m == method and pattern.fullmatch(path):
                return limit
        return None


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def token_of(scope: dict) -> str | None:
    """The caller's token: a bearer token, else the page's session cookie."""
    auth = header(scope, b"authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    cookie = header(scope, b"cookie") or ""
    for part in cookie.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "kaohe_token" and value:
            return value
    return None


def is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/docs", "/redoc", "/openapi.json", "/static/"))


class BodyLimitMiddleware:
    """Pure ASGI: the body's limit checked on ``Content-Length`` and on every chunk received."""

    def __init__(
        self, app: Callable, *, limits: BodyLimits, authenticate: Callable[[str], Any] | None = None,
        page_413: Callable[[dict, int], Awaitable[tuple[bytes, bytes]]] | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.authenticate = authenticate  # token → user or None (may do I/O: run in a thread)
        self.page_413 = page_413  # (scope, limit) → (content type, HTML) of the error page

    async def limit_for(self, scope: dict) -> int:
        upload = self.limits.upload_limit(scope["method"], scope["path"])
        if upload is None:
            return self.limits.default
        token = token_of(scope)
        if token and self.authenticate is not None and await run_in_threadpool(self.authenticate, token) is not None:
            return upload
        return self.limits.default

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = await self.limit_for(scope)
        length = header(scope, b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > limit:
                await self.refuse(scope, send, limit)
                return
        received = 0
        exceeded = False
        started = False

        async def counted() -> dict:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: dict) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app makes of the cut body, the answer is the 413 below
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self.refuse(scope, send, limit)

    async def refuse(self, scope: dict, send: Callable, limit: int) -> None:
        if is_page(scope["path"]) and self.page_413 is not None:
            content_type, body = await self.page_413(scope, limit)
        else:
            content_type, body = b"application/json", json.dumps(too_large_body(limit), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", content_type), (b"content-length", str(len(body)).encode()), (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


def size_text(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB and n % MiB == 0 else (f"{n / MiB:.1f} MiB" if n >= MiB else f"{n // 1024} KiB")


def too_large_body(limit: int) -> dict:
    size = size_text(limit)
    return {
        "code": "body_too_large",
        "message": f"请求体超过 {size} 的上限 / the request body exceeds the limit of {size}",
        "field": "body",
        "rule": f"at most {limit} bytes",
        "max_bytes": limit,
    }
