"""Kaohe's event store: ``eventsourcing``'s SQLite and PostgreSQL application recorders, with
each event's link in the hash chain (``domain.ledger``) written in the same transaction as the
event. Writers are serialized by the store (SQLite's write lock; PostgreSQL's EXCLUSIVE table
lock taken by ``eventsourcing`` before inserting), so two writers cannot fork the chain.

The same transaction appends the events to the Merkle tree (``domain.merkle``, RFC 9162): table
``merkle_nodes`` holds the hash of every complete subtree, ``(level, idx)`` covering leaves
``[idx·2^level, (idx+1)·2^level)``; level-0 rows also carry the event's position. An append
writes at most log2(n)+1 rows; a root or proof of any size reads O(log n) (``tree_*`` methods).
A log written before the tree existed has no leaves yet: the write path then leaves the tree
alone (it never fails an event for it) until ``sync_tree()`` backfills it from the events, after
which every write keeps it current.

Both recorders tell their listeners (``add_listener``) the positions of each insert once it has
committed, so the projection runner in the same process applies new events at once. Across
processes on PostgreSQL, ``eventsourcing``'s recorder already sends ``NOTIFY <events table>``
inside each insert transaction (delivered only on commit); the runner ``LISTEN``s to it
(``recorder.channel_name``). SQLite has no such channel: there other processes poll."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain import merkle
from domain.ledger import GENESIS, link

CHAIN_TABLE = "event_chain"
TREE_TABLE = "merkle_nodes"
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


def _leaf_hashes(stored_events: Sequence[StoredEvent], positions: Sequence[int]) -> list[bytes]:
    return [
        merkle.event_leaf_hash(position, _hex(s.originator_id), s.originator_version, s.topic, bytes(s.state))
        for s, position in zip(stored_events, positions, strict=True)
    ]


def _tree_rows(get_node: Any, size: int, leaves: list[bytes], positions: Sequence[int]) -> list[tuple]:
    """Rows ``(level, idx, hash, position)`` that append ``leaves`` (at ``positions``) to a tree of ``size``."""
    first = {size + i: p for i, p in enumerate(positions)}
    return [(lv, ix, h, first[ix] if lv == 0 else None) for lv, ix, h in merkle.append_many(get_node, leaves, size)]


class _Tree:
    """Reading the Merkle tree: ``_tree_read()`` gives a context yielding (size, get_node) in one transaction."""

    def tree_size(self) -> int:
        with self._tree_read() as (size, _get):
            return size

    def tree_root(self, size: int | None = None) -> tuple[int, bytes]:
        """(size, root) of the tree at ``size`` (default: all of it)."""
        with self._tree_read() as (n, get):
            size = n if size is None else size
            if size > n:
                raise ValueError(f"the tree has {n} leaves, not {size}")
            return size, merkle.root(get, size)

    def tree_inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self._tree_read() as (n, get):
            if size > n:
                raise ValueError(f"the tree has {n} leaves, not {size}")
            return merkle.inclusion_proof(get, index, size)

    def tree_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        with self._tree_read() as (n, get):
            if new_size > n:
                raise ValueError(f"the tree has {n} leaves, not {new_size}")
            return merkle.consistency_proof(get, old_size, new_size)


class ChainedSQLiteApplicationRecorder(_Listeners, _Tree, SQLiteApplicationRecorder):
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super().insert_events(stored_events, **kwargs)  # committed when it returns
        if stored_events:
            self._tell(positions)
        return positions

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} (position INTEGER PRIMARY KEY, hash TEXT NOT NULL, prev_hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {TREE_TABLE} (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
            " position INTEGER, PRIMARY KEY (level, idx))",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {TREE_TABLE}_position ON {TREE_TABLE} (position)",
        ]

    @staticmethod
    def _sqlite_tree_head(c: Any) -> tuple[int, int | None]:
        """(leaves in the tree, position of the last leaf)."""
        c.execute(f"SELECT idx, position FROM {TREE_TABLE} WHERE level = 0 ORDER BY idx DESC LIMIT 1")
        row = c.fetchone()
        return (row[0] + 1, row[1]) if row else (0, None)

    @staticmethod
    def _sqlite_get_node(c: Any) -> Any:
        def get(level: int, index: int) -> bytes:
            c.execute(f"SELECT hash FROM {TREE_TABLE} WHERE level = ? AND idx = ?", (level, index))
            row = c.fetchone()
            if row is None:
                raise KeyError((level, index))
            return bytes(row[0])
        return get

    def _sqlite_tree_append(self, c: Any, size: int, leaves: list[bytes], positions: Sequence[int]) -> None:
        c.executemany(
            f"INSERT INTO {TREE_TABLE} (level, idx, hash, position) VALUES (?, ?, ?, ?)",
            _tree_rows(self._sqlite_get_node(c), size, leaves, positions),
        )

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if stored_events:
            # This connection already holds SQLite's write lock (it just inserted): the head is ours.
            c.execute(f"SELECT hash, position FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1")
            head = c.fetchone()
            c.executemany(
                f"INSERT INTO {CHAIN_TABLE} (position, hash, prev_hash) VALUES (?, ?, ?)",
                _links(head[0] if head else GENESIS, stored_events, positions),
            )
            size, last = self._sqlite_tree_head(c)
            if last == (head[1] if head else None):  # the tree covers the log so far: extend it
                self._sqlite_tree_append(c, size, _leaf_hashes(stored_events, positions), positions)
        return positions

    def sync_tree(self, batch: int = 5000) -> int:
        """Backfill the tree with the events it does not cover yet (a log older than the tree);
        returns how many leaves were added. Safe beside live writers (each batch holds the write lock)."""
        added = 0
        while True:
            with self.datastore.transaction(commit=True) as c:
                c.execute(f"DELETE FROM {TREE_TABLE} WHERE 0")  # take the write lock before reading the head
                size, last = self._sqlite_tree_head(c)
                c.execute(
                    f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.events_table_name} "
                    "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (last or 0, batch),
                )
                rows = c.fetchall()
                if not rows:
                    return added
                leaves = [merkle.event_leaf_hash(r[0], _hex(r[1]), r[2], r[3], bytes(r[4])) for r in rows]
                self._sqlite_tree_append(c, size, leaves, [r[0] for r in rows])
                added += len(rows)

    def leaf_index(self, position: int) -> int | None:
        """The tree's leaf index of the event at ``position`` (None if the tree does not hold it)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT idx FROM {TREE_TABLE} WHERE level = 0 AND position = ?", (position,))
            row = c.fetchone()
            return row[0] if row else None

    @contextmanager
    def _tree_read(self) -> Iterator[tuple[int, Any]]:
        with self.datastore.transaction(commit=False) as c:
            yield self._sqlite_tree_head(c)[0], self._sqlite_get_node(c)

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


