"""End to end over HTTP, on SQLite and PostgreSQL (issue 10, items 3 and 5): the secret ballot
as each role reads an explained grade, and an evaluator refused a unit not assigned to them.

The small cycle's ballots for U1 are 95, 93, 91 (R1, R2, R3): three scores, fewer than
``trim_min_ballots`` (5), so none is dropped: m = (95 + 93 + 91) / 3 = 93, D = 93.00."""

from __future__ import annotations

import json

import pytest

from tests.conftest import log_position
from tests.helpers import cast, small_cycle

pytestmark = pytest.mark.temporal

REPS = ("R1", "R2", "R3")


def _named(body: dict) -> set[str]:
    text = json.dumps(body, ensure_ascii=False)
    return {r for r in REPS if f'"{r}"' in text}


async def test_only_the_auditor_reads_who_gave_which_score(client, stack):
    await cast(client)
    key = await small_cycle(client, "allocation")
    for user in ("org", "com"):
        r = await client.as_(user).get(f"/audit/cycles/{key}/units/U1/explain")
        assert r.status_code == 200, r.text
        d = r.json()["debrief_score"]
        assert _named(r.json()) == set(), user
        assert d["value"] == "93.00"
        assert d["ballot_view"]["view"] == "anonymous" and d["ballot_view"]["turnout"]["cast"] == 3
        (cat,) = d["categories"]
        assert cat["count"] == 3 and cat["mean"] == "93" and cat["trimmed"] is False
        assert [b["score"] for b in cat["ballots"]] == ["95", "93", "91"]
    r = await client.as_("aud").get(f"/audit/cycles/{key}/units/U1/explain")
    assert r.status_code == 200, r.text
    d = r.json()["debrief_score"]
    assert d["value"] == "93.00"
    assert d["ballot_view"]["view"] == "named" and d["ballot_view"]["note"] == "记名：仅审计可见 / named: auditor only"
    assert {b["representative"]: b["score"] for b in d["categories"][0]["ballots"]} == {"R1": "95", "R2": "93", "R3": "91"}
    # the bundle holds the sheets as stored: the auditor's alone
    r = await client.as_("org").get(f"/audit/cycles/{key}/export")
    assert r.status_code == 403 and r.json()["code"] == "secret_ballot", r.text
    assert (await client.as_("aud").get(f"/audit/cycles/{key}/export")).status_code == 200


async def test_an_evaluator_scores_only_the_units_assigned_to_them(client, stack):
    await cast(client)
    await client.user("evb", "evaluator")
    await client.user("eva-u1", "evaluator", unit="U1")
    key = await small_cycle(client, "scoring")
    org = client.as_("org")
    r = await org.put(f"/cycles/{key}/units/U1/evaluators", json={"evaluators": ["evb"]})
    assert r.status_code == 200 and r.json()["evaluators"] == ["evb"], r.text
    assert (await org.get(f"/cycles/{key}/evaluators")).json() == {"U1": ["evb"]}
    tasks = (await client.as_("eva").get("/tasks")).json()
    assert sorted(t["unit"] for t in tasks if t["kind"] == "submit_scoring") == ["U2"]

    before = log_position(stack)
    sheet = {"scores": {"1.1.1": "6", "1.1.2": "3.5"}}
    refusals = [
        (client.as_("eva").post(f"/cycles/{key}/units/U1/scoring", json=sheet), 403, "not_assigned", "unit", ("eva", "U1")),
        (client.as_("eva-u1").post(f"/cycles/{key}/units/U1/scoring", json=sheet), 403, "own_unit", "unit", ("eva-u1", "U1")),
        (org.put(f"/cycles/{key}/units/U1/evaluators", json={"evaluators": ["eva-u1"]}), 409, "own_unit", "evaluators[0]", ("eva-u1", "U1")),
        (org.put(f"/cycles/{key}/units/U2/evaluators", json={"evaluators": ["ghost"]}), 422, "unknown_evaluator", "evaluators[0]", ("ghost", "U2")),
        (org.put(f"/cycles/{key}/units/U2/evaluators", json={"evaluators": ["com"]}), 422, "unknown_evaluator", "evaluators[0]", ("com", "U2")),
        (org.put(f"/cycles/{key}/units/U9/evaluators", json={"evaluators": ["eva"]}), 404, "unit_not_found", "unit", ("U9",)),
        (client.as_("eva").put(f"/cycles/{key}/units/U2/evaluators", json={"evaluators": ["eva"]}), 403, "forbidden", None, ()),
    ]
    for call, status, code, field, named in refusals:
        r = await call
        body = r.json()
        assert r.status_code == status and body["code"] == code and body.get("field") == field, r.text
        assert all(n in body["message"] for n in named), body["message"]
    assert log_position(stack) == before  # nothing stored

    r = await client.as_("evb").post(f"/cycles/{key}/units/U1/scoring", json=sheet)
    assert r.status_code == 200, r.text
    r = await client.as_("eva").post(f"/cycles/{key}/units/U2/scoring", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
    assert r.status_code == 200, r.text
