"""Follows the event log and applies each event to the read models exactly once.

A batch of events and the new tracking position are written in one transaction, so a crash
never applies an event twice or skips one. The runner polls (the SQLite recorder cannot
subscribe), which also works on PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from domain.app import KaoheApp
from projections.handlers import HANDLERS
from projections.models import SCHEMA_VERSION, ReadModel, Tracking

log = logging.getLogger("kaohe.projections")
NAME = "read_models"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class ProjectionRunner:
    def __init__(self, app: KaoheApp, engine: Engine, batch: int = 500) -> None:
        self.app = app
        self.engine = engine
        self.batch = batch
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        ReadModel.metadata.create_all(engine)
        self._upgrade()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._advanced = threading.Condition()
        self.error: BaseException | None = None

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
        if notifications:
            with self._advanced:
                self._advanced.notify_all()
        return len(notifications)

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
        return self.catch_up(progress)

    # -- background
    def start(self, interval: float = 0.2) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    if self.run_once() == 0:
                        self._stop.wait(interval)
                except Exception as err:  # keep following the log; report the failure
                    self.error = err
                    log.exception("projection failed; retrying")
                    self._stop.wait(max(interval, 1.0))

        self._thread = threading.Thread(target=loop, name="kaohe-projections", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait_for(self, position: int | None, timeout: float = 10.0) -> bool:
        """Block until the read models include ``position`` (read-your-writes)."""
        if not position:
            return True
        deadline = time.monotonic() + timeout
        while self.position() < position:
            if self._thread is None:
                self.catch_up()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                self._advanced.wait(min(remaining, 0.1))
        return True
