"""A retry with the same ``Idempotency-Key`` gets the first attempt's answer, on every write route.

The domain stores a retried command once (its command id is the user's key, ``services.command_id``),
but a route may check something before the command runs — ``POST /cycles/{key}/open`` asks "is it
still in setup?" — and a client that lost the first answer would then be told its retry failed. So
one pure ASGI middleware stands in front of every route (JSON API and pages alike):

- a write (POST, PUT, PATCH, DELETE) that carries ``Idempotency-Key`` and a valid session
  (bearer token or the pages' cookie) is claimed as (user, key) in ``api_idempotency``, a table in
  the read/accounts database that a projection rebuild leaves alone, with a fingerprint of its
  method, path, query and body;
- when it succeeds (status below 400) its status, headers and body are stored; when it fails the
  claim is dropped, so a retry runs again (and the domain still stores nothing twice);
- a repeat with the same fingerprint gets the stored answer (header ``Idempotent-Replayed: true``);
  the same key with another request is refused with 422 naming ``Idempotency-Key``; a repeat while
  the first is still running waits for it up to :data:`WAIT` seconds, then answers 409
  ``request_in_progress`` with ``Retry-After``;
- a claim left behind by a process that died is taken over after :data:`STALE` seconds;
- stored answers expire after :data:`KEEP` (a day).

Requests without the header, or without a session, pass through untouched (the route answers 401).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

from sqlalchemy import DateTime, Engine, Integer, LargeBinary, String, Text, delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("kaohe.api")

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = b"idempotency-key"
MAX_KEY = 200
#: How long a repeat waits for the first attempt still running before it is told to come back.
WAIT = 10.0
#: A claim older than this whose owner is another process is taken as abandoned (that process died).
STALE = 15.0
#: How long answers are kept.
KEEP = timedelta(days=1)
#: Answers larger than this are not stored (a retry then runs again; the domain still dedups).
MAX_BODY = 1 << 20
#: Response headers never replayed.
DROP_HEADERS = {b"set-cookie", b"date", b"server"}


class IdempotencyBase(DeclarativeBase):
    """Not a read model: a projection rebuild leaves it alone."""


class StoredResponse(IdempotencyBase):
    __tablename__ = "api_idempotency"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))  # pending | done
    owner: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON [[name, value], …]
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Claim:
    outcome: str  # "mine" | "done" | "mismatch" | "pending"
    row: StoredResponse | None = None


class IdempotencyStore:
    """The table, with the few statements the middleware needs (SQLite and PostgreSQL alike)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.owner = secrets.token_hex(8)  # this process; claims of other owners may be abandoned
        IdempotencyBase.metadata.create_all(engine)
        self._purged = 0.0

    def claim(self, username: str, key: str, fingerprint: str, _depth: int = 0) -> Claim:
        self._purge_now_and_then()
        try:
            with self.sessions.begin() as db:
                db.add(StoredResponse(
                    username=username, key=key, fingerprint=fingerprint, state="pending", owner=self.owner, created_at=_now()
                ))
            return Claim("mine")
        except IntegrityError:
            pass
        with self.sessions() as db:
            row = db.get(StoredResponse, (username, key))
        if row is None:  # the first attempt failed and dropped its claim just now: claim again
            return self.claim(username, key, fingerprint, _depth + 1) if _depth < 3 else Claim("pending")
        if row.fingerprint != fingerprint:
            return Claim("mismatch", row)
        if row.state == "done":
            if _aware(row.created_at) < _now() - KEEP and _depth < 3:  # expired: forget it and run again
                self.release(username, key, row.owner)
                return self.claim(username, key, fingerprint, _depth + 1)
            return Claim("done", row)
        if row.owner != self.owner and _aware(row.created_at) < _now() - timedelta(seconds=STALE):
            with self.sessions.begin() as db:  # compare-and-set, so only one retry takes it over
                taken = db.execute(
                    update(StoredResponse)
                    .where(StoredResponse.username == username, StoredResponse.key == key,
                           StoredResponse.state == "pending", StoredResponse.owner == row.owner)
                    .values(owner=self.owner, created_at=_now())
                ).rowcount
            if taken == 1:
                return Claim("mine")
        return Claim("pending", row)

    def finish(self, username: str, key: str, status: int, headers: list[list[str]], body: bytes) -> None:
        with self.sessions.begin() as db:
            db.execute(
                update(StoredResponse)
                .where(StoredResponse.username == username, StoredResponse.key == key, StoredResponse.owner == self.owner)
                .values(state="done", status=status, headers=json.dumps(headers), body=body)
            )

    def release(self, username: str, key: str, owner: str | None = None) -> None:
        with self.sessions.begin() as db:
            db.execute(delete(StoredResponse).where(
                StoredResponse.username == username, StoredResponse.key == key, StoredResponse.owner == (owner or self.owner)
            ))

    def purge(self, older_than: timedelta = KEEP) -> int:
        with self.sessions.begin() as db:
            return db.execute(delete(StoredResponse).where(StoredResponse.created_at < _now() - older_than)).rowcount

    def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._purged > 600:
            self._purged = time.monotonic()
            try:
                self.purge()
            except SQLAlchemyError:  # pragma: no cover - purging is best effort
                log.warning("could not purge stored idempotent answers", exc_info=True)


def fingerprint(method: str, path: str, query: bytes, content_type: str, body: bytes) -> str:
    """What makes two requests the same request. A multipart body's boundary is random per send,
    so it is left out (with it, the same form re-sent by a browser would look like another request)."""
    boundary = ""
    if "boundary=" in content_type:
        boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
        content_type = content_type.split(";", 1)[0]
        if boundary:
            body = body.replace(boundary.encode("latin-1"), b"")
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, content_type.strip().lower().encode(), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


