"""Determinism: the committed histories of a whole cycle replay on today's workflow code.

``tests/data/histories/{cycle,unit,debrief}.json`` were recorded by the code before the typed
local steps; ``tests/data/histories/v2/`` (the same cycle, plus one rectification item's
workflow) by the typed steps; ``v3/`` by today's code (rosters, committee proposals confirmed
to the quorum), with ``tests/data/record_histories.py``. Keep the old sets: they stand for the
cycles still running when a worker is upgraded. Re-record v3 — only when a change is *meant* to
be incompatible and no cycle recorded with the old code is still running — from the repository
root with::

    .venv/bin/python tests/data/record_histories.py

A failure here means a workflow change broke running cycles: a cycle started with the
previous code would hit a nondeterminism error when its worker is upgraded. Guard the new
behaviour with ``workflow.patched("...")`` (keeping the old path for old histories) instead of
re-recording.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import AsyncIterator

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.worker import WORKFLOWS, workflow_runner

pytestmark = pytest.mark.temporal

HISTORIES = Path(__file__).resolve().parent / "data" / "histories"
EXPECTED_TYPES = {
    "cycle": "Cycle", "unit": "UnitAssessment", "debrief": "DebriefSession", "rectification": "RectificationItem",
}
#: ``histories/``: recorded before the typed local steps (``kaohe.execute``, stage fan-out to the
#: units, ballots as updates); ``histories/v2/``: the typed steps, before the committee decided as a
#: body; ``histories/v3/``: today's code (rosters, proposals confirmed to the quorum). All must replay.
SETS = {"v1": HISTORIES, "v2": HISTORIES / "v2", "v3": HISTORIES / "v3"}
RECORDED = [(v, name) for v, folder in SETS.items() for name in EXPECTED_TYPES if (folder / f"{name}.json").exists()]


def load(version: str, name: str) -> WorkflowHistory:
    folder = SETS[version]
    ids = json.loads((folder / "ids.json").read_text("utf-8"))  # a replay must use the recorded ids
    text = (folder / f"{name}.json").read_text("utf-8")
    started = json.loads(text)["events"][0]
    assert started["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert started["workflowExecutionStartedEventAttributes"]["workflowType"]["name"] == EXPECTED_TYPES[name]
    return WorkflowHistory.from_json(ids[name], text)


def test_both_sets_are_there() -> None:
    assert {n for v, n in RECORDED if v == "v1"} == {"cycle", "unit", "debrief"}
    assert {n for v, n in RECORDED if v == "v2"} == set(EXPECTED_TYPES)
    assert {n for v, n in RECORDED if v == "v3"} == set(EXPECTED_TYPES)


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner())


@pytest.mark.parametrize(("version", "name"), RECORDED)
async def test_recorded_history_replays(version: str, name: str) -> None:
    history = load(version, name)
    result = await replayer().replay_workflow(history)  # raises on nondeterminism
    assert result.replay_failure is None


async def test_all_histories_replay_together() -> None:
    """One replayer, several histories: what an upgraded worker meets after a restart."""
    async def histories() -> AsyncIterator[WorkflowHistory]:
        for version, name in RECORDED:
            yield load(version, name)

    results = await replayer().replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}
