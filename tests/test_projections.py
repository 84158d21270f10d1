"""Read models are rebuilt from the event log (SPEC §6), exactly once per event; and a cycle
whose workflow continues as new (its history past ``HISTORY_LIMIT``, lowered here to 60)
keeps working and keeps every command idempotent — in the log, and in the workflow's own
copy of the cycle, which decides what it accepts and when its deadline timers fire."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, select
from temporalio.api.enums.v1 import EventType

from domain.aggregates import cycle_id
from kaohe.runtime import Stack
from projections.models import ReadModel
from tests.conftest import Client, log_position
from tests.helpers import cast, decide, small_cycle
from workflows import cycle as cycle_workflow
from workflows import messages
from workflows.messages import CycleState, cycle_workflow_id

pytestmark = pytest.mark.temporal


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every read model (but the tracking position), in primary-key order."""
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for table in ReadModel.metadata.sorted_tables:
            if table.name == "proj_tracking":
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


async def test_rebuilt_read_models_equal_the_live_ones(client: Client, stack: Stack) -> None:
    await cast(client)
    key = await small_cycle(client, "published")
    # A little past the publication, so feedback and deadline events are in the log too.
    org = client.as_("org")
    r = await org.post(f"/cycles/{key}/units/U1/feedback", json={"text": "成绩突出；问题：台账不全"})
    assert r.status_code == 200, r.text
    assert (await client.as_("u1").post(f"/cycles/{key}/units/U1/feedback/acknowledge")).status_code == 200
    await _put_deadline(client, key, "feedback", datetime.now(timezone.utc) + timedelta(days=30), "feedback-deadline")
    runner = stack.runner
    runner.stop()  # no background thread from here on: this test drives the runner itself
    runner.catch_up()
    head = stack.app.recorder.max_notification_id()
    assert runner.position() == head
    live = snapshot(runner.engine)
    assert {t for t, rows in live.items() if rows} >= {
        "proj_cycles", "proj_units", "proj_sessions", "proj_ballots", "proj_results", "proj_distribution",
    }
    assert [r[1] for r in live["proj_results"]] == ["U1", "U2"]
    deadlines = list(ReadModel.metadata.tables["proj_cycles"].columns.keys()).index("deadlines")
    assert "feedback" in live["proj_cycles"][0][deadlines]

    applied = runner.rebuild()
    assert applied == head  # every event of the log, from the first
    assert runner.position() == head
    rebuilt = snapshot(runner.engine)
    for table in live:
        assert rebuilt[table] == live[table], f"{table} differs after the rebuild"

    # Exactly once: the log has nothing new, so another pass applies nothing and changes nothing.
    assert runner.run_once() == 0
    assert runner.position() == head
    assert snapshot(runner.engine) == live
    r = await client.as_("org").get(f"/cycles/{key}/results")
    assert r.status_code == 200 and r.json() == stack.app.results(key)


def _event_type(e: Any) -> str:
    return EventType.Name(e.event_type)


async def _runs(stack: Stack, workflow_id: str) -> tuple[str, str, str]:
    """(first run id, current run id, the run the current one continued from — "" if none)."""
    handle = stack.client.get_workflow_handle(workflow_id)
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    return started.first_execution_run_id, history.run_id, started.continued_execution_run_id


@pytest.mark.parametrize("backend", ["sqlite"])  # Temporal behaviour: one store is enough
async def test_a_cycle_that_continues_as_new_publishes_and_stays_idempotent(
    client: Client, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages, "HISTORY_LIMIT", 60)  # read by the running workflow (passed through)
    await cast(client)
    key = await small_cycle(client, "published")
    wid = cycle_workflow_id(stack.settings.task_queue, key)
    assert wid == f"{stack.settings.task_queue}/{key}"

    # The results, worked by hand as in test_cycle_api: unchanged by the continue-as-new.
    r = await client.as_("org").get(f"/cycles/{key}/results")
    assert r.status_code == 200, r.text
    units = r.json()["units"]
    assert (units["U1"]["work_score"], units["U1"]["debrief_score"], units["U1"]["final_score"]) == ("95.00", "93.00", "94.40")
    assert units["U1"]["grade"] == "excellent" and units["U1"]["rank"] == 1
    assert units["U2"]["composite"] == "80.90" and units["U2"]["grade"] == "good"
    assert r.json()["distribution"] == {"grassroots_branch": {"excellent": 1, "good": 1, "average": 0, "poor": 0}}
    assert stack.app.results(key) == r.json()

    # The cycle workflow did continue as new: its first run ended so.
    first, current, previous = await _runs(stack, wid)
    assert previous and current != first
    first_run = await stack.client.get_workflow_handle(wid, run_id=first).fetch_history()
    assert _event_type(first_run.events[-1]) == "EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW"
    assert len(first_run.events) <= 60 + 20  # it stopped near the limit, not at the server's

    # An update sent with an Idempotency-Key, then retried with it after another continue-as-new.
    start = datetime.now(timezone.utc)
    await _put_deadline(client, key, "feedback", start + timedelta(days=30), "feedback-deadline-retried")
    latest = await _continue_as_new(
        stack, wid, lambda i: _put_deadline(client, key, "feedback", start + timedelta(days=31 + i), f"other-{i}")
    )
    before = log_position(stack)
    await _put_deadline(client, key, "feedback", start + timedelta(days=30), "feedback-deadline-retried")  # same key, same body
    assert log_position(stack) == before  # nothing stored twice
    assert stack.app.cycle(key).deadlines["feedback"] == latest  # the retry did not undo the later commands
    sets = [
        e for e in _cycle_events(stack, key)
        if type(e).__qualname__ == "Cycle.DeadlineSet" and e.command_id == "org/feedback-deadline-retried"
    ]
    assert len(sets) == 1


