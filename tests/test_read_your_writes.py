"""Reading one's own writes without waiting for a poll (issue 8).

The projection runner's poll is set to 30 s here, so every figure below that stays well under
that can only come from a wake-up: the event store telling the runner in process, a waiter
kicking it, or PostgreSQL's NOTIFY from another writer. The bounds are generous (a shared,
noisy machine); the speed targets live in bench/latency.py.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from domain.application import Assessments
from domain.rules import Actor
from kaohe.runtime import build_app
from tests.helpers import TINY_SCHEME, cast

pytestmark = pytest.mark.temporal

POLL = 30.0
FAR_UNDER_POLL = 5.0


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"projection_poll_seconds": POLL})


def _create(app: Assessments, key: str) -> int:
    out = app.create_cycle(
        key, 2026, "直接写入的周期", None, {"grassroots_branch": TINY_SCHEME}, None, None,
        Actor("org", "organizer", None), f"org/{key}",
    )
    return out.to_dict()["position"]


async def _visible(client, key: str) -> float:
    """Seconds until GET /cycles/{key} finds the cycle (reads never wait for the projection)."""
    started = time.monotonic()
    while time.monotonic() - started < POLL:
        r = await client.as_("org").get(f"/cycles/{key}")
        if r.status_code == 200:
            return time.monotonic() - started
        assert r.status_code == 404, r.text
        await asyncio.sleep(0.02)
    return POLL


async def test_a_write_through_the_api_reads_itself_at_once(stack, client):
    await cast(client)
    org = client.as_("org")
    started = time.monotonic()
    r = await org.post("/cycles", json={"key": "ryw", "year": 2026, "name": "读己所写", "schemes": {"grassroots_branch": TINY_SCHEME}})
    assert r.status_code == 201, r.text  # the answer is read back from the read models
    r = await org.post("/cycles/ryw/units", json={"units": [{"key": "U1", "name": "第一支部", "org_type": "grassroots_branch"}]})
    assert r.status_code == 201, r.text
    r = await org.get("/cycles/ryw")
    assert r.json()["progress"]["units"] == 1
    assert time.monotonic() - started < FAR_UNDER_POLL


async def test_an_event_stored_in_process_wakes_the_runner(stack, client):
    """Nobody waits here: the event store's own hook (the worker's path) wakes the runner."""
    await cast(client)
    position = await asyncio.to_thread(_create, stack.app, "hook")
    assert await _visible(client, "hook") < FAR_UNDER_POLL
    assert stack.runner.applied >= position


async def test_a_waiter_is_woken_when_its_position_is_applied(stack):
    """Threads and the event loop alike wake as soon as their position is in the read models."""
    position = await asyncio.to_thread(_create, stack.app, "waited")
    assert await stack.runner.until(position + 0, timeout=FAR_UNDER_POLL)
    assert await asyncio.to_thread(stack.runner.wait_for, position, FAR_UNDER_POLL)
    # A position not written yet times out (False), it does not raise or return early.
    assert await stack.runner.until(position + 10_000, timeout=0.2) is False

    done = threading.Event()
    later = threading.Thread(target=lambda: (stack.runner.wait_for(position + 1, FAR_UNDER_POLL), done.set()))
    later.start()
    await asyncio.to_thread(_create, stack.app, "waited-2")
    await asyncio.to_thread(later.join, FAR_UNDER_POLL)
    assert done.is_set()


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_write_by_another_process_wakes_the_runner_by_notify(stack, client, settings):
    """Another Assessments (as a separate worker process would be) writes to the same PostgreSQL
    database: NOTIFY, sent in the insert's own transaction, wakes this stack's runner."""
    await cast(client)
    deadline = time.monotonic() + FAR_UNDER_POLL
    while not stack.runner.listening and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert stack.runner.listening
    other = build_app(settings)
    try:
        assert other is not stack.app
        position = await asyncio.to_thread(_create, other, "elsewhere")
        assert await _visible(client, "elsewhere") < FAR_UNDER_POLL
        assert stack.runner.applied >= position
    finally:
        other.close()
