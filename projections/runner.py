"""Follows the event log and applies each event to the read models exactly once.

A batch of events and the new tracking position are written in one transaction, so a crash
never applies an event twice or skips one.

The runner does not wait for a poll to see a new event. It is woken (``kick``):

- in process, by the event store itself: the recorder calls its listeners as soon as an
  insert has committed (``adapters.eventstore``), so in the embedded stack, where the worker,
  the runner and the API share one ``Assessments``, a stored event is applied at once;
- across processes on PostgreSQL, by ``LISTEN``: ``eventsourcing``'s recorder sends ``NOTIFY``
  on the events table's channel inside each insert transaction, so the notification arrives
  only once the events are committed; a listener thread here kicks the runner;
- by a waiter (``wait_for``/``until``) whose position is not applied yet, so a write made by
  another process and waited on through this one is looked for at once, on SQLite too.

The SQLite recorder cannot subscribe, so events written by another process on SQLite that
nobody here waits for are still found by the poll (``KAOHE_PROJECTION_POLL_SECONDS``), which
also remains everywhere as the fallback if a notification is lost.

A waiter is woken exactly when its position has been applied (a condition, no fixed sleep).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Callable

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import sessionmaker

from domain.application import Assessments
from projections.handlers import HANDLERS
from projections.models import SCHEMA_VERSION, ReadModel, Tracking

log = logging.getLogger("kaohe.projections")
NAME = "read_models"


#: Connections kept for the API's worker threads (anyio's default limiter is 40 threads). With
#: SQLAlchemy's default (5 kept, 10 more) 50 concurrent reads queued for a connection and every
#: connection beyond the fifth was opened and closed again, each time setting its pragmas.
SQLITE_POOL = {"pool_size": 20, "max_overflow": 30}
POSTGRES_POOL = {"pool_size": 10, "max_overflow": 20}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
            **({} if ":memory:" in url else SQLITE_POOL),
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **POSTGRES_POOL)


class ProjectionRunner:
    def __init__(self, app: Assessments, engine: Engine, batch: int = 500) -> None:
        self.app = app
        self.engine = engine
        self.batch = batch
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        ReadModel.metadata.create_all(engine)
        self._upgrade()
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._advanced = threading.Condition()
        self._applied = self.position()  # the last position known to be in the read models
        self._async_waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Future]] = []
        self.error: BaseException | None = None
        add_listener = getattr(app.recorder, "add_listener", None)
        if add_listener is not None:  # adapters.eventstore's recorders: told of each committed insert
            add_listener(self._recorded)

    def _upgrade(self) -> None:
        """Read models whose shape changed are rebuilt from the log (they hold nothing else)."""
        with self.sessions.begin() as db:
            row = db.get(Tracking, "schema_version")
            if row is not None and row.position == SCHEMA_VERSION:
                return
            fresh = db.get(Tracking, NAME) is None
        if not fresh:
            log.warning("read models changed shape (v%s): rebuilding them from the event log", SCHEMA_VERSION)
            ReadModel.metadata.drop_all(self.engine)
            ReadModel.metadata.create_all(self.engine)
        with self.sessions.begin() as db:
            db.merge(Tracking(name="schema_version", position=SCHEMA_VERSION))

    def position(self) -> int:
        with self.sessions() as db:
            return db.scalar(select(Tracking.position).where(Tracking.name == NAME)) or 0

    def run_once(self) -> int:
        """Apply the next batch of events; return how many were applied."""
        with self.sessions.begin() as db:
            tracking = db.get(Tracking, NAME, with_for_update=True)
            if tracking is None:
                tracking = Tracking(name=NAME, position=0)
                db.add(tracking)
                db.flush()
            notifications = self.app.recorder.select_notifications(start=tracking.position + 1, limit=self.batch)
            for n in notifications:
                e = self.app.mapper.to_domain_event(n)
                handler = HANDLERS.get(type(e).__qualname__)
                if handler is not None:
                    handler(db, e, n.id)
                    db.flush()
                tracking.position = n.id
            position = tracking.position
        # Committed: the read models now include ``position`` (another runner sharing the database
        # may have applied it; we learn it from the tracking row just the same).
        self._advance(position)
        return len(notifications)

    @property
    def applied(self) -> int:
        """The last log position this process knows to be in the read models (no query)."""
        return self._applied

    def _advance(self, position: int) -> None:
        ready: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        with self._advanced:
            if position <= self._applied:
                return
            self._applied = position
            self._advanced.notify_all()
            keep = []
            for w in self._async_waiters:
                (ready.append((w[1], w[2])) if w[0] <= position else keep.append(w))
            self._async_waiters = keep
        for loop, fut in ready:
            try:
                loop.call_soon_threadsafe(_resolve, fut)
            except RuntimeError:  # that event loop has closed: nobody waits any more
                pass

    def kick(self) -> None:
        """Look at the log now (a new event was stored, or someone waits for one)."""
        self._kick.set()

    def _recorded(self, positions) -> None:
        self.kick()

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while True:
            n = self.run_once()
            total += n
            if progress and n:
                progress(total)
            if n < self.batch:
                return total

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Drop every read model, recreate it and replay the whole log."""
        ReadModel.metadata.drop_all(self.engine)
        ReadModel.metadata.create_all(self.engine)
        with self.sessions.begin() as db:
            db.merge(Tracking(name="schema_version", position=SCHEMA_VERSION))
        with self._advanced:
            self._applied = 0
        return self.catch_up(progress)

    # -- background
    def start(self, interval: float = 0.2) -> None:
        """Follow the log in a thread: at once when kicked, else every ``interval`` seconds."""

        def loop() -> None:
            while not self._stop.is_set():
                self._kick.clear()  # before reading: a kick during run_once is not lost
                try:
                    if self.run_once() < self.batch:
                        self._kick.wait(interval)
                except Exception as err:  # keep following the log; report the failure
                    self.error = err
                    log.exception("projection failed; retrying")
                    self._stop.wait(max(interval, 1.0))

        self._thread = threading.Thread(target=loop, name="kaohe-projections", daemon=True)
        self._thread.start()
        channel = getattr(self.app.recorder, "channel_name", None)
        if channel is not None:  # PostgreSQL: events stored by other processes arrive by NOTIFY
            self._listener = threading.Thread(target=self._listen, args=(channel,), name="kaohe-projections-listen", daemon=True)
            self._listener.start()

    def _listen(self, channel: str) -> None:
        import psycopg
        from psycopg.sql import SQL, Identifier

        params = {k: v for k, v in self.app.recorder.datastore.pool.kwargs.items() if k != "row_factory"}
        while not self._stop.is_set():
            try:
                with psycopg.connect(**params, autocommit=True) as conn:
                    conn.execute(SQL("LISTEN {0}").format(Identifier(channel)))
                    self.listening = True
                    self.kick()  # whatever was stored while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.kick()
            except Exception:  # the poll still runs; listen again shortly
                log.warning("projection listener lost its PostgreSQL connection; reconnecting", exc_info=True)
                self._stop.wait(1.0)
            finally:
                self.listening = False

    listening = False

    def stop(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._listener is not None:
            self._listener.join(timeout=5)

    def wait_for(self, position: int | None, timeout: float = 10.0) -> bool:
        """Block until the read models include ``position`` (read-your-writes)."""
        if not position:
            return True
        if self._thread is None:
            while self._applied < position and self.catch_up():
                pass
            return self._applied >= position
        with self._advanced:
            if self._applied >= position:
                return True
            self.kick()
            return self._advanced.wait_for(lambda: self._applied >= position, timeout)

    async def until(self, position: int | None, timeout: float = 10.0) -> bool:
        """``wait_for`` for the event loop: no thread is held while waiting."""
        if not position or self._applied >= position:
            return True
        if self._thread is None:
            return await asyncio.to_thread(self.wait_for, position, timeout)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        waiter = (position, loop, fut)
        with self._advanced:
            if self._applied >= position:
                return True
            self._async_waiters.append(waiter)
        self.kick()
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            with self._advanced:
                if waiter in self._async_waiters:
                    self._async_waiters.remove(waiter)


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)
