"""The actor claim (``workflows.claims``) on its own: what the API signs is exactly what the
activity checks, and any change to it — actor, use case, command id, a field, the key, the age —
is refused with a non-retryable error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.exceptions import ApplicationError

from domain.rules import Actor
from workflows import steps
from workflows.claims import USE_CASES, Claims
from workflows.cycle import OverrideGrade, ProposeAdjustment
from workflows.messages import SignedActor

KEY = "a shared key of thirty-two chars!"
COM = Actor("com", "committee")
NOW = 1_800_000_000.0


def claims(clock: float = NOW, key: str = KEY) -> Claims:
    return Claims(key, ttl_seconds=3600, clock=lambda: clock)


def step_of(cmd: OverrideGrade, command_id: str = "com/1", cycle: str = "c1") -> steps.OverrideGradeStep:
    """The step the cycle workflow builds from the (signed) command, as the activity receives it."""
    return steps.OverrideGradeStep(cycle, cmd.unit, cmd.grade, cmd.reason, cmd.actor, command_id,
                                   cmd.meeting_date, cmd.minute_number, cmd.members)


def signed(cmd: OverrideGrade, command_id: str = "com/1") -> OverrideGrade:
    return claims().signed("Cycle", "override_grade", cmd, {"cycle": "c1"}, command_id)


def refused(step, use_case: str = "override_grade", at: float = NOW, key: str = KEY) -> str:
    with pytest.raises(ApplicationError) as err:
        claims(at, key).checked(use_case, step)
    assert err.value.non_retryable
    return err.value.details[0]["code"]


CMD = OverrideGrade(COM, "U1", "excellent", "党委会决定", "2026-03-20", "3号", {"com": None, "com2": None})


def test_a_signed_command_passes_and_reaches_the_domain_with_a_plain_actor():
    cmd = signed(CMD)
    assert isinstance(cmd.actor, SignedActor) and cmd.actor.claim.startswith("v1.")
    out = claims(NOW + 60).checked("override_grade", step_of(cmd))
    assert type(out.actor) is Actor and out.actor == COM


def test_unsigned_altered_misused_or_expired_claims_are_refused():
    cmd = signed(CMD)
    assert refused(step_of(CMD)) == "unsigned_command"  # a plain actor, no claim
    # another actor under the claim: a committee member named by someone else
    other = SignedActor("com2", "committee", None, cmd.actor.claim)
    assert refused(step_of(OverrideGrade(other, *[getattr(cmd, f) for f in ("unit", "grade", "reason", "meeting_date", "minute_number", "members")]))) == "forged_command"
    altered = OverrideGrade(cmd.actor, "U1", "poor", cmd.reason, cmd.meeting_date, cmd.minute_number, cmd.members)
    assert refused(step_of(altered)) == "forged_command"  # the grade changed
    assert refused(step_of(cmd, cycle="c2")) == "forged_command"  # sent to another cycle
    assert refused(step_of(cmd, command_id="com/2")) == "forged_command"  # replayed under a new id
    assert refused(step_of(cmd), use_case="resolve_tie") == "forged_command"  # spent on another use case
    assert refused(step_of(cmd), key="another key, thirty-two chars long") == "forged_command"
    assert refused(step_of(cmd), at=NOW + 3601) == "expired_command"
    assert refused(step_of(cmd), at=NOW - 3600) == "expired_command"  # dated far in the future


def test_values_sign_as_they_travel_a_decimal_is_its_string():
    """The API signs ``Decimal("1.5")``; the worker's step holds ``"1.5"`` (the converter's JSON)."""
    cmd = claims().signed("Cycle", "propose_adjustment", ProposeAdjustment(COM, "U1", "bonus", "先进", Decimal("1.5")), {"cycle": "c1"}, "org/1")
    step = steps.ProposeAdjustmentStep("c1", "U1", "bonus", "1.5", None, "先进", "", cmd.actor, "org/1")
    claims().checked("propose_adjustment", step)


def test_every_update_a_person_sends_is_signed_for_its_step_and_each_step_field_comes_from_the_command_or_target():
    import dataclasses
    import typing

    from temporalio import workflow

    from workflows.cycle import CycleWorkflow
    from workflows.debrief import DebriefWorkflow
    from workflows.rectification import RectificationWorkflow
    from workflows.unit import UnitWorkflow

    targets = {"Cycle": {"cycle"}, "UnitAssessment": {"cycle", "unit"}, "DebriefSession": {"cycle", "cohort"}, "RectificationItem": {"cycle", "item"}}
    for cls in (CycleWorkflow, UnitWorkflow, DebriefWorkflow, RectificationWorkflow):
        defn = workflow._Definition.must_from_class(cls)
        updates = set(defn.updates) - {"cast_ballot"}  # kept for old histories, sent by nobody
        assert updates == {u for w, u in USE_CASES if w == defn.name}, defn.name
        for name in updates:
            command = typing.get_type_hints(defn.updates[name].fn)["cmd"]
            _, step = USE_CASES[(defn.name, name)]
            given = {f.name for f in dataclasses.fields(command)} | targets[defn.name] | {"command_id"}
            assert {f.name for f in dataclasses.fields(step)} <= given, (defn.name, name)
