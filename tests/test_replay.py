"""Determinism: the committed histories of a whole cycle replay on today's workflow code.

``tests/data/histories/{cycle,unit,debrief}.json`` were recorded from a real cycle (the
cycle workflow, unit ``U1``'s workflow and the debrief session's workflow) by
``tests/data/record_histories.py``. Regenerate them — only when a change is *meant* to be
incompatible and no cycle recorded with the old code is still running — from the repository
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
EXPECTED_TYPES = {"cycle": "Cycle", "unit": "UnitAssessment", "debrief": "DebriefSession"}
#: The recorded workflow ids: a replay must use them (the cycle derives its children's ids from its own).
IDS = json.loads((HISTORIES / "ids.json").read_text("utf-8"))


def load(name: str) -> WorkflowHistory:
    text = (HISTORIES / f"{name}.json").read_text("utf-8")
    started = json.loads(text)["events"][0]
    assert started["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert started["workflowExecutionStartedEventAttributes"]["workflowType"]["name"] == EXPECTED_TYPES[name]
    return WorkflowHistory.from_json(IDS[name], text)


def replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner())


@pytest.mark.parametrize("name", sorted(EXPECTED_TYPES))
async def test_recorded_history_replays(name: str) -> None:
    history = load(name)
    result = await replayer().replay_workflow(history)  # raises on nondeterminism
    assert result.replay_failure is None


async def test_all_histories_replay_together() -> None:
    """One replayer, several histories: what an upgraded worker meets after a restart."""
    async def histories() -> AsyncIterator[WorkflowHistory]:
        for name in sorted(EXPECTED_TYPES):
            yield load(name)

    results = await replayer().replay_workflows(histories(), raise_on_replay_failure=False)
    assert results.replay_failures == {}
