"""Benchmark: the Merkle tree over the log (domain/merkle.py) on 1,000,000 leaves.

    .venv/bin/python bench/transparency.py [--leaves 1000000] [--samples 200] [--no-sqlite] [--appends 3000]

Leaves are the canonical records of synthetic events (position, originator id, version, topic,
SHA-256 of a 1 KB state), hashed as the event store hashes them. Measured in the same run:
  append      building the node table leaf by leaf (``appended``), beside hashing the leaves alone
              (the plain chain's own per-event cost is one SHA-256 of the same record)
  checkpoint  the root of the whole tree and of a random older size
  inclusion   a proof for a random leaf in the full tree, and its verification
  consistency a proof from a random older size to the full size, and its verification
once over the in-memory node store, then (unless --no-sqlite) over the same nodes in a SQLite
``merkle_nodes`` table read by the event store's own reader, and (``--appends``) the event
store's append, one event per transaction, with the tree beside the same recorder without it
(the plain chained append) on a SQLite file, alternating rounds. Goals: checkpoint ≤ 1 s,
inclusion and consistency proofs ≤ 10 ms each; ratios printed are measured / goal (≤ 1 meets it).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain import merkle  # noqa: E402

GOALS = {"checkpoint": 1.0, "inclusion": 0.010, "consistency": 0.010}


def leaves(n: int):
    state = hashlib.sha256(b"state").digest() * 32
    topic = "domain.model:UnitAssessment.SelfReviewDrafted"
    for i in range(n):
        yield merkle.leaf_data(i + 1, uuid.UUID(int=i * 7919 + 1).hex, i % 40 + 1, topic, state + i.to_bytes(8, "big"))


def timed(fn, samples: int) -> tuple[float, float]:
    """(median, max) seconds of ``fn`` over ``samples`` runs."""
    out = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out), max(out)


def measure(name: str, get, n: int, samples: int, rng: random.Random, leaf_hashes: list[bytes]) -> None:
    print(f"\n[{name}] {n:,} leaves")
    full = merkle.root(get, n)
    med, worst = timed(lambda: merkle.root(get, n), samples)
    old = rng.randrange(1, n)
    med_old, _ = timed(lambda: merkle.root(get, old), samples)
    report("checkpoint (root of size n)", med, worst, "checkpoint")
    print(f"  checkpoint of a random older size {old:,}: median {med_old * 1e3:.3f} ms")

    idx = [rng.randrange(n) for _ in range(samples)]
    it = iter(idx)
    med, worst = timed(lambda: merkle.inclusion_proof(get, next(it), n), samples)
    report("inclusion proof", med, worst, "inclusion")
    proofs = [(i, merkle.inclusion_proof(get, i, n)) for i in idx[:50]]
    k = len(proofs)
    it2 = iter(proofs)
    vmed, _ = timed(lambda: (lambda i, p: merkle.verify_inclusion(leaf_hashes[i], i, n, p, full))(*next(it2)), k)
    assert all(merkle.verify_inclusion(leaf_hashes[i], i, n, p, full) for i, p in proofs)
    print(f"  inclusion verify: median {vmed * 1e6:.1f} µs, proof length {len(proofs[0][1])}")

    olds = [rng.randrange(1, n) for _ in range(samples)]
    it3 = iter(olds)
    med, worst = timed(lambda: merkle.consistency_proof(get, next(it3), n), samples)
    report("consistency proof", med, worst, "consistency")
    m = olds[0]
    p = merkle.consistency_proof(get, m, n)
    assert merkle.verify_consistency(m, n, merkle.root(get, m), full, p)


def report(label: str, med: float, worst: float, goal: str) -> None:
    g = GOALS[goal]
    print(f"  {label}: median {med * 1e3:.3f} ms, max {worst * 1e3:.3f} ms; goal ≤ {g * 1e3:g} ms; "
          f"median/goal {med / g:.2g}, max/goal {worst / g:.2g}")


def appends(count: int, rounds: int = 3) -> None:
    """Per-event cost of ChainedSQLiteApplicationRecorder.insert_events with and without the tree."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteDatastore

    from adapters.eventstore import ChainedSQLiteApplicationRecorder

    class Plain(ChainedSQLiteApplicationRecorder):  # the chain alone: what main wrote before the tree
        def _sqlite_tree_append(self, c, size, leaves, positions) -> None:
            return None

    state = b"x" * 1024
    times: dict[str, list[float]] = {"plain": [], "tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        recorders = {}
        for name, cls in (("plain", Plain), ("tree", ChainedSQLiteApplicationRecorder)):
            r = cls(SQLiteDatastore(str(Path(tmp) / f"{name}.db")), events_table_name="stored_events")
            r.create_table()
            recorders[name] = r
        for _ in range(rounds):
            for name, r in recorders.items():
                t = time.perf_counter()
                for _i in range(count):
                    r.insert_events([StoredEvent(uuid.uuid4(), 1, "bench:Event", state)])
                times[name].append((time.perf_counter() - t) / count)
        assert recorders["tree"].tree_size() == rounds * count
    p, t = statistics.median(times["plain"]), statistics.median(times["tree"])
    print(f"\nevent store append, one event per transaction, {rounds} × {count:,} events each (SQLite file):")
    print(f"  plain chained append: {p * 1e6:.0f} µs/event; with the tree: {t * 1e6:.0f} µs/event; "
          f"added {(t - p) * 1e6:.0f} µs ({t / p:.2f}×)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--appends", type=int, default=3000, help="events per round for the append measurement (0: skip)")
    a = ap.parse_args()
    rng = random.Random(13)
    n = a.leaves

    t = time.perf_counter()
    data = list(leaves(n))
    t_data = time.perf_counter() - t
    t = time.perf_counter()
    hashes = [merkle.leaf_hash(d) for d in data]
    t_hash = time.perf_counter() - t
    t = time.perf_counter()
    chain = "0" * 64
    for d in data:  # the linear chain's per-event work (domain.ledger.link without the record build)
        chain = hashlib.sha256(bytes.fromhex(chain) + d).hexdigest()
    t_chain = time.perf_counter() - t
    del data
    store = merkle.MemoryNodes()
    t = time.perf_counter()
    for h in hashes:
        store.append(h)
    t_tree = time.perf_counter() - t
    nodes = sum(len(r) for r in store.levels)
    print(f"records built in {t_data:.1f} s; {n:,} leaves, {nodes:,} stored nodes")
    print(f"  plain chain link per event:      {t_chain / n * 1e6:.2f} µs")
    print(f"  leaf hash per event:             {t_hash / n * 1e6:.2f} µs")
    print(f"  node-table append per event:     {t_tree / n * 1e6:.2f} µs (in memory, beside the leaf hash)")
    print(f"  tree (leaf hash + append) / chain: {(t_hash + t_tree) / t_chain:.2f}×")

    measure("in-memory node store", store.get, n, a.samples, rng, hashes)

    if not a.no_sqlite:
        from adapters.eventstore import TREE_TABLE, ChainedSQLiteApplicationRecorder

        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlite3.connect(str(Path(tmp) / "tree.db"))
            conn.execute(f"CREATE TABLE {TREE_TABLE} (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,"
                         " position INTEGER, PRIMARY KEY (level, idx))")
            t = time.perf_counter()
            conn.executemany(f"INSERT INTO {TREE_TABLE} VALUES (?, ?, ?, ?)",
                             ((lv, ix, h, ix + 1 if lv == 0 else None) for lv, row in enumerate(store.levels) for ix, h in enumerate(row)))
            conn.commit()
            print(f"\n{nodes:,} nodes written to SQLite in {time.perf_counter() - t:.1f} s")
            get = ChainedSQLiteApplicationRecorder._sqlite_get_node(conn.cursor())
            measure("SQLite merkle_nodes (the event store's reader)", get, n, a.samples, rng, hashes)
            conn.close()

    if a.appends:
        appends(a.appends)


if __name__ == "__main__":
    main()
