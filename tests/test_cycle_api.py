"""A small cycle through the real API, worker, event store and projections, on both stores."""

from __future__ import annotations

import pytest

from tests.conftest import log_position
from tests.helpers import cast, small_cycle

pytestmark = pytest.mark.temporal


async def test_small_cycle_publishes_grades_worked_by_hand(client, stack):
    await cast(client)
    key = await small_cycle(client, "published")
    r = await client.as_("org").get(f"/cycles/{key}/results")
    assert r.status_code == 200, r.text
    units = r.json()["units"]
    # U1: W = 100 × (6 + 3.5) / 10 = 95.00; D = mean(95, 93, 91) = 93.00 (3 < 5 ballots: no trim)
    #     C = 0.7 × 95 + 0.3 × 93 = 66.5 + 27.9 = 94.40; F = 94.40
    # U2: W = 100 × 8 / 10 = 80.00; D = mean(85, 83, 81) = 83.00; C = 56 + 24.9 = 80.90
    # n = 2 → q = floor(0.5 × 2) = 1: U1 (F ≥ 90) is excellent; U2 (80.90 ≥ 80) is good.
    assert units["U1"]["work_score"] == "95.00"
    assert units["U1"]["debrief_score"] == "93.00"
    assert units["U1"]["final_score"] == "94.40"
    assert units["U1"]["grade"] == "excellent" and units["U1"]["rank"] == 1
    assert units["U2"]["composite"] == "80.90"
    assert units["U2"]["grade"] == "good" and units["U2"]["rank"] == 2
    assert r.json()["distribution"] == {"grassroots_branch": {"excellent": 1, "good": 1, "average": 0, "poor": 0}}
    # The audit replay (events alone, no read model) agrees with what the API published.
    assert stack.app.results(key) == r.json()


async def test_a_retried_command_stores_nothing_twice(client, stack):
    await cast(client)
    key = await small_cycle(client, "self_review")
    body = {"scores": {"1.1.1": "5", "1.1.2": "3"}}
    headers = {"Idempotency-Key": "retry-me"}
    first = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json=body, headers=headers)
    assert first.status_code == 200, first.text
    before = log_position(stack)
    again = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert log_position(stack) == before
    # A new key is a new command, and the unit has already submitted: refused, nothing stored.
    other = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json=body)
    assert other.status_code == 409 and other.json()["code"] == "already_submitted"
    assert log_position(stack) == before


async def test_inbox_follows_the_stages(client, stack):
    await cast(client)
    key = await small_cycle(client, "self_review")
    tasks = (await client.as_("u1").get("/tasks")).json()
    assert [t["kind"] for t in tasks] == ["submit_self_review"] and tasks[0]["unit"] == "U1"
    assert (await client.as_("u2").get("/tasks")).json()[0]["unit"] == "U2"
    assert (await client.as_("eva").get("/tasks")).json() == []  # scoring not open yet
    await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json={"scores": {"1.1.1": "5", "1.1.2": "3"}})
    assert (await client.as_("u1").get("/tasks")).json() == []
    await client.as_("org").post(f"/cycles/{key}/stages/scoring/open")
    # U1 submitted, so the evaluator may score it; U2 has not and self-review is still open.
    assert [t["unit"] for t in (await client.as_("eva").get("/tasks")).json()] == ["U1"]
