"""The workflow engine is not trusted to say who acts (issue 12, gap 4).

The real stack (worker, API, event store) on the dev server; the attacker is a Temporal client
of their own that reaches the frontend's port and sends the cycle workflow a committee member's
confirmation, bypassing the API: unsigned, signed with a key of their own, or carrying a genuine
claim made for another proposal or another command id. The activity refuses each before
anything is stored; the same confirmation through the API still takes effect. A workflow of the
attacker's own, whose timer says a deadline has passed, closes no stage either."""

from __future__ import annotations

import time

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter

from kaohe.runtime import command_claims
from tests.conftest import log_position, temporal_address
from tests.helpers import MEETING, cast, small_cycle
from workflows.claims import Claims
from workflows.cycle import ConfirmDecision, CycleWorkflow
from workflows.messages import SignedActor, cycle_workflow_id


def refusal(err: pytest.ExceptionInfo) -> str:
    """The code of an update's refusal."""
    cause = err.value.cause
    details = cause.details[0] if getattr(cause, "details", None) else {}
    return details.get("code", cause.message)


async def test_a_command_with_a_forged_actor_sent_straight_to_temporal_is_refused_and_stores_nothing(stack, client, temporal_env):
    await cast(client)
    key = await small_cycle(client, "allocation")
    r = await client.as_("com").post(f"/cycles/{key}/allocation/approve", json={"reason": "同意", **MEETING})
    assert r.status_code == 200 and r.json()["effective"] is False, r.text
    proposal = r.json()["proposal"]  # com proposed; the second confirmation (com2's) publishes the results

    attacker = await Client.connect(temporal_address(temporal_env), data_converter=pydantic_data_converter)
    handle = attacker.get_workflow_handle(cycle_workflow_id(stack.settings.task_queue, key))
    before = log_position(stack)
    genuine = command_claims(stack.settings)  # the stack's own key, to make genuine claims for other commands
    now = int(time.time())
    own_key = Claims("an attacker's own key, 32 chars or more")

    def confirm(claim: str | None, proposal_id: str = proposal) -> ConfirmDecision:
        return ConfirmDecision(SignedActor("com2", "committee", None, claim), proposal_id)

    def claim_for(claims: Claims, command_id: str, proposal_id: str) -> str:
        return claims.signed("Cycle", "confirm_decision", confirm(None, proposal_id), {"cycle": key}, command_id).actor.claim

    attempts = {
        "unsigned": (confirm(None), "unsigned_command"),
        "made-up": (confirm(f"v1.{now}.{'0' * 64}"), "forged_command"),
        "malformed": (confirm("not a claim"), "forged_command"),
        "own-key": (confirm(claim_for(own_key, "forged/own-key", proposal)), "forged_command"),
        # a genuine claim, made for confirming another proposal: the proposal id was altered
        "altered": (confirm(claim_for(genuine, "forged/altered", "another-proposal")), "forged_command"),
        # a genuine claim for this very confirmation, spent under another command id (a replay)
        "replayed": (confirm(claim_for(genuine, "com2/the-original-id", proposal)), "forged_command"),
    }
    for name, (command, code) in attempts.items():
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(CycleWorkflow.confirm_decision, command, id=f"forged/{name}", result_type=dict)
        assert refusal(err) == code, name

    assert log_position(stack) == before  # nothing stored
    assert (await client.as_("org").get(f"/cycles/{key}/results")).status_code == 409  # not published
    pending = (await client.as_("com2").get(f"/cycles/{key}/proposals?pending=true")).json()
    assert [(p["id"], p["confirmed_by"]) for p in pending] == [(proposal, ["com"])]

    # the same member through the API: signed by the API, it takes effect
    r = await client.as_("com2").post(f"/cycles/{key}/proposals/{proposal}/confirm")
    assert r.status_code == 200 and r.json()["effective"] is True, r.text
    assert (await client.as_("org").get(f"/cycles/{key}/results")).status_code == 200


async def test_a_workflow_of_an_attackers_own_cannot_declare_a_deadline_missed(stack, client, temporal_env):
    """Steps the workflows take on their own carry no claim; a Cycle workflow started by someone
    who reaches Temporal, claiming the self-review deadline passed an hour ago, closes nothing:
    the worker checks the deadline against the event store."""
    from datetime import datetime, timedelta, timezone

    from temporalio.client import WorkflowFailureError

    from workflows.messages import CycleState

    await cast(client)
    key = await small_cycle(client, "self_review")
    attacker = await Client.connect(temporal_address(temporal_env), data_converter=pydantic_data_converter)
    before = log_position(stack)
    past = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    state = CycleState(cycle=key, units={}, point_max={}, categories={}, deadlines={"self_review": past},
                       stages={"self_review": "open"}, status="open", children_started=True)
    handle = await attacker.start_workflow(CycleWorkflow.run, state, id=f"attacker/{key}", task_queue=stack.settings.task_queue)
    with pytest.raises(WorkflowFailureError) as err:
        await handle.result()
    cause = err.value.cause
    while cause is not None and not getattr(cause, "details", None):
        cause = cause.cause
    assert cause.details[0]["code"] == "not_the_deadline"
    assert log_position(stack) == before
    cycle = (await client.as_("org").get(f"/cycles/{key}")).json()
    assert cycle["stages"]["self_review"] == "open"
