"""Ballot sheets that scale with the meeting: each sheet is its own aggregate (``BallotSheet``),
cast over HTTP straight to the domain; the session's close is the cut-off and lists exactly the
sheets it counts. Real Temporal dev server, real event store (SQLite and PostgreSQL), real API."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from eventsourcing.utils import get_topic

from domain.application import SHEET_CAST
from domain.audit import explain, replay
from domain.errors import Conflict
from domain.aggregates import BallotSheet, sheet_id
from domain.rules import Actor
from tests.conftest import log_position
from tests.helpers import cast, set_roster, small_cycle

pytestmark = pytest.mark.temporal

COHORT = "grassroots_branch"


def stored(stack, topic: str = SHEET_CAST) -> list:
    """The events of one topic in the store, counted from the log itself."""
    return list(stack.app.recorder.select_notifications(start=1, limit=100_000, topics=[topic]))


def topic_of(name: str) -> str:
    return get_topic(getattr(BallotSheet, name))


async def test_a_burst_of_sheets_into_one_session(client, stack):
    await cast(client)
    reps = [f"B{i:02d}" for i in range(1, 31)]
    for rep in reps:
        await client.user(rep, "representative")
    key = await small_cycle(client, "debrief", key="burst")
    await set_roster(client, key, ["R1", "R2", "R3", *reps])
    url = f"/cycles/{key}/debrief/{COHORT}/ballots"
    tasks = (await client.as_("B01").get("/tasks")).json()
    assert "cast_ballot" in str(tasks), tasks  # the inbox asks B01 for its sheet

    def send(rep: str, idem: str, score: str = "90"):
        return client.as_(rep).post(url, json={"scores": {"U1": score, "U2": "80"}}, headers={"Idempotency-Key": idem})

    # 30 representatives at once: every answer 2xx, none 5xx, each accepted with its position.
    first = await asyncio.gather(*(send(rep, f"sheet-{rep}") for rep in reps))
    assert [r.status_code for r in first] == [200] * 30, [r.text for r in first if r.status_code != 200]
    bodies = [r.json() for r in first]
    assert all(b["status"] == "accepted" and isinstance(b["position"], int) for b in bodies), bodies
    casts = stored(stack)
    assert len(casts) == 30
    assert len({n.originator_id for n in casts}) == 30  # none doubled
    assert {n.originator_id for n in casts} == {sheet_id(key, COHORT, rep) for rep in reps}

    # The same requests again, same Idempotency-Key: the same answers, nothing stored.
    before = log_position(stack)
    again = await asyncio.gather(*(send(rep, f"sheet-{rep}") for rep in reps))
    assert [r.status_code for r in again] == [200] * 30
    assert [r.json() for r in again] == bodies
    assert log_position(stack) == before

    # A second sheet (another key) by each: refused, at once, by construction of the sheet's id.
    second = await asyncio.gather(*(send(rep, f"second-{rep}", "10") for rep in reps))
    assert [r.status_code for r in second] == [409] * 30, [r.text for r in second]
    assert {r.json()["code"] for r in second} == {"ballot_already_cast"}
    assert all(r.json()["message"].startswith("代表 ") and " / " in r.json()["message"] for r in second)
    assert log_position(stack) == before

    # The read side saw each sheet once; the representative's task is done.
    sessions = (await client.as_("org").get(f"/cycles/{key}/debrief")).json()
    assert [(s["cohort"], s["open"], s["ballots"]) for s in sessions] == [(COHORT, True, 30)]
    mine = (await client.as_("B01").get(f"/cycles/{key}/debrief")).json()
    assert mine[0]["cast_by_me"] is True and "ballots" not in mine[0]  # secret ballot: no counts for representatives
    assert "cast_ballot" not in str((await client.as_("B01").get("/tasks")).json())
    assert "cast_ballot" in str((await client.as_("R1").get("/tasks")).json())  # R1 has not cast yet


async def test_the_close_is_the_cut_off_and_lists_the_sheets_it_counts(client, stack):
    """Six sheets, trimmed (SPEC §4, trim_min_ballots 5), a late sheet voided, the grades by hand:

    U1: ballots 95, 93, 91, 70, 99, 88 → drop 70 and 99 → (95 + 93 + 91 + 88) / 4 = 367 / 4 = 91.75
    U2: ballots 85, 83, 81, 80, 60, 100 → drop 60 and 100 → (85 + 83 + 81 + 80) / 4 = 329 / 4 = 82.25
    W(U1) = 100 × (6 + 3.5) / 10 = 95.00; W(U2) = 100 × (5 + 3) / 10 = 80.00
    C(U1) = round2(0.7 × 95 + 0.3 × 91.75) = round2(66.5 + 27.525) = 94.03 (half up)
    C(U2) = round2(0.7 × 80 + 0.3 × 82.25) = round2(56 + 24.675) = 80.68
    """
    await cast(client)
    for rep in ("R4", "R5", "R6", "R7", "R8"):
        await client.user(rep, "representative")
    key = await small_cycle(client, "debrief", key="cutoff")
    await set_roster(client, key, [f"R{i}" for i in range(1, 9)])
    url = f"/cycles/{key}/debrief/{COHORT}/ballots"
    sheets = {"R1": ("95", "85"), "R2": ("93", "83"), "R3": ("91", "81"), "R4": ("70", "80"), "R5": ("99", "60"), "R6": ("88", "100")}
    for rep, (a, b) in sheets.items():
        r = await client.as_(rep).post(url, json={"scores": {"U1": a, "U2": b}})
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text

    # The race, as it interleaves: the close has stored its cut-off; R7's cast read the session
    # while it was still open and stores its sheet only now, after the cut-off.
    app = stack.app
    s = app.session(key, COHORT)
    s.close_ballot_box(actor="org", role="organizer", command_id="org/cut-off")
    app.save(s)
    late = BallotSheet(cycle=key, cohort=COHORT, representative="R7", category="representatives",
                       scores={"U1": "0", "U2": "0"}, actor="R7", role="representative", command_id="R7/late")
    app.save(late)
    # The cast, having stored its sheet, reads the session again: cut off, the sheet not counted.
    with pytest.raises(Conflict) as refused:
        await asyncio.to_thread(app.cast_ballot, key, COHORT, "R7", None, {"U1": "0", "U2": "0"},
                                Actor("R7", "representative"), "R7/late")
    assert refused.value.code == "session_closed" and " / " in refused.value.message
    assert app.sheet(key, COHORT, "R7").voided  # the log says so: BallotSheetVoided
    assert len(stored(stack, topic_of("BallotSheetVoided"))) == 1
    # Its retry gets the same refusal and stores nothing more.
    before = log_position(stack)
    with pytest.raises(Conflict):
        await asyncio.to_thread(app.cast_ballot, key, COHORT, "R7", None, {"U1": "0", "U2": "0"},
                                Actor("R7", "representative"), "R7/late")
    assert log_position(stack) == before

    # The organizer's close (through the session workflow) finishes the count.
    r = await client.as_("org").post(f"/cycles/{key}/debrief/{COHORT}/close")
    assert r.status_code == 200, r.text
    s = app.session(key, COHORT)
    assert s.is_closed
    assert [x["representative"] for x in s.sheets] == list(sheets)  # exactly the counted ones, in log order
    assert {x["sheet"] for x in s.sheets} == {str(sheet_id(key, COHORT, rep)) for rep in sheets}

    # A sheet cast now is refused and stores nothing.
    before = log_position(stack)
    r = await client.as_("R8").post(url, json={"scores": {"U1": "50"}})
    assert r.status_code == 409 and r.json()["code"] == "session_closed", r.text
    assert log_position(stack) == before
    assert app.sheet(key, COHORT, "R8") is None

    org = client.as_("org")
    for step in ("stages/debrief/close", "stages/adjustments/open", "stages/adjustments/close"):
        r = await org.post(f"/cycles/{key}/{step}")
        assert r.status_code == 200, r.text
    progress = (await org.get(f"/cycles/{key}")).json()["progress"]["debrief"]
    assert progress == {COHORT: {"open": False, "ballots": 6}}

    live = app.results(key)["units"]
    audited = replay(app).results(key)["units"]
    assert live == audited
    expected = {"U1": ("95.00", "91.75", "94.03"), "U2": ("80.00", "82.25", "80.68")}
    for unit, (w, d, c) in expected.items():
        assert (live[unit]["work_score"], live[unit]["debrief_score"], live[unit]["composite"]) == (w, d, c), live[unit]

    # explain cites each counted sheet's own event and marks the trimmed ones.
    why = explain(replay(app), key, "U1")
    cats = why["debrief_score"]["categories"]
    assert len(cats) == 1 and cats[0]["trimmed"] is True and cats[0]["mean"] == "91.75"
    cited = {b["representative"]: b for b in cats[0]["ballots"]}
    assert set(cited) == set(sheets)
    positions = {n.originator_id: n.id for n in stored(stack)}
    for rep, b in cited.items():
        assert b["cited"]["event"] == "BallotSheetCast"
        assert b["cited"]["position"] == positions[sheet_id(key, COHORT, rep)]
    assert Counter(b["trimmed"] for b in cited.values()) == Counter({None: 4, "lowest": 1, "highest": 1})
    assert cited["R4"]["trimmed"] == "lowest" and cited["R5"]["trimmed"] == "highest"


# ---------------------------------------------------------------- the domain alone, on SQLite


def sqlite_app(tmp_path):
    from kaohe.runtime import build_app
    from kaohe.settings import Settings

    return build_app(Settings(data_dir=tmp_path))


def scored_cycle(app, key: str) -> None:
    from tests.helpers import TINY_SCHEME

    org, eva = Actor("org", "organizer"), Actor("eva", "evaluator")
    app.create_cycle(key, 2026, "测试", {}, {COHORT: TINY_SCHEME}, None, None, org, "create")
    app.register_units(key, [{"key": "U1", "name": "一支部", "org_type": COHORT}], org, "units")
    app.open_cycle(key, org, "open")
    app.close_stage(key, "self_review", org, "close-sr")
    app.open_stage(key, "scoring", org, "open-sc")
    app.submit_scoring(key, "U1", {"1.1.1": "6", "1.1.2": "4"}, None, None, eva, "score-U1")


def test_a_sheet_stored_before_the_cut_off_counts_even_before_the_count_is_written(tmp_path):
    """A close interrupted between its cut-off and its count: a sheet stored before the cut-off
    is accepted (the count will hold it), one stored after is refused; any later close finishes."""
    app = sqlite_app(tmp_path)
    scored_cycle(app, "k")
    app.open_stage("k", "debrief", Actor("org", "organizer"), "open-db")
    early = BallotSheet(cycle="k", cohort=COHORT, representative="R1", category="representatives",
                        scores={"U1": "80"}, actor="R1", role="representative", command_id="R1/1")
    app.save(early)  # stored, but its cast has not read the session again yet
    s = app.session("k", COHORT)
    s.close_ballot_box(actor="org", role="organizer", command_id="org/close")
    app.save(s)  # the close stops here (its process died)
    late = BallotSheet(cycle="k", cohort=COHORT, representative="R2", category="representatives",
                       scores={"U1": "10"}, actor="R2", role="representative", command_id="R2/1")
    app.save(late)
    accepted = app.cast_ballot("k", COHORT, "R1", None, {"U1": "80"}, Actor("R1", "representative"), "R1/1")
    assert accepted.data["status"] == "accepted" and accepted.position is not None
    with pytest.raises(Conflict) as refused:
        app.cast_ballot("k", COHORT, "R2", None, {"U1": "10"}, Actor("R2", "representative"), "R2/1")
    assert refused.value.code == "session_closed"
    # The organizer closes again (another key): the close is finished, not refused.
    app.close_session("k", COHORT, Actor("org", "organizer"), "org/again")
    s = app.session("k", COHORT)
    assert [x["representative"] for x in s.sheets] == ["R1"]
    assert [b["representative"] for b in app.ballots_of(s)] == ["R1"]
    assert [b["representative"] for b in replay(app).ballots_of(replay(app).session("k", COHORT))] == ["R1"]
    with pytest.raises(Conflict):  # now it is closed
        app.close_session("k", COHORT, Actor("org", "organizer"), "org/third")


def test_ballots_stored_on_the_session_by_older_versions_still_decode_and_count(tmp_path):
    """Older logs: DebriefSessionOpened and DebriefSessionClosed v1 (no ``opened_after``, no
    ``sheets``) and the ballots as BallotCast events on the session itself."""
    import json

    from eventsourcing.persistence import StoredEvent

    from domain.aggregates import DebriefSession

    app = sqlite_app(tmp_path)
    scored_cycle(app, "old")

    def store_as_v1(aggregate, drop: tuple[str, ...]) -> None:
        rows = []
        for e in aggregate.collect_events():
            stored_event = app.mapper.to_stored_event(e)
            state = json.loads(stored_event.state)
            if type(e).__qualname__.split(".")[-1] in ("DebriefSessionOpened", "DebriefSessionClosed"):
                for k in (*drop, "class_version"):
                    state.pop(k, None)
            rows.append(StoredEvent(stored_event.originator_id, stored_event.originator_version, stored_event.topic,
                                    json.dumps(state).encode()))
        app.recorder.insert_events(rows)

    s = DebriefSession(cycle="old", cohort=COHORT, secretaries=["U1"], categories={"representatives": "1"},
                       actor="org", role="organizer", command_id="open-db", opened_after=7)
    for rep, score in (("R1", "95"), ("R2", "90"), ("R3", "70"), ("R4", "80"), ("R5", "85")):
        s.cast_ballot(representative=rep, category="representatives", scores={"U1": score}, actor=rep,
                      role="representative", command_id=f"{rep}/1")
    s.close(actor="org", role="organizer", command_id="close-db", sheets=[])
    store_as_v1(s, ("opened_after", "sheets"))

    old = app.session("old", COHORT)
    assert old.opened_after == 0 and old.sheets == []  # upcast: 7 was dropped with the v2 fields and old.is_closed and len(old.ballots) == 5
    # 5 ballots ≥ trim_min_ballots 5: drop 70 and 95 → (90 + 80 + 85) / 3 = 85.00
    assert app.results("old")["units"]["U1"]["debrief_score"] == "85.00"
    r = replay(app)
    assert r.results("old") == app.results("old")
    cited = explain(r, "old", "U1")["debrief_score"]["categories"][0]["ballots"]
    assert sorted(b["representative"] for b in cited) == ["R1", "R2", "R3", "R4", "R5"]
    assert {b["cited"]["event"] for b in cited} == {"BallotCast"}
    assert sorted(b["trimmed"] or "" for b in cited) == ["", "", "", "highest", "lowest"]


async def test_the_phone_ballot_page_casts_through_the_same_use_case(client, stack):
    """The web page (api/web/pages/people.py) posts its form to the same route function."""
    import httpx

    from api.web.routes import TOKEN_COOKIE, csrf_for

    await cast(client)
    key = await small_cycle(client, "debrief", key="web")
    token = client.tokens["R1"]
    async with httpx.AsyncClient(base_url=stack.api_url, cookies={TOKEN_COOKIE: token}, timeout=60) as web:
        page = await web.get(f"/ballot/{key}/{COHORT}")
        assert page.status_code == 200, page.text

        def post(idem: str, confirm: str = "yes"):
            form = {"score.U1": "91", "score.U2": "82", "category": "", "idem": idem, "csrf": csrf_for(token), "confirm": confirm}
            return web.post(f"/ballot/{key}/{COHORT}", data=form)

        first = log_position(stack)
        asked = await post("phone-1", confirm="")  # not yet confirmed: the second look, nothing stored
        assert asked.status_code == 200 and 'data-testid="confirm-ballot"' in asked.text and 'value="phone-1"' in asked.text
        assert log_position(stack) == first
        r = await post("phone-1")
        assert r.status_code == 303 and r.headers["location"].endswith("?done=1"), r.text
        assert [n.originator_id for n in stored(stack)] == [sheet_id(key, COHORT, "R1")]
        before = log_position(stack)
        assert (await post("phone-1")).status_code == 303  # the same form sent again: the first answer
        assert log_position(stack) == before
        again = await post("phone-2")  # another sheet: refused on the page, nothing stored
        assert again.status_code == 409 and "您已提交过本场评议表" in again.text
        assert log_position(stack) == before
    assert stack.app.sheet(key, COHORT, "R1").scores == {"U1": "91", "U2": "82"}
