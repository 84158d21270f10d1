"""Self-reviews and scorings go straight to the domain, as ballot sheets do: many people make them
at once and the unit's workflow does not branch on them, so they take no Temporal update (at most
10 in flight per workflow, 2,000 in all) and no workflow round trip. The aggregate checks the stage,
the actor and the scores once; two writers racing for one unit get one acceptance and one clear
refusal, never a 5xx."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import log_position
from tests.helpers import cast, small_cycle
from workflows.messages import cycle_workflow_id, unit_workflow_id

pytestmark = pytest.mark.temporal

SCORES = {"1.1.1": "6", "1.1.2": "3.5"}


async def _updates(stack, key: str, unit: str) -> list[str]:
    wid = unit_workflow_id(cycle_workflow_id(stack.settings.task_queue, key), unit)
    history = await stack.client.get_workflow_handle(wid).fetch_history()
    return [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]


async def test_ten_evaluators_racing_for_one_unit_get_one_acceptance(client, stack):
    await cast(client)
    for i in range(10):
        await client.user(f"eva{i}", "evaluator")
    key = await small_cycle(client, "scoring")
    before = log_position(stack)

    answers = await asyncio.gather(
        *(client.as_(f"eva{i}").post(f"/cycles/{key}/units/U1/scoring", json={"scores": SCORES}) for i in range(10))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 9, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"already_submitted"}
    stored = [
        stack.app.mapper.to_domain_event(n) for n in stack.app.recorder.select_notifications(start=before + 1, limit=100)
    ]
    assert [type(e).__qualname__ for e in stored] == ["UnitAssessment.ScoringSubmitted"]
    # The unit's workflow took no update for it (nor for the self-reviews before it).
    assert await _updates(stack, key, "U1") == []
    # What the read models show: U1 scored (work score from its points), U2 not yet.
    units = {u["unit"]: u for u in (await client.as_("org").get(f"/cycles/{key}/units")).json()}
    assert units["U1"]["scored"] is True and units["U2"]["scored"] is False


async def test_a_scoring_after_the_stage_closed_is_refused_by_the_domain(client, stack):
    await cast(client)
    key = await small_cycle(client, "debrief")  # scoring closed
    before = log_position(stack)
    r = await client.as_("eva").post(f"/cycles/{key}/units/U1/scoring", json={"scores": SCORES})
    assert r.status_code == 409 and r.json()["code"] == "stage_not_open" and r.json()["field"] == "stage"
    r = await client.as_("u1").post(f"/cycles/{key}/units/U1/self-review", json={"scores": SCORES})
    assert r.status_code == 409 and r.json()["code"] == "stage_not_open"
    assert log_position(stack) == before


async def test_feedback_is_issued_through_the_workflow_and_acknowledged_straight_to_the_domain(client, stack):
    await cast(client)
    key = await small_cycle(client, "published")
    r = await client.as_("u1").post(f"/cycles/{key}/units/U1/feedback/acknowledge")
    assert r.status_code == 409 and r.json()["code"] == "feedback_not_issued"
    r = await client.as_("org").post(f"/cycles/{key}/units/U1/feedback", json={"text": "U1：成绩与问题"})
    assert r.status_code == 200, r.text
    r = await client.as_("u1").post(f"/cycles/{key}/units/U1/feedback/acknowledge")
    assert r.status_code == 200, r.text
    assert stack.app.unit(key, "U1").feedback_status == "acknowledged"
    # Issuing opens rectification items (process: their timers), so it is a workflow step; the
    # acknowledgement is not.
    assert await _updates(stack, key, "U1") == ["issue_feedback"]
