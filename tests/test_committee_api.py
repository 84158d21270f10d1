"""The committee decides as a body, end to end over HTTP (SQLite and PostgreSQL): a decision
proposed by one member waits in the second member's inbox (not the proposer's, not an attached
member's) and takes effect only when confirmed; refusals are 4xx JSON and store nothing."""

from __future__ import annotations

from tests.helpers import MEETING, cast, small_cycle


def kinds(tasks: list[dict], key: str) -> list[str]:
    return [t["kind"] for t in tasks if t["cycle"] == key]


async def test_an_adjustment_waits_for_the_second_member_and_takes_effect_when_confirmed(client):
    await cast(client)
    key = await small_cycle(client, "adjustments")
    r = await client.as_("org").post(f"/cycles/{key}/adjustments", json={"unit": "U1", "kind": "bonus", "points": "1", "reason": "获评先进"})
    adj = r.json()["adjustment"]
    # no meeting, a malformed one: 422 naming the field
    for body, field in (({}, "meeting_date"), ({"meeting_date": "2026-13-01", "minute_number": "3"}, "meeting_date"),
                        ({"meeting_date": "2026-03-20"}, "minute_number")):
        r = await client.as_("com").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve", **body})
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    # the member attached to U1 proposes nothing on U1
    r = await client.as_("com-u1").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve", **MEETING})
    assert r.status_code == 403 and r.json()["code"] == "attached_to_unit", r.text

    r = await client.as_("com").post(f"/cycles/{key}/adjustments/{adj}/decision", json={"decision": "approve", "reason": "属实", **MEETING})
    assert r.status_code == 200, r.text
    proposal = r.json()["proposal"]
    assert r.json()["effective"] is False
    assert (await client.as_("com").get(f"/cycles/{key}/adjustments")).json()[0]["status"] == "pending"

    inbox = lambda who: client.as_(who).get("/tasks")  # noqa: E731
    assert "confirm_decision" in kinds((await inbox("com2")).json(), key)
    assert "confirm_decision" not in kinds((await inbox("com")).json(), key)  # the proposer
    assert "confirm_decision" not in kinds((await inbox("com-u1")).json(), key)  # attached to U1
    listed = (await client.as_("com2").get(f"/cycles/{key}/proposals?pending=true")).json()
    assert [(p["id"], p["confirmed_by"], p["meeting_date"]) for p in listed] == [(proposal, ["com"], "2026-03-20")]

    r = await client.as_("com-u1").post(f"/cycles/{key}/proposals/{proposal}/confirm")
    assert r.status_code == 403 and r.json()["code"] == "attached_to_unit", r.text
    r = await client.as_("com").post(f"/cycles/{key}/proposals/{proposal}/confirm")
    assert r.status_code == 409 and r.json()["code"] == "already_confirmed", r.text

    r = await client.as_("com2").post(f"/cycles/{key}/proposals/{proposal}/confirm")
    assert r.status_code == 200 and r.json()["effective"] is True, r.text
    assert (await client.as_("com").get(f"/cycles/{key}/adjustments")).json()[0]["status"] == "approved"
    assert "confirm_decision" not in kinds((await inbox("com2")).json(), key)
    r = await client.as_("com2").post(f"/cycles/{key}/proposals/{proposal}/confirm")
    assert r.status_code == 409 and r.json()["code"] == "proposal_not_pending", r.text


async def test_the_allocation_is_published_only_when_the_second_member_confirms(client):
    await cast(client)
    key = await small_cycle(client, "allocation")
    r = await client.as_("com").post(f"/cycles/{key}/allocation/approve", json={"reason": "同意", **MEETING})
    assert r.status_code == 200 and r.json()["effective"] is False, r.text
    assert (await client.as_("org").get(f"/cycles/{key}/results")).status_code == 409  # not published
    r = await client.as_("com2").post(f"/cycles/{key}/proposals/{r.json()['proposal']}/confirm")
    assert r.status_code == 200 and r.json()["effective"], r.text
    results = (await client.as_("org").get(f"/cycles/{key}/results")).json()
    # U1 F = 94.40 takes the one excellent place (q = floor(0.5 × 2) = 1); U2 F = 80.90 good
    assert {u: (v["final_score"], v["grade"]) for u, v in results["units"].items()} == {"U1": ("94.40", "excellent"), "U2": ("80.90", "good")}


async def test_too_few_members_who_may_decide_is_refused_at_once_naming_the_unit(client):
    await cast(client)  # com, com2 and com-u1 (attached to U1)
    key = await small_cycle(client, "allocation", policy={"committee_quorum": 3})
    r = await client.as_("com").post(f"/cycles/{key}/allocation/overrides", json={"unit": "U1", "grade": "good", "reason": "党委会研究", **MEETING})
    assert r.status_code == 409 and r.json()["code"] == "quorum_unreachable", r.text
    assert "U1" in r.json()["message"]
    listed = (await client.as_("com").get(f"/cycles/{key}/proposals")).json()
    assert listed == []  # nothing stored
