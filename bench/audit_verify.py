"""Benchmark: hash-chain verification speed beside the raw speed of reading and decoding the
same rows, on a log of at least 1,000,000 events.

    .venv/bin/python bench/audit_verify.py [--events 1000000] [--database-url postgresql://…]

The log is filled with real Kaohe events (self-review drafts of 43-point scores, the largest
events a cycle writes often) through the chained recorder, in batches. Then, in the same run:
  raw     read every row and decode it to a domain event (eventsourcing's mapper)
  verify  kaohe's verification: read every row and its link, recompute the chain
and both rates are printed (events per second) with their ratio (goal: verify ≥ 0.5 × raw).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from domain.application import Assessments  # noqa: E402
from domain.aggregates import UnitAssessment  # noqa: E402
from domain.scheme import default_scheme  # noqa: E402
from services.audit import Auditor  # noqa: E402
from kaohe.settings import Settings  # noqa: E402


def fill(app: Assessments, total: int, batch: int = 5000) -> None:
    codes = [p.code for p in default_scheme().points]
    written = 0
    n = 0
    started = time.perf_counter()
    while written < total:
        events = []
        while len(events) < batch and written + len(events) < total:
            ua = UnitAssessment(cycle="bench", unit=f"U{n}", name=f"单位{n}", cohort="secondary_committee",
                                actor="bench", role="organizer", command_id=f"c{n}")
            for k in range(min(49, total - written - len(events) - 1)):
                scores = {c: str((k + i) % 4) for i, c in enumerate(codes)}
                ua.save_draft(scores=scores, evidence={codes[k % 43]: "见附件 / see attachment"}, actor=f"unit-{n}", role="unit", command_id=f"d{n}-{k}")
            events.extend(app.mapper.to_stored_event(e) for e in ua.collect_events())
            n += 1
        app.recorder.insert_events(events)
        written += len(events)
        rate = written / (time.perf_counter() - started)
        print(f"\rfilling: {written:,}/{total:,} events ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def raw(app: Assessments, page: int = 5000) -> tuple[int, float]:
    started = time.perf_counter()
    count, start = 0, 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=page)
        if not notes:
            break
        for n in notes:
            app.mapper.to_domain_event(n)
        count += len(notes)
        start = notes[-1].id + 1
    return count, time.perf_counter() - started


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--database-url", help="PostgreSQL URL (an empty database); default SQLite in a temp dir")
    p.add_argument("--data-dir")
    args = p.parse_args()
    settings = Settings(data_dir=Path(args.data_dir or tempfile.mkdtemp(prefix="kaohe-audit-bench-")), database_url=args.database_url)
    app = Assessments(env=settings.event_store_env())
    have = app.recorder.max_notification_id() or 0
    if have < args.events:
        fill(app, args.events - have)
    n_raw, t_raw = raw(app)
    report = Auditor(app).verify()
    assert report.ok, report.line()
    raw_rate, verify_rate = n_raw / t_raw, report.rate
    print(f"store: {'PostgreSQL' if settings.uses_postgres else 'SQLite'}  events: {n_raw:,}")
    print(f"raw read + decode : {raw_rate:>10,.0f} events/s ({t_raw:.1f} s)")
    print(f"verify hash chain : {verify_rate:>10,.0f} events/s ({report.seconds:.1f} s)")
    print(f"ratio verify/raw  : {verify_rate / raw_rate:.2f} (goal ≥ 0.50)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
