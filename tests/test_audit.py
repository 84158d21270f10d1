"""Audit trail (SPEC §6): the hash chain catches every kind of tampering at the right position,
on SQLite and PostgreSQL; digests; replay as-of; explained grades; the offline bundle."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from domain.application import Assessments
from domain.rules import Actor
from services.audit import Auditor, check_digest, generate_key, verify_bundle
from simulation.scenario import load
from kaohe.settings import Settings
from tests.conftest import log_position
from tests.helpers import MEETING, TINY_SCHEME, approve, cast, confirm, small_cycle

ORG = Actor("org", "organizer")


def build_log(settings: Settings) -> Assessments:
    """A setup with 1 + 2 × 6 = 13 events: CycleCreated, then per unit UnitRegistered + UnitAssessmentStarted."""
    app = Assessments(env=settings.event_store_env())
    app.create_cycle("t", 2026, "篡改测试", None, {"grassroots_branch": TINY_SCHEME}, None, None, ORG, "c0")
    for i in range(1, 7):
        app.register_units("t", [{"key": f"U{i}", "name": f"支部{i}", "org_type": "grassroots_branch"}], ORG, f"c{i}")
    assert app.recorder.max_notification_id() == 13
    return app


class Store:
    """Direct SQL on the stored log, as a database administrator could run it."""

    def __init__(self, settings: Settings) -> None:
        self.pg = settings.uses_postgres
        self.settings = settings

    def run(self, sql: str, *args) -> list:
        if self.pg:
            sql = sql.replace("EVENTS", "kaohe_events").replace("POS", "notification_id").replace("?", "%s")
            with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
                cur = conn.execute(sql, args)
                return cur.fetchall() if cur.description else []
        sql = sql.replace("EVENTS", "stored_events").replace("POS", "rowid")
        conn = sqlite3.connect(self.settings.event_store_env()["SQLITE_DBNAME"])
        try:
            rows = conn.execute(sql, args).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()


def finding(settings: Settings, digest=None):
    report = Auditor(Assessments(env=settings.event_store_env())).verify(digest)
    return report.verification.finding


def test_an_untouched_log_verifies(settings):
    app = build_log(settings)
    report = Auditor(app).verify()
    assert report.ok and report.verification.checked == 13 and report.verification.head_position == 13


def test_a_changed_event_is_found_at_its_position(settings):
    build_log(settings)
    store = Store(settings)
    state = store.run("SELECT state FROM EVENTS WHERE POS = 5")[0][0]
    store.run("UPDATE EVENTS SET state = ? WHERE POS = 5", bytes(state).replace("支部".encode(), "伪造".encode()))
    f = finding(settings)
    assert (f.position, f.kind) == (5, "changed")


def test_a_deleted_event_is_found(settings):
    build_log(settings)
    store = Store(settings)
    store.run("DELETE FROM EVENTS WHERE POS = 7")
    f = finding(settings)
    assert (f.position, f.kind) == (7, "deleted")


def test_a_deleted_event_and_its_link_break_the_chain_at_the_next_position(settings):
    build_log(settings)
    store = Store(settings)
    store.run("DELETE FROM EVENTS WHERE POS = 7")
    store.run("DELETE FROM event_chain WHERE position = 7")
    f = finding(settings)
    assert (f.position, f.kind) == (8, "deleted")


def test_an_inserted_forged_event_is_found(settings):
    app = build_log(settings)
    store = Store(settings)
    oid, version, topic, state = store.run("SELECT originator_id, originator_version, topic, state FROM EVENTS WHERE POS = 3")[0]
    # A forged event for the same aggregate, the next version, at the next position, with no link.
    if settings.uses_postgres:
        store.run("INSERT INTO EVENTS (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)", oid, 99, topic, state)
    else:
        store.run("INSERT INTO EVENTS (rowid, originator_id, originator_version, topic, state) VALUES (14, ?, ?, ?, ?)", oid, 99, topic, state)
    f = finding(settings)
    assert f.kind == "inserted" and f.position == app.recorder.max_notification_id() and f.version == 99


def test_two_swapped_events_are_found_at_the_first(settings):
    build_log(settings)
    store = Store(settings)
    a = store.run("SELECT originator_id, originator_version, topic, state FROM EVENTS WHERE POS = 4")[0]
    b = store.run("SELECT originator_id, originator_version, topic, state FROM EVENTS WHERE POS = 9")[0]
    # Swap the two rows' contents (via temporary versions, to respect the primary key).
    store.run("UPDATE EVENTS SET originator_version = -1 WHERE POS = 4")
    store.run("UPDATE EVENTS SET originator_version = -2 WHERE POS = 9")
    store.run("UPDATE EVENTS SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE POS = 4", *b)
    store.run("UPDATE EVENTS SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE POS = 9", *a)
    f = finding(settings)
    assert (f.position, f.kind) == (4, "changed")


def test_a_rewritten_chain_passes_alone_but_not_against_an_earlier_digest(settings):
    app = build_log(settings)
    private, public = generate_key()
    digest = check_digest(Auditor(app).digest(private), public)
    assert digest["position"] == 13
    store = Store(settings)
    # The administrator changes event 5 and recomputes every link after it.
    from domain.ledger import link

    state = store.run("SELECT state FROM EVENTS WHERE POS = 5")[0][0]
    store.run("UPDATE EVENTS SET state = ? WHERE POS = 5", bytes(state).replace("支部".encode(), "伪造".encode()))
    prev = store.run("SELECT hash FROM event_chain WHERE position = 4")[0][0]
    for pos, oid, ver, topic, st in store.run("SELECT POS, originator_id, originator_version, topic, state FROM EVENTS WHERE POS >= 5 ORDER BY POS"):
        h = link(prev, pos, str(oid).replace("-", ""), ver, topic, bytes(st))
        store.run("UPDATE event_chain SET hash = ?, prev_hash = ? WHERE position = ?", h, prev, pos)
        prev = h
    assert finding(settings) is None  # the chain alone is consistent again …
    f = finding(settings, digest)  # … but not with the digest handed out before
    assert (f.position, f.kind) == (13, "digest_mismatch")


def test_a_forged_digest_fails_its_signature(settings):
    app = build_log(settings)
    private, public = generate_key()
    digest = Auditor(app).digest(private)
    forged = {**digest, "hash": "0" * 64}
    from domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        check_digest(forged, public)
    assert err.value.code == "bad_signature"
    other_private, other_public = generate_key()
    with pytest.raises(InvalidInput) as err:
        check_digest(digest, other_public)
    assert err.value.code == "wrong_key"


def test_a_log_cut_short_fails_against_its_digest(settings):
    app = build_log(settings)
    digest = Auditor(app).digest()
    store = Store(settings)
    store.run("DELETE FROM EVENTS WHERE POS = 13")
    store.run("DELETE FROM event_chain WHERE position = 13")
    f = finding(settings, digest)
    assert (f.position, f.kind) == (13, "truncated")


# ------------------------------------------------------------------ through the API


@pytest.mark.temporal
async def test_replay_as_of_shows_grades_before_and_after_an_override(client, stack):
    await cast(client)  # com and com2: the default committee_quorum 2
    key = await small_cycle(client, "allocation")
    # As worked in test_cycle_api: U1 F = 94.40 excellent (the one place), U2 F = 80.90 good.
    before = log_position(stack)
    # com proposes the override at the meeting, com2's confirmation puts it in effect; then the
    # allocation is approved the same way (tests.helpers.approve).
    body = {"unit": "U2", "grade": "average", "reason": "党委会研究决定", **MEETING}
    r = await client.as_("com").post(f"/cycles/{key}/allocation/overrides", json=body)
    assert r.status_code == 200, r.text
    await confirm(client, key, r.json())
    await approve(client, key)
    aud = client.as_("aud")
    then = (await aud.get(f"/audit/cycles/{key}/replay", params={"position": before})).json()
    now = (await aud.get(f"/audit/cycles/{key}/replay")).json()
    assert then["results"]["units"]["U2"]["grade"] == "good" and then["results"]["units"]["U2"]["overridden"] is False
    assert then["state"]["status"] == "open" and then["state"]["stages"]["allocation"] == "open"
    assert now["results"]["units"]["U2"]["grade"] == "average" and now["results"]["units"]["U2"]["overridden"] is True
    assert now["state"]["status"] == "published"
    # as_of a moment: the override's own timestamp (from the timeline) shows it applied.
    tl = (await aud.get(f"/audit/cycles/{key}/timeline", params={"type": "GradeOverridden"})).json()
    # the override is recorded by the confirmation that reached the quorum: com2's
    assert len(tl) == 1 and tl[0]["old"] == "good" and tl[0]["new"] == "average" and tl[0]["actor"] == "com2"
    at = (await aud.get(f"/audit/cycles/{key}/replay", params={"as_of": tl[0]["at"]})).json()
    assert at["results"]["units"]["U2"]["grade"] == "average"
    # Timeline exports: JSON lines and CSV.
    jl = await aud.get(f"/audit/cycles/{key}/timeline", params={"format": "jsonl", "unit": "U2"})
    assert all(json.loads(line)["unit"] == "U2" for line in jl.text.splitlines())
    csv_text = (await aud.get(f"/audit/cycles/{key}/timeline", params={"format": "csv"})).text
    assert csv_text.lstrip("\ufeff").startswith("position,at,event,what,actor")
    # A unit user may not read the audit trail.
    assert (await client.as_("u1").get(f"/audit/cycles/{key}/timeline")).status_code == 403
    # The digest names the head of the log; verification over HTTP agrees.
    d = (await aud.get("/audit/digest")).json()
    assert d["position"] == log_position(stack)
    v = (await aud.get("/audit/verify")).json()
    assert v["ok"] and v["head"]["hash"] == d["hash"]


@pytest.mark.temporal
@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
@pytest.mark.parametrize("example", ["contract/example-2026", "scenario-2026"])
async def test_explain_reproduces_every_published_result_of_the_example(client, stack, tmp_path, example):
    from simulation import runner as simulate
    from tests.conftest import EXAMPLES

    scenario = load(EXAMPLES / f"{example}.json")
    expected = json.loads((EXAMPLES / f"{example}.results.json").read_text("utf-8"))
    cycle = scenario["cycle"]["key"]
    results = await simulate.run(stack.api_url, ("admin", "admin-pass-123"), scenario, simulate.Progress(quiet=True), feedback=False)
    assert results == expected
    await client.user("aud", "auditor")
    aud = client.as_("aud")
    links = Auditor(stack.app).links()
    for unit, published in expected["units"].items():
        e = (await aud.get(f"/audit/cycles/{cycle}/units/{unit}/explain")).json()
        assert e["result"] == published, unit
        assert e["work_score"]["value"] == published["work_score"]
        assert e["final_score"]["value"] == published["final_score"]
        assert e["grade"] == published["grade"] and e["rank"]["value"] == published["rank"]
        for cited in e["work_score"]["cited"] + e["published"]:
            assert cited["hash"] == links[cited["position"]]
    if example != "contract/example-2026":
        return
    # P02 by hand (shared/examples/README.md): staff ballots 91 … 98 → 91 and 98 trimmed; leaders not trimmed.
    e = (await aud.get("/audit/cycles/example-2026/units/P02/explain")).json()
    staff = next(c for c in e["debrief_score"]["categories"] if c["category"] == "staff")
    assert sorted((b["score"], b["trimmed"]) for b in staff["ballots"] if b["trimmed"]) == [("91", "lowest"), ("98", "highest")]
    assert Decimal(staff["mean"]) == Decimal("94")
    leaders = next(c for c in e["debrief_score"]["categories"] if c["category"] == "leaders")
    assert not leaders["trimmed"] and Decimal(leaders["mean"]) == Decimal("88")
    assert [b["points"] for b in e["bonus"]["approved"]] == ["1.5"]
    # The bundle verifies with no database and reproduces the results; a tampered one does not.
    r = await aud.get("/audit/cycles/example-2026/export")
    assert r.status_code == 200
    bundle = tmp_path / "bundle.zip"
    bundle.write_bytes(r.content)
    checked = verify_bundle(bundle)
    assert checked["chain"]["ok"] and checked["results_match"] and checked["results"] == expected
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(forged, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "events.jsonl":
                lines = data.decode().splitlines()
                row = json.loads(lines[10])
                row["topic"] = row["topic"] + "X"
                lines[10] = json.dumps(row)
                data = ("\n".join(lines) + "\n").encode()
            dst.writestr(item, data)
    assert verify_bundle(forged)["chain"]["ok"] is False


def test_the_audit_commands_exit_with_what_they_found(tmp_path, settings):
    """`kaohe audit verify|digest|export` as a person runs them: exit 0 on a sound log, 1 with
    one line naming the position on a tampered one; a bundle verifies with no database."""
    import os
    import subprocess
    import sys

    if settings.uses_postgres:
        pytest.skip("the CLI path is the same on both stores; the tamper tests above cover PostgreSQL")
    build_log(settings)
    kaohe = str(Path(sys.executable).parent / "kaohe")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env["KAOHE_DATA_DIR"] = str(settings.data_dir)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([kaohe, *args], env=env, capture_output=True, text=True, timeout=60)

    ok = run("audit", "verify")
    assert ok.returncode == 0 and "13" in ok.stdout, ok.stderr
    digest = tmp_path / "digest.json"
    assert run("audit", "digest", "--out", str(digest)).returncode == 0
    assert json.loads(digest.read_text())["position"] == 13
    bundle = tmp_path / "t.zip"
    assert run("audit", "export", "--cycle", "t", "--out", str(bundle)).returncode == 0
    Store(settings).run("DELETE FROM EVENTS WHERE POS = 13")
    Store(settings).run("DELETE FROM event_chain WHERE position = 13")
    assert run("audit", "verify").returncode == 0  # a cut at the head needs the digest to be seen …
    bad = run("audit", "verify", "--digest", str(digest))  # … and the digest sees it
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("kaohe:") and "13" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    offline = run("audit", "verify", "--bundle", str(bundle))  # the bundle was taken before the cut
    assert offline.returncode == 0, offline.stderr
