"""The Merkle tree is kept in the event's own transaction (adapters/eventstore.py), on SQLite and
PostgreSQL, and an older log is backfilled from its events.

The tree stored by the write path must equal the RFC 9162 tree hash of the stored events'
canonical records, computed here from the events alone with the reference of
tests/domain/test_merkle.py; proofs read from the store must verify against it."""

from __future__ import annotations

from domain import merkle
from domain.application import Assessments
from kaohe.settings import Settings
from tests.domain.test_merkle import mth, path, proof, ref_verify_consistency, ref_verify_inclusion
from tests.helpers import TINY_SCHEME
from tests.test_audit import ORG, build_log
from tests.test_stored_log import ROWS, load_stored_log


def records(app: Assessments) -> list[bytes]:
    return [merkle.leaf_data(*e) for e in app.recorder.iter_events()]


def test_every_write_extends_the_tree_in_its_transaction(settings: Settings):
    app = build_log(settings)  # 13 events, in 7 transactions (one of them a batch of 2 per unit)
    rec = app.recorder
    d = records(app)
    assert len(d) == 13 and rec.tree_size() == 13
    assert rec.tree_root() == (13, mth(d))
    for n in range(1, 14):
        assert rec.tree_root(n) == (n, mth(d[:n]))
        for m in range(n):
            p = rec.tree_inclusion_proof(m, n)
            assert p == path(m, d[:n])
            assert ref_verify_inclusion(m, n, p, merkle.leaf_hash(d[m]), mth(d[:n]))
        for m in range(1, n):
            p = rec.tree_consistency_proof(m, n)
            assert p == proof(m, d[:n])
            assert ref_verify_consistency(m, n, mth(d[:m]), mth(d[:n]), p)
    positions = [e[0] for e in rec.iter_events()]
    assert [rec.leaf_index(p) for p in positions] == list(range(13))


def test_a_log_older_than_the_tree_is_backfilled_and_then_kept(settings: Settings):
    app = Assessments(env={**settings.event_store_env(), "AGGREGATE_CACHE_MAXSIZE": ""})
    load_stored_log(app)  # 343 events written before the tree existed: no nodes
    rec = app.recorder
    if settings.uses_postgres:  # the rows came in with their own ids: move the id sequence past them
        with rec.datastore.transaction(commit=True) as c:
            c.execute(
                f"SELECT setval(pg_get_serial_sequence('{rec.events_table_name}', 'notification_id'),"
                f" (SELECT max(notification_id) FROM {rec.events_table_name}))"
            )
    assert rec.tree_size() == 0
    app.create_cycle("later", 2027, "后来的周期", None, {"grassroots_branch": TINY_SCHEME}, None, None, ORG, "later-1")  # a write while the tree lags
    assert rec.tree_size() == 0  # the write path does not index a log it does not cover
    assert rec.sync_tree(batch=100) == len(ROWS) + 1
    d = records(app)
    assert rec.tree_root() == (len(ROWS) + 1, mth(d))
    app.create_cycle("later2", 2027, "再后来的周期", None, {"grassroots_branch": TINY_SCHEME}, None, None, ORG, "later-2")
    d = records(app)
    assert rec.tree_root() == (len(d), mth(d))
    assert rec.sync_tree() == 0
    assert merkle.verify_consistency(len(ROWS), len(d), mth(d[: len(ROWS)]), mth(d), rec.tree_consistency_proof(len(ROWS), len(d)))
