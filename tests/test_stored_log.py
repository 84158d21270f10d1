"""A log written by an earlier ``main`` still decodes, verifies, replays and explains (issue 9).

``tests/data/eventlog/v1`` holds 343 events written before the event classes were versioned,
with their hash chain, and what ``kaohe audit`` said of them then (see its README). The rows go
into a fresh store exactly as they were stored — topics, states and links untouched — so this
fails when an event class moves without a topic alias, when a shape changes without an upcaster,
or when the chain starts to hash something else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import Assessments
from services.audit import Auditor, to_jsonl
from kaohe.settings import Settings
from projections.runner import ProjectionRunner, make_engine
from tests.conftest import CONTRACT, EXAMPLES

LOG = Path(__file__).resolve().parent / "data" / "eventlog" / "v1"
ROWS = [json.loads(line) for line in (LOG / "events.jsonl").read_text("utf-8").splitlines()]
CYCLES = {"example-2026": CONTRACT / "example-2026.results.json", "2026-annual": EXAMPLES / "scenario-2026.results.json"}


def load_stored_log(app: Assessments) -> None:
    """Insert the committed rows as they were stored, links included (no chain recomputed)."""
    recorder = app.recorder
    postgres = "Postgres" in type(recorder).__name__
    with recorder.datastore.transaction(commit=True) as c:
        for r in ROWS:
            state = r["state"].encode("utf-8")
            if postgres:
                c.execute(
                    f"INSERT INTO {recorder.events_table_name} (originator_id, originator_version, topic, state, notification_id)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (r["originator_id"], r["originator_version"], r["topic"], state, r["position"]),
                )
                c.execute("INSERT INTO event_chain (position, hash, prev_hash) VALUES (%s, %s, %s)", (r["position"], r["hash"], r["prev"]))
            else:
                c.execute(
                    f"INSERT INTO {recorder.events_table_name} (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)",
                    (r["position"], r["originator_id"], r["originator_version"], r["topic"], state),
                )
                c.execute("INSERT INTO event_chain (position, hash, prev_hash) VALUES (?, ?, ?)", (r["position"], r["hash"], r["prev"]))


@pytest.fixture
def stored(settings: Settings) -> Assessments:
    app = Assessments(env={**settings.event_store_env(), "AGGREGATE_CACHE_MAXSIZE": ""})
    load_stored_log(app)
    return app


def test_the_committed_log_is_what_its_readme_says():
    assert len(ROWS) == 343
    assert [r["position"] for r in ROWS] == list(range(1, 344))
    assert {r["topic"].split(":")[0] for r in ROWS} == {"domain.model"}  # written before anything moved


def test_every_stored_event_decodes_with_todays_classes(stored: Assessments):
    for r in ROWS:
        event = stored.mapper.to_domain_event(
            StoredEvent(originator_id=r["originator_id"], originator_version=r["originator_version"],
                        topic=r["topic"], state=r["state"].encode("utf-8"))
        )
        assert type(event).__name__ == r["topic"].rsplit(".", 1)[1]
        assert event.originator_version == r["originator_version"]


def test_the_chain_verifies_to_the_digest_of_that_day(stored: Assessments):
    report = Auditor(stored).verify()
    then = json.loads((LOG / "verify.json").read_text("utf-8"))
    assert report.ok and report.to_dict()["checked"] == then["checked"] == 343
    assert report.to_dict()["head"] == then["head"]
    assert json.loads((LOG / "digest.txt").read_text("utf-8"))["hash"] == then["head"]["hash"]


@pytest.mark.parametrize("cycle", sorted(CYCLES))
def test_results_replay_as_they_did_and_as_the_contract_says(stored: Assessments, cycle: str):
    then = json.loads((LOG / f"replay-{cycle}.json").read_text("utf-8"))
    expected = json.loads(CYCLES[cycle].read_text("utf-8"))
    live = json.loads(json.dumps(stored.results(cycle), default=str))
    replayed = json.loads(json.dumps(Auditor(stored).replay(cycle, position=343)["results"], default=str))
    for got in (live, replayed):
        assert got["units"] == then["units"] == expected["units"]
        assert got["distribution"] == then["distribution"] == expected["distribution"]


@pytest.mark.parametrize("name", sorted(p.name for p in LOG.glob("explain-*.json")))
def test_explain_says_what_it_said(stored: Assessments, name: str):
    """The auditor's explanation is what it was, plus exactly one field it now adds: which view
    of the ballots it gives (named: auditor only, SPEC §1 "Secret ballot") and the turnout."""
    cycle, unit = name.removeprefix("explain-").removesuffix(".json").rsplit("-", 1)
    then = json.loads((LOG / name).read_text("utf-8"))
    now = Auditor(stored).explain(cycle, unit)
    marker = now["debrief_score"].pop("ballot_view")
    assert marker["view"] == "named" and marker["secret_ballot"] is True
    assert marker["note"] == "记名：仅审计可见 / named: auditor only"
    assert marker["turnout"]["cast"] == len({b["representative"] for c in then["debrief_score"]["categories"] for b in c["ballots"]}) > 0
    assert marker["turnout"]["rostered"] is None  # no roster in these cycles
    assert now == then


def test_the_timeline_reads_as_it_did(stored: Assessments):
    assert to_jsonl(Auditor(stored).timeline("example-2026")) == (LOG / "timeline-example-2026.jsonl").read_text("utf-8")


def test_the_read_models_rebuild_from_the_stored_log(stored: Assessments, tmp_path: Path):
    runner = ProjectionRunner(stored, make_engine(f"sqlite:///{tmp_path / 'read.sqlite'}"))
    assert runner.rebuild() == 343
    from projections.models import ResultRow
    from sqlalchemy import select

    expected = json.loads(CYCLES["example-2026"].read_text("utf-8"))["units"]
    with runner.sessions() as db:
        rows = {r.unit: r for r in db.scalars(select(ResultRow).where(ResultRow.cycle == "example-2026"))}
    assert {u: r.result for u, r in rows.items()} == expected