def _json(status: int, body: dict[str, Any], retry_after: int | None = None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return status, headers, data


def _token(scope: dict[str, Any], cookie_name: str) -> str | None:
    headers = dict(scope.get("headers") or [])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        return auth[7:].strip()
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == cookie_name and value:
            return value
    return None


#: Answers never kept for a retry: they carry second-factor secrets and recovery codes, shown once.
NOT_STORED = ("/api/v1/me/totp", "/account/totp", "/login")


class IdempotencyMiddleware:
    """Pure ASGI: reads the body once and hands it on unchanged to the app."""

    def __init__(
        self,
        app: Callable,
        store: IdempotencyStore,
        authenticate: Callable[[str], Any],
        cookie_name: str = "kaohe_token",
    ) -> None:
        self.app = app
        self.store = store
        self.authenticate = authenticate
        self.cookie_name = cookie_name
        self.locks: dict[tuple[str, str], list] = {}  # (user, key) → [asyncio.Lock, waiters]

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES or scope["path"].startswith(NOT_STORED):
            return await self.app(scope, receive, send)
        raw_key = dict(scope.get("headers") or []).get(HEADER)
        key = raw_key.decode("latin-1").strip() if raw_key is not None else ""
        token = _token(scope, self.cookie_name) if key and len(key) <= MAX_KEY else None
        if token is None:
            return await self.app(scope, receive, send)
        try:
            user = await run_in_threadpool(self.authenticate, token)
        except SQLAlchemyError:
            return await _answer(send, *_unavailable())
        if user is None:
            return await self.app(scope, receive, send)

        body, receive_again = await _buffer(receive)
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1")
        fp = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), content_type, body)
        ident = (user.username, key)
        deadline = time.monotonic() + WAIT
        # Repeats within this process queue behind the first (so a pending claim of this process
        # seen while holding the lock is one whose release failed: it is taken over).
        entry = self.locks.setdefault(ident, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            try:
                await asyncio.wait_for(entry[0].acquire(), timeout=WAIT)
            except asyncio.TimeoutError:
                return await _answer(send, *_in_progress())
            try:
                await self._claimed(scope, receive_again, send, user.username, key, fp, deadline)
            finally:
                entry[0].release()
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self.locks.pop(ident, None)

    async def _claimed(self, scope, receive, send, username: str, key: str, fp: str, deadline: float) -> None:
        while True:
            try:
                claim = await run_in_threadpool(self.store.claim, username, key, fp)
            except SQLAlchemyError:
                log.warning("idempotency store unavailable", exc_info=True)
                return await _answer(send, *_unavailable())
            if claim.outcome == "mine":
                break
            if claim.outcome == "mismatch":
                return await _answer(send, *_json(422, {
                    "code": "idempotency_key_reused",
                    "message": "此 Idempotency-Key 已用于另一个请求，新请求请换一个键 / "
                    "this Idempotency-Key was already used for a different request; send a new key with a new request",
                    "field": "Idempotency-Key",
                }))
            if claim.outcome == "done":
                row = claim.row
                headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in json.loads(row.headers or "[]")]
                headers.append((b"idempotent-replayed", b"true"))
                return await _answer(send, row.status or 200, headers, row.body or b"")
            if claim.row is not None and claim.row.owner == self.store.owner:
                try:  # ours, and we hold the lock: left behind by a release that failed
                    await run_in_threadpool(self.store.release, username, key)
                except SQLAlchemyError:
                    return await _answer(send, *_unavailable())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:  # another process is still at it
                return await _answer(send, *_in_progress())
            await asyncio.sleep(min(0.2, remaining))

        started: dict[str, Any] = {}
        chunks: list[bytes] = []
        size = 0

        async def capture(message: dict[str, Any]) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                started["status"] = message["status"]
                started["headers"] = [
                    [n.decode("latin-1"), v.decode("latin-1")] for n, v in message.get("headers", []) if n.lower() not in DROP_HEADERS
                ]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_BODY:
                    chunks.append(message.get("body", b""))
            await send(message)

        stored = False
        try:
            await self.app(scope, receive, capture)
            status = started.get("status", 500)
            if status < 400 and size <= MAX_BODY:
                await run_in_threadpool(self.store.finish, username, key, status, started.get("headers", []), b"".join(chunks))
                stored = True
        finally:
            if not stored:
                try:
                    await run_in_threadpool(self.store.release, username, key)
                except SQLAlchemyError:  # the claim goes stale; the next repeat takes it over
                    log.warning("could not release an idempotency claim", exc_info=True)


def _in_progress() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return _json(409, {
        "code": "request_in_progress",
        "message": "相同 Idempotency-Key 的请求仍在处理中，请稍后重试 / "
        "a request with this Idempotency-Key is still being processed; retry shortly",
        "field": "Idempotency-Key",
    }, retry_after=1)


def _unavailable() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return _json(503, {
        "code": "database_unavailable",
        "message": "数据库暂时不可用，请稍后用相同的 Idempotency-Key 重试 / the database is unavailable; retry with the same Idempotency-Key",
    }, retry_after=2)


async def _answer(send: Callable, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _buffer(receive: Callable) -> tuple[bytes, Callable[[], Awaitable[dict[str, Any]]]]:
    """Read the whole request body; return it and a ``receive`` that hands it on to the app."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    sent = False

    async def receive_again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, receive_again
