"""Inputs, carried state and the command envelope shared by workflows and activities."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from temporalio.exceptions import ApplicationError

with __import__("temporalio").workflow.unsafe.imports_passed_through():
    from domain.errors import DomainError
    from domain.rules import Actor

#: Past this many events a workflow continues as new, carrying its state.
HISTORY_LIMIT = 2000
#: How many completed update ids a run carries into the next (idempotency across continue-as-new).
CARRIED_UPDATE_IDS = 5000


def cycle_workflow_id(prefix: str, cycle: str) -> str:
    """``{prefix}/{cycle}``: the prefix (the task queue) keeps installations sharing one
    Temporal namespace apart."""
    return f"{prefix}/{cycle}"


def unit_workflow_id(cycle_workflow: str, unit: str) -> str:
    return f"{cycle_workflow}/unit/{unit}"


def session_workflow_id(cycle_workflow: str, cohort: str) -> str:
    return f"{cycle_workflow}/debrief/{cohort}"


@dataclass(frozen=True)
class SignedActor(Actor):
    """The actor as a command names it, with the API's signature of the command (``claim``,
    see ``workflows.claims``). Optional: histories recorded before it existed still decode;
    the activity refuses a command without one. The domain gets a plain ``Actor``."""

    claim: str | None = field(default=None, compare=False, repr=False)


@dataclass
class Command:
    """A call of one ``Assessments`` use case: its method name and keyword arguments."""

    method: str
    kwargs: dict[str, Any]
    actor: SignedActor
    command_id: str


@dataclass
class AdjustmentInfo:
    unit: str
    proposer: str
    status: str = "pending"


@dataclass
class CycleState:
    cycle: str
    units: dict[str, str]  # unit -> cohort
    point_max: dict[str, dict[str, str]]  # cohort -> point code -> max
    categories: dict[str, str]
    deadlines: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)
    status: str = "setup"
    # No longer kept (the domain checks adjustments and the allocation's problems); the fields
    # stay so that states carried by running cycles still decode.
    adjustments: dict[str, AdjustmentInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    open_sessions: list[str] = field(default_factory=list)
    deadlines_handled: list[str] = field(default_factory=list)
    children_started: bool = False
    done_updates: list[str] = field(default_factory=list)


@dataclass
class UnitState:
    cycle: str
    unit: str
    cohort: str
    point_max: dict[str, str]
    stages: dict[str, str]
    self_review: str = "pending"
    scored: bool = False
    feedback: str = "none"
    done_updates: list[str] = field(default_factory=list)


@dataclass
class SessionState:
    cycle: str
    cohort: str
    secretaries: list[str]
    categories: dict[str, str]
    is_open: bool = True
    cast_by: list[str] = field(default_factory=list)


@dataclass
class Stages:
    stages: dict[str, str]
    missed_units: list[str] = field(default_factory=list)


def to_application_error(err: DomainError) -> ApplicationError:
    """A domain refusal as a Temporal failure that keeps code, message, field and kind."""
    details = {**err.to_dict(), "kind": err.kind}
    return ApplicationError(err.message, details, type=f"kaohe.{err.kind}", non_retryable=True)
