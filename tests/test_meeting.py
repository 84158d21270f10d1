"""The debrief meeting as it happens (SPEC §1 "Roster"): the organizer's roster, one-time ballot
codes cast from a phone without an account, turnout, and a close below ``min_turnout``. Over
the real HTTP API, on SQLite and PostgreSQL; every refusal is a 4xx JSON and stores nothing."""

from __future__ import annotations

import io
import re

import pytest
from eventsourcing.utils import get_topic

from domain.aggregates import BallotSheet, sheet_id
from tests.conftest import log_position
from tests.helpers import TINY_SCHEME, cast, set_roster, small_cycle

pytestmark = pytest.mark.temporal

COHORT = "grassroots_branch"
SESSION = f"/cycles/{{key}}/debrief/{COHORT}"


async def refused(stack, request, status: int, code: str, field: str | None) -> dict:
    before = log_position(stack)
    r = await request
    assert r.status_code == status, r.text
    body = r.json()
    assert (body["code"], body.get("field")) == (code, field), body
    zh, _, en = body["message"].partition("/ ")
    assert zh and en and re.search(r"[\u4e00-\u9fff]", zh), body["message"]  # Chinese first, English second
    assert log_position(stack) == before, f"a refused request stored events: {body}"
    return body


async def test_a_roster_names_representatives_who_need_no_account_beforehand(client, stack):
    """A meeting of 300 needs no 300 accounts and passwords: a rostered name with no account
    becomes a representative who casts by one-time code only (no password opens it)."""
    await cast(client)
    key = await small_cycle(client, "debrief", key="walk-in")  # roster R1, R2, R3
    org, url = client.as_("org"), SESSION.format(key=key)
    roster = [{"representative": r} for r in ("R1", "R2", "R3")] + [{"representative": "W01", "name": "王代表"}]
    r = await org.put(f"{url}/roster", json=roster)
    assert r.status_code == 200, r.text
    walk_in = stack.accounts.get("W01")
    assert (walk_in.role, walk_in.display_name) == ("representative", "王代表")
    for password in ("", "W01", "password-123"):
        assert stack.accounts.login("W01", password) is None
    assert (await org.get(url)).json()["rostered"] == 4

    codes = (await org.post(f"{url}/codes", json={"representatives": ["W01"]})).json()
    (slip,) = [c for c in codes["codes"] if c["representative"] == "W01"]
    r = await client.http.post(f"/ballot-codes/{slip['code']}", json={"scores": {"U1": "90", "U2": "80"}})  # no token
    assert r.status_code == 200, r.text
    assert (await org.get(url)).json()["ballots"] == 1


async def test_the_roster_decides_who_casts_and_in_which_category(client, stack):
    await cast(client)
    await client.user("R4", "representative")
    key = await small_cycle(client, "debrief", key="ro")  # roster R1, R2, R3 (the one category)
    org, url = client.as_("org"), SESSION.format(key=key)

    body = await refused(stack, client.as_("R4").post(f"{url}/ballots", json={"scores": {"U1": "90"}}), 403, "not_on_roster", "representative")
    assert "R4" in body["message"]
    body = await refused(stack, client.as_("R1").post(f"{url}/ballots", json={"scores": {"U1": "90"}, "category": "leaders"}),
                         409, "wrong_category", "category")
    assert "R1" in body["message"] and "representatives" in body["message"]

    # bad rosters: nothing stored, the roster as it was
    put = lambda entries, cohort=COHORT: org.put(f"/cycles/{key}/debrief/{cohort}/roster", json=entries)  # noqa: E731
    await refused(stack, put([{"representative": "R1"}, {"representative": "R1"}]), 422, "duplicate_representative", "roster[1].representative")
    await refused(stack, put([{"representative": "R1", "category": "heads"}]), 422, "unknown_category", "roster[0].category")
    await refused(stack, put([{"representative": "R1"}], "organ_committee"), 422, "unknown_cohort", "cohort")
    await refused(stack, put([{"representative": "R1"}, {"representative": "bad/name"}]), 422, "invalid_representative", "roster[1].representative")
    await refused(stack, put([{"representative": "org"}]), 422, "not_a_representative", "roster[0].representative")
    await refused(stack, put({"representative": "R1"}), 422, "invalid_roster", "roster")
    await refused(stack, client.as_("R1").put(f"{url}/roster", json=[{"representative": "R1"}]), 403, "forbidden", None)

    view = (await org.get(url)).json()
    assert (view["state"], view["rostered"], view["ballots"], view["turnout_text"]) == ("open", 3, 0, "0/3（0%）")

    # R4 joins the roster while the session is open, and casts; turnout 1/4 = 25%
    await set_roster(client, key, ["R1", "R2", "R3", "R4"])
    r = await client.as_("R4").post(f"{url}/ballots", json={"scores": {"U1": "90", "U2": "80"}})
    assert r.status_code == 200 and r.json()["category"] == "representatives", r.text
    view = (await org.get(url)).json()
    assert (view["rostered"], view["ballots"], view["turnout"], view["turnout_text"]) == (4, 1, "0.2500", "1/4（25%）")
    assert [m["cast"] for m in view["members"]] == [False, False, False, True]
    # a second sheet by account: refused
    await refused(stack, client.as_("R4").post(f"{url}/ballots", json={"scores": {"U1": "10"}}), 409, "ballot_already_cast", "representative")
    # who has cast stays on the roster
    await refused(stack, put([{"representative": "R1"}]), 409, "representative_has_cast", "roster")