class ChainedPostgresApplicationRecorder(_Listeners, _Tree, PostgresApplicationRecorder):
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
        self.tree = Identifier(TREE_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.{1} (level integer NOT NULL, idx bigint NOT NULL, hash bytea NOT NULL,"
                " position bigint, PRIMARY KEY (level, idx))"
            ).format(self.schema, self.tree)
        )
        self.sql_create_statements.append(
            SQL("CREATE UNIQUE INDEX IF NOT EXISTS {0} ON {1}.{2} (position)").format(
                Identifier(f"{TREE_TABLE}_position"), self.schema, self.tree
            )
        )

    def _pg_tree_head(self, curs: Any) -> tuple[int, int | None]:
        curs.execute(SQL("SELECT idx, position FROM {0}.{1} WHERE level = 0 ORDER BY idx DESC LIMIT 1").format(self.schema, self.tree))
        row = curs.fetchone()
        return (row["idx"] + 1, row["position"]) if row else (0, None)

    def _pg_get_node(self, curs: Any) -> Any:
        q = SQL("SELECT hash FROM {0}.{1} WHERE level = %s AND idx = %s").format(self.schema, self.tree)

        def get(level: int, index: int) -> bytes:
            curs.execute(q, (level, index))
            row = curs.fetchone()
            if row is None:
                raise KeyError((level, index))
            return bytes(row["hash"])
        return get

    def _pg_tree_append(self, curs: Any, size: int, leaves: list[bytes], positions: Sequence[int]) -> None:
        curs.executemany(
            SQL("INSERT INTO {0}.{1} (level, idx, hash, position) VALUES (%s, %s, %s, %s)").format(self.schema, self.tree),
            _tree_rows(self._pg_get_node(curs), size, leaves, positions),
        )

    def sync_tree(self, batch: int = 5000) -> int:
        """Backfill the tree with the events it does not cover yet (see the SQLite recorder)."""
        added = 0
        while True:
            with self.datastore.transaction(commit=True) as curs:
                self._lock_table(curs)  # the writers' lock: no event is inserted while we read the head
                size, last = self._pg_tree_head(curs)
                curs.execute(
                    SQL(
                        "SELECT notification_id, originator_id, originator_version, topic, state FROM {0}.{1} "
                        "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                    ).format(self.schema, Identifier(self.events_table_name)),
                    (last or 0, batch),
                )
                rows = curs.fetchall()
                if not rows:
                    return added
                leaves = [
                    merkle.event_leaf_hash(r["notification_id"], _hex(r["originator_id"]), r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in rows
                ]
                self._pg_tree_append(curs, size, leaves, [r["notification_id"] for r in rows])
                added += len(rows)

    def leaf_index(self, position: int) -> int | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT idx FROM {0}.{1} WHERE level = 0 AND position = %s").format(self.schema, self.tree), (position,))
            row = curs.fetchone()
            return row["idx"] if row else None

    @contextmanager
    def _tree_read(self) -> Iterator[tuple[int, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            yield self._pg_tree_head(curs)[0], self._pg_get_node(curs)

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events:
            # The events table is locked IN EXCLUSIVE MODE for this transaction: the head is ours.
            curs.execute(SQL("SELECT hash, position FROM {0}.{1} ORDER BY position DESC LIMIT 1").format(self.schema, self.chain))
            head = curs.fetchone()
            prev = head["hash"] if head else GENESIS
            curs.executemany(
                SQL("INSERT INTO {0}.{1} (position, hash, prev_hash) VALUES (%s, %s, %s)").format(self.schema, self.chain),
                _links(prev, stored_events, positions),
            )
            size, last = self._pg_tree_head(curs)
            if last == (head["position"] if head else None):  # the tree covers the log so far: extend it
                self._pg_tree_append(curs, size, _leaf_hashes(stored_events, positions), positions)
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
