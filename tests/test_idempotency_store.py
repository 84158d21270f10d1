"""The stored-answer table behind Idempotency-Key (api/idempotency.py), on a SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from api.idempotency import STALE, IdempotencyStore, StoredResponse
from projections.runner import make_engine


def store(tmp_path) -> IdempotencyStore:
    return IdempotencyStore(make_engine(f"sqlite:///{tmp_path / 'read.sqlite'}"))


def age(s: IdempotencyStore, seconds: float) -> None:
    with s.sessions.begin() as db:
        db.execute(update(StoredResponse).values(created_at=datetime.now(timezone.utc) - timedelta(seconds=seconds)))


def test_claim_finish_replay_and_mismatch(tmp_path):
    s = store(tmp_path)
    assert s.claim("org", "k1", "fp").outcome == "mine"
    assert s.claim("org", "k1", "fp").outcome == "pending"  # the first is still running
    assert s.claim("eva", "k1", "fp").outcome == "mine"  # keys are the user's own
    s.finish("org", "k1", 200, [["content-type", "application/json"]], b'{"ok":true}')
    done = s.claim("org", "k1", "fp")
    assert done.outcome == "done" and done.row.status == 200 and done.row.body == b'{"ok":true}'
    assert s.claim("org", "k1", "other").outcome == "mismatch"


def test_a_failed_attempt_leaves_nothing_and_a_dead_owners_claim_is_taken_over(tmp_path):
    s = store(tmp_path)
    assert s.claim("org", "k", "fp").outcome == "mine"
    s.release("org", "k")
    assert s.claim("org", "k", "fp").outcome == "mine"
    other = IdempotencyStore(s.engine)  # another process; this one "died" holding the claim
    assert other.claim("org", "k", "fp").outcome == "pending"
    age(s, STALE + 1)
    assert other.claim("org", "k", "fp").outcome == "mine"
    assert s.claim("org", "k", "fp").outcome == "pending"  # only one takes it over


def test_answers_expire_after_a_day(tmp_path):
    s = store(tmp_path)
    s.claim("org", "k", "fp")
    s.finish("org", "k", 201, [], b"{}")
    assert s.purge() == 0
    age(s, 86400 + 60)
    assert s.claim("org", "k", "fp").outcome == "mine"  # expired: the request runs again
    s.finish("org", "k", 201, [], b"{}")
    age(s, 86400 + 60)
    assert s.purge() == 1
