"""Kaohe's event store: ``eventsourcing``'s SQLite and PostgreSQL application recorders, with
each event's link in the hash chain (``domain.ledger``) written in the same transaction as the
event. Writers are serialized by the store (SQLite's write lock; PostgreSQL's EXCLUSIVE table
lock taken by ``eventsourcing`` before inserting), so two writers cannot fork the chain.

Both recorders tell their listeners (``add_listener``) the positions of each insert once it has
committed, so the projection runner in the same process applies new events at once. Across
processes on PostgreSQL, ``eventsourcing``'s recorder already sends ``NOTIFY <events table>``
inside each insert transaction (delivered only on commit); the runner ``LISTEN``s to it
(``recorder.channel_name``). SQLite has no such channel: there other processes poll."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.ledger import GENESIS, link

CHAIN_TABLE = "event_chain"
log = logging.getLogger("adapters.eventstore")


class _Listeners:
    """Callbacks told the positions of every committed insert (in the writer's thread)."""

    _listeners: list[Callable[[Sequence[int]], None]]

    def add_listener(self, fn: Callable[[Sequence[int]], None]) -> None:
        self.__dict__.setdefault("_listeners", []).append(fn)

    def _tell(self, positions: Sequence[int] | None) -> None:
        for fn in self.__dict__.get("_listeners", ()):
            try:
                fn(positions or ())
            except Exception:  # a listener never fails a write that is already committed
                log.exception("event store listener failed")


def _hex(originator_id: Any) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id).replace("-", "")


def _links(prev: str, stored_events: Sequence[StoredEvent], positions: Sequence[int]) -> list[tuple[int, str, str]]:
    rows = []
    for s, position in zip(stored_events, positions, strict=True):
        h = link(prev, position, _hex(s.originator_id), s.originator_version, s.topic, bytes(s.state))
        rows.append((position, h, prev))
        prev = h
    return rows


class ChainedSQLiteApplicationRecorder(_Listeners, SQLiteApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super().insert_events(stored_events, **kwargs)  # committed when it returns
        if stored_events:
            self._tell(positions)
        return positions

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY KEY, hash TEXT NOT NULL, prev_hash TEXT NOT NULL)",
        ]

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if stored_events:
            # This connection already holds SQLite's write lock (it just inserted): the head is ours.
            c.execute(f"SELECT hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
            head = c.fetchone()
            c.executemany(
                f"INSERT INTO {CHAIN_TABLE} (position, hash, prev_hash) VALUES (?, ?, ?)",
                _links(head[0] if head else GENESIS, stored_events, positions),
            )
        return positions

    # -- reading for verification, in pages (constant memory)
    def _pages(self, sql: str, start: int, stop: int | None) -> Iterator[tuple]:
        last = start - 1
        limit = stop if stop is not None else 2**62
        while True:
            with self.datastore.transaction(commit=False) as c:
                c.execute(sql, (last, limit, 5000))
                rows = c.fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def iter_events(self, start: int = 1, stop: int | None = None) -> Iterator[tuple]:
        sql = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
        )
        for r in self._pages(sql, start, stop):
            yield (r[0], _hex(r[1]), r[2], r[3], bytes(r[4]))

    def iter_links(self, start: int = 1, stop: int | None = None) -> Iterator[tuple]:
        sql = f"SELECT position, hash, prev_hash FROM {CHAIN_TABLE} WHERE position > ? AND position <= ? ORDER BY position LIMIT ?"
        for r in self._pages(sql, start, stop):
            yield (r[0], r[1], r[2])

    def head(self) -> tuple[int, str] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            return (row[0], row[1]) if row else None


class ChainedPostgresApplicationRecorder(_Listeners, PostgresApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super().insert_events(stored_events, **kwargs)  # committed when it returns
        if stored_events:
            self._tell(positions)
        return positions

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain = Identifier(CHAIN_TABLE)
        self.schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (position bigint PRIMARY KEY, hash text NOT NULL, prev_hash text NOT NULL)"
            ).format(self.schema, self.chain)
        )

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events:
            # The events table is locked IN EXCLUSIVE MODE for this transaction: the head is ours.
            curs.execute(SQL("SELECT hash FROM {0}.{1} ORDER BY position DESC LIMIT 1").format(self.schema, self.chain))
            head = curs.fetchone()
            prev = head["hash"] if head else GENESIS
            curs.executemany(
                SQL("INSERT INTO {0}.{1} (position, hash, prev_hash) VALUES (%s, %s, %s)").format(self.schema, self.chain),
                _links(prev, stored_events, positions),
            )
        return positions

    def _stream(self, query: Any, args: Sequence[Any], row: Any) -> Iterator[tuple]:
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.cursor(name="kaohe_verify") as curs:  # server-side cursor: constant memory
                curs.itersize = 5000
                curs.execute(query, args)
                for r in curs:
                    yield row(r)

    def iter_events(self, start: int = 1, stop: int | None = None) -> Iterator[tuple]:
        q = "SELECT notification_id, originator_id, originator_version, topic, state FROM {0}.{1} WHERE notification_id >= %s"
        args: list[Any] = [start]
        if stop is not None:
            q += " AND notification_id <= %s"
            args.append(stop)
        query = SQL(q + " ORDER BY notification_id").format(self.schema, Identifier(self.events_table_name))
        return self._stream(
            query, args,
            lambda r: (r["notification_id"], _hex(r["originator_id"]), r["originator_version"], r["topic"], bytes(r["state"])),
        )

    def iter_links(self, start: int = 1, stop: int | None = None) -> Iterator[tuple]:
        q = "SELECT position, hash, prev_hash FROM {0}.{1} WHERE position >= %s"
        args: list[Any] = [start]
        if stop is not None:
            q += " AND position <= %s"
            args.append(stop)
        query = SQL(q + " ORDER BY position").format(self.schema, self.chain)
        return self._stream(query, args, lambda r: (r["position"], r["hash"], r["prev_hash"]))

    def head(self) -> tuple[int, str] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT position, hash FROM {0}.{1} ORDER BY position DESC LIMIT 1").format(self.schema, self.chain))
            row = curs.fetchone()
            return (row["position"], row["hash"]) if row else None