def _cycle_events(stack: Stack, key: str) -> list[Any]:
    out = []
    for n in stack.app.recorder.select_notifications(start=1, limit=100_000):
        e = stack.app.mapper.to_domain_event(n)
        if e.originator_id == cycle_id(key):
            out.append(e)
    return out


async def _continue_as_new(stack: Stack, wid: str, step: Any, limit: int = 25) -> Any:
    """Call ``step(i)`` (a command that adds to the cycle's history) until the cycle workflow
    has continued as new; return the last step's result."""
    _, run, _ = await _runs(stack, wid)
    last = None
    for i in range(limit):
        last = await step(i)
        if (await _runs(stack, wid))[1] != run:
            return last
    pytest.fail("the cycle workflow did not continue as new")


async def _put_deadline(client: Client, key: str, stage: str, moment: datetime, idem: str) -> str:
    org = client.as_("org")
    deadline = moment.isoformat()
    r = await org.http.put(
        f"/cycles/{key}/deadlines/{stage}", json={"deadline": deadline}, headers={**org.headers, "Idempotency-Key": idem}
    )
    assert r.status_code == 200, r.text
    return deadline


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_deadline_retried_after_continue_as_new_keeps_the_logged_deadline_armed(
    client: Client, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages, "HISTORY_LIMIT", 60)
    await cast(client)
    key = await small_cycle(client, "published")  # the feedback stage is open
    wid = cycle_workflow_id(stack.settings.task_queue, key)
    now = lambda: datetime.now(timezone.utc)  # noqa: E731

    first = now() + timedelta(days=30)
    await _put_deadline(client, key, "feedback", first, "first")
    # Moved (each time to a few seconds ahead) until the workflow has continued as new ...
    latest = await _continue_as_new(
        stack, wid, lambda i: _put_deadline(client, key, "feedback", now() + timedelta(seconds=6), f"moved-{i}")
    )
    before = log_position(stack)
    await _put_deadline(client, key, "feedback", first, "first")  # ... then a late retry, the same request
    assert log_position(stack) == before  # the log is right: nothing stored
    assert stack.app.cycle(key).deadlines["feedback"] == latest

    # The workflow's copy, which arms the timer, must agree with the log ...
    state = await stack.client.get_workflow_handle(wid).query(cycle_workflow.CycleWorkflow.state, result_type=CycleState)
    assert state.deadlines["feedback"] == latest
    # ... so the logged deadline, a few seconds ahead, is missed and recorded as such.
    await _eventually(
        lambda: [e for e in _cycle_events(stack, key) if type(e).__qualname__ == "Cycle.StageDeadlineMissed"],
        timeout=15,
    )


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_proposal_retried_after_continue_as_new_leaves_its_decision_standing(
    client: Client, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(messages, "HISTORY_LIMIT", 60)
    await cast(client)
    key = await small_cycle(client, "adjustments")
    wid = cycle_workflow_id(stack.settings.task_queue, key)
    org = client.as_("org")
    body = {"unit": "U2", "kind": "bonus", "points": "1", "reason": "获评先进"}
    headers = {**org.headers, "Idempotency-Key": "bonus-u2"}
    r = await org.http.post(f"/cycles/{key}/adjustments", json=body, headers=headers)
    assert r.status_code == 201, r.text
    adjustment = r.json()["adjustment"]
    await decide(client, key, adjustment)  # proposed at the meeting, confirmed by a second member

    start = datetime.now(timezone.utc)
    await _continue_as_new(
        stack, wid, lambda i: _put_deadline(client, key, "adjustments", start + timedelta(days=10 + i), f"adj-{i}")
    )
    before = log_position(stack)
    r = await org.http.post(f"/cycles/{key}/adjustments", json=body, headers=headers)  # the retry
    assert r.status_code == 201, r.text
    assert r.json()["adjustment"] == adjustment
    assert log_position(stack) == before
    assert stack.app.adjustment(adjustment).status == "approved"

    # The workflow keeps no copy of the adjustments: the domain, which knows the item is
    # decided, lets the stage close.
    r = await org.post(f"/cycles/{key}/stages/adjustments/close")
    assert r.status_code == 200, r.text


async def _eventually(check: Any, timeout: float) -> Any:
    until = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > until:
            raise AssertionError("timed out")
        await asyncio.sleep(0.2)