async def test_one_time_codes_cast_once_without_an_account(client, stack):
    await cast(client)
    key = await small_cycle(client, "debrief", key="codes")  # roster R1, R2, R3
    org, url = client.as_("org"), SESSION.format(key=key)
    assert (await client.as_("R1").post(f"{url}/ballots", json={"scores": {"U1": "95", "U2": "85"}})).status_code == 200

    await refused(stack, client.as_("R1").post(f"{url}/codes"), 403, "forbidden", None)
    issued = (await org.post(f"{url}/codes")).json()
    assert [c["representative"] for c in issued["codes"]] == ["R2", "R3"] and issued["skipped"] == ["R1"]  # R1 has cast
    r2 = issued["codes"][0]
    assert r2["url"].endswith(f"/b/{r2['code']}") and len(r2["code"]) >= 20
    anon = client.http  # no token: the code is the credential

    seen = (await anon.get(f"/ballot-codes/{r2['code']}")).json()
    assert (seen["representative"], [s["unit"] for s in seen["secretaries"]]) == ("R2", ["U1", "U2"])
    # a bad score: refused, and the code is not spent by it
    await refused(stack, anon.post(f"/ballot-codes/{r2['code']}", json={"scores": {"U1": "101"}}), 422, "score_out_of_range", "scores.U1")
    r = await anon.post(f"/ballot-codes/{r2['code']}", json={"scores": {"U1": "93", "U2": "83"}})
    assert r.status_code == 200 and (r.json()["representative"], r.json()["category"]) == ("R2", "representatives"), r.text
    sheet = stack.app.repository.get(sheet_id(key, COHORT, "R2"))  # a BallotSheet, attributed to R2
    assert (sheet.representative, sheet.scores) == ("R2", {"U1": "93", "U2": "83"})
    casts = stack.app.recorder.select_notifications(start=1, limit=10_000, topics=[get_topic(BallotSheet.BallotSheetCast)])
    assert sum(1 for n in casts if n.originator_id == sheet.id) == 1

    await refused(stack, anon.post(f"/ballot-codes/{r2['code']}", json={"scores": {"U1": "1"}}), 409, "ballot_code_spent", "code")
    await refused(stack, anon.get(f"/ballot-codes/{r2['code']}"), 409, "ballot_code_spent", "code")
    await refused(stack, anon.post("/ballot-codes/not-a-code-of-ours", json={"scores": {"U1": "1"}}), 404, "ballot_code_unknown", "code")
    # R2 now by account: one sheet per session, whatever the door
    await refused(stack, client.as_("R2").post(f"{url}/ballots", json={"scores": {"U1": "1"}}), 409, "ballot_already_cast", "representative")

    # re-issuing replaces R3's unspent code: the old one is refused, the new one works
    old = issued["codes"][1]["code"]
    again = (await org.post(f"{url}/codes")).json()
    assert [c["representative"] for c in again["codes"]] == ["R3"] and again["codes"][0]["code"] != old
    await refused(stack, anon.post(f"/ballot-codes/{old}", json={"scores": {"U1": "1"}}), 409, "ballot_code_revoked", "code")

    # the printable sheet: a PDF, one slip per code with its URL
    import pypdf

    r = await org.post(f"{url}/codes.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    urls = re.findall(r"http\S+/b/[\w-]+", text)
    assert len(urls) == 1 and "代表" in text  # R3 only (R1, R2 have cast)
    code = urls[0].rsplit("/", 1)[1]

    # the session closes: the code expires
    assert (await org.post(f"{url}/close")).status_code == 200
    await refused(stack, anon.post(f"/ballot-codes/{code}", json={"scores": {"U1": "1"}}), 409, "ballot_code_expired", "code")
    await refused(stack, org.post(f"{url}/codes"), 409, "session_closed", "cohort")


async def test_closing_below_the_minimum_turnout_needs_a_reason(client, stack):
    """min_turnout 0.75; 4 rostered, 1 cast: turnout 1/4 = 0.25 < 0.75 → a reason is required."""
    await cast(client)
    await client.user("R4", "representative")
    org, key = client.as_("org"), "turnout"
    r = await org.post("/cycles", json={"key": key, "year": 2026, "name": "到会率", "policy": {"min_turnout": "0.75"},
                                        "schemes": {COHORT: TINY_SCHEME}})
    assert r.status_code == 201, r.text
    r = await org.post(f"/cycles/{key}/units", json={"units": [{"key": "U1", "name": "一支部", "org_type": COHORT}]})
    assert r.status_code == 201, r.text
    await set_roster(client, key, ["R1", "R2", "R3", "R4"])  # before the cycle opens: allowed
    assert (await org.post(f"/cycles/{key}/open")).status_code == 200
    assert (await org.post(f"/cycles/{key}/stages/debrief/open")).status_code == 200
    url = SESSION.format(key=key)
    assert (await client.as_("R1").post(f"{url}/ballots", json={"scores": {"U1": "90"}})).status_code == 200

    body = await refused(stack, org.post(f"{url}/close"), 422, "turnout_below_minimum", "reason")
    assert "1/4" in body["message"]
    await refused(stack, org.post(f"{url}/close", json={"reason": "  "}), 422, "turnout_below_minimum", "reason")
    assert (await org.get(url)).json()["state"] == "open"
    r = await org.post(f"{url}/close", json={"reason": "三名代表因公缺席"})
    assert r.status_code == 200, r.text
    view = (await org.get(url)).json()
    assert (view["state"], view["close_reason"], view["turnout_text"]) == ("closed", "三名代表因公缺席", "1/4（25%）")
