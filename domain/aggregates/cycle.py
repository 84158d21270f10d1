"""The cycle: one assessment round — its policy, schemes, units, stages and the committee's
decisions (ties, overrides, approval), then the results and their use."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain import stages as stage_machine
from domain.aggregates.base import KaoheAggregate, cycle_id
from domain.rules import ProposalStatus, Subject
from domain.stages import CycleStatus


class Cycle(KaoheAggregate):
    """One assessment round: its policy, schemes, units, stages and committee decisions."""

    @staticmethod
    def create_id(key: str, **_: Any) -> uuid.UUID:
        return cycle_id(key)

    # ------------------------------------------------------------------ events

    class CycleCreated(Aggregate.Created):
        class_version = 1
        key: str
        year: int
        name: str
        policy: dict
        schemes: dict
        categories: dict
        deadlines: dict
        actor: str
        role: str
        command_id: str

    class UnitRegistered(Aggregate.Event):
        class_version = 1
        unit: str
        name: str
        org_type: str
        actor: str
        role: str
        command_id: str

    class EvaluatorsAssigned(Aggregate.Event):
        """The evaluators who score ``unit`` (SPEC §1 "Evaluators"): only they may. An empty
        list takes the assignment back: every evaluator may score the unit again (the default).
        ``previous`` is what it replaced (None: no assignment, all evaluators)."""

        class_version = 1
        unit: str
        evaluators: list
        previous: list | None
        actor: str
        role: str
        command_id: str

    class CycleOpened(Aggregate.Event):
        class_version = 1
        actor: str
        role: str
        command_id: str

    class StageOpened(Aggregate.Event):
        class_version = 1
        stage: str
        actor: str
        role: str
        command_id: str

    class StageClosed(Aggregate.Event):
        class_version = 1
        stage: str
        actor: str
        role: str
        command_id: str
        reason: str

    class DeadlineSet(Aggregate.Event):
        """``deadline`` None clears it; ``previous`` is what it replaced."""

        class_version = 1
        stage: str
        deadline: str | None
        previous: str | None
        actor: str
        role: str
        command_id: str

    class StageDeadlineMissed(Aggregate.Event):
        class_version = 1
        stage: str
        deadline: str
        actor: str
        role: str
        command_id: str

    class AdjustmentFiled(Aggregate.Event):
        class_version = 1
        adjustment: str
        unit: str
        actor: str
        role: str
        command_id: str

    class RectificationFiled(Aggregate.Event):
        class_version = 1
        item: str
        unit: str
        actor: str
        role: str
        command_id: str

    class DecisionProposed(Aggregate.Event):
        """A committee member proposes, at a meeting, a decision on the allocation (``subject``:
        tie, override, approve_allocation, reject_allocation; ``details``: its cohort and units,
        or its unit and grade); ``concerns``: the units it concerns. The proposal is the
        proposer's confirmation; it takes effect when the quorum has confirmed it (SPEC §1)."""

        class_version = 1
        proposal: str
        subject: str
        details: dict
        concerns: list
        reason: str
        meeting_date: str
        minute_number: str
        actor: str
        role: str
        command_id: str

    class DecisionConfirmed(Aggregate.Event):
        class_version = 1
        proposal: str
        actor: str
        role: str
        command_id: str

    class DecisionObjected(Aggregate.Event):
        """A member objects: the proposal ends without effect (a new one may follow)."""

        class_version = 1
        proposal: str
        reason: str
        actor: str
        role: str
        command_id: str

    class TieResolved(Aggregate.Event):
        class_version = 1
        cohort: str
        units: list
        reason: str
        actor: str
        role: str
        command_id: str

    class GradeOverridden(Aggregate.Event):
        class_version = 1
        unit: str
        grade: str
        previous: str | None
        reason: str
        actor: str
        role: str
        command_id: str

    class AllocationRejected(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class AllocationApproved(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class ResultsPublished(Aggregate.Event):
        class_version = 1
        results: dict
        actor: str
        role: str
        command_id: str

    class ReportSuggestionsSet(Aggregate.Event):
        class_version = 1
        text: str
        previous: str
        actor: str
        role: str
        command_id: str

    class ResultsUsePolicySet(Aggregate.Event):
        class_version = 1
        policy: dict
        previous: dict | None
        actor: str
        role: str
        command_id: str

    class BusinessGradesImported(Aggregate.Event):
        class_version = 1
        grades: dict
        file_sha256: str
        actor: str
        role: str
        command_id: str

    class CycleClosed(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    # ------------------------------------------------------------------ commands

    @event(CycleCreated)
    def __init__(
        self,
        key: str,
        year: int,
        name: str,
        policy: dict,
        schemes: dict,
        categories: dict,
        deadlines: dict,
        actor: str,
        role: str,
        command_id: str,
    ) -> None:
        self.key = key
        self.year = year
        self.name = name
        self.policy = policy
        self.schemes = schemes
        self.categories = categories
        self.deadlines = dict(deadlines)
        self.status = CycleStatus.SETUP
        self.stages = stage_machine.initial()
        self.units: dict[str, dict[str, str]] = {}
        self.assignments: dict[str, list[str]] = {}  # unit → the evaluators assigned to score it (none: all)
        self.adjustments: list[str] = []
        self.ties: dict[str, list[str]] = {}
        self.overrides: dict[str, dict[str, str]] = {}
        self.missed: list[str] = []
        self.results: dict | None = None
        self.rectifications: list[str] = []
        self.suggestions = ""  # the special report's suggestions, once set
        self.results_use: dict | None = None  # the results-use policy, once set
        self.business_grades: dict[str, Any] = {}  # imported business grades, once imported
        self.proposals: dict[str, dict] = {}  # the committee's proposals on the allocation, by id
        self.command_ids = {command_id: True}

    @event(UnitRegistered)
    def register_unit(self, unit: str, name: str, org_type: str, actor: str, role: str, command_id: str) -> None:
        self.units[unit] = {"name": name, "org_type": org_type}
        self._mark(command_id)

    @event(EvaluatorsAssigned)
    def assign_evaluators(self, unit: str, evaluators: list, previous: list | None, actor: str, role: str, command_id: str) -> None:
        if evaluators:
            self.assignments[unit] = list(evaluators)
        else:
            self.assignments.pop(unit, None)
        self._mark(command_id)

    @event(CycleOpened)
    def open(self, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.cycle_opened())
        self._mark(command_id)

    @event(StageOpened)
    def open_stage(self, stage: str, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.stage_opened(stage))
        self._mark(command_id)

    @event(StageClosed)
    def close_stage(self, stage: str, actor: str, role: str, command_id: str, reason: str = "") -> None:
        self._advance(stage_machine.stage_closed(stage))
        self._mark(command_id)

    @event(DeadlineSet)
    def set_deadline(self, stage: str, deadline: str | None, previous: str | None, actor: str, role: str, command_id: str) -> None:
        if deadline is None:
            self.deadlines.pop(stage, None)
        else:
            self.deadlines[stage] = deadline
        self._mark(command_id)

    @event(StageDeadlineMissed)
    def deadline_missed(self, stage: str, deadline: str, actor: str, role: str, command_id: str) -> None:
        self.missed.append(stage)
        self._mark(command_id)

    @event(AdjustmentFiled)
    def file_adjustment(self, adjustment: str, unit: str, actor: str, role: str, command_id: str) -> None:
        self.adjustments.append(adjustment)
        self._mark(command_id)

    @event(RectificationFiled)
    def file_rectification(self, item: str, unit: str, actor: str, role: str, command_id: str) -> None:
        self.rectifications.append(item)
        self._mark(command_id)

    @event(DecisionProposed)
    def propose_decision(
        self, proposal: str, subject: str, details: dict, concerns: list, reason: str, meeting_date: str, minute_number: str,
        actor: str, role: str, command_id: str,
    ) -> None:
        self.proposals[proposal] = {
            "id": proposal, "subject": subject, "details": dict(details), "reason": reason,
            "meeting_date": meeting_date, "minute_number": minute_number, "proposer": actor,
            "confirmed_by": [actor], "concerns": list(concerns), "status": ProposalStatus.PENDING, "objection": None,
        }
        self._mark(command_id)

    @event(DecisionConfirmed)
    def confirm_decision(self, proposal: str, actor: str, role: str, command_id: str) -> None:
        self.proposals[proposal]["confirmed_by"].append(actor)
        self._mark(command_id)

    @event(DecisionObjected)
    def object_to_decision(self, proposal: str, reason: str, actor: str, role: str, command_id: str) -> None:
        self.proposals[proposal]["status"] = ProposalStatus.OBJECTED
        self.proposals[proposal]["objection"] = {"by": actor, "reason": reason}
        self._mark(command_id)

    def pending_proposals(self) -> list[dict]:
        return [p for p in getattr(self, "proposals", {}).values() if p["status"] == ProposalStatus.PENDING]

    def _adopt(self, command_id: str, subject: str, **details: Any) -> None:
        for p in self.pending_proposals():
            if p["subject"] == subject and all(p["details"].get(k) == v for k, v in details.items()):
                p["status"] = ProposalStatus.ADOPTED
                p["effect_command"] = command_id

    @event(TieResolved)
    def resolve_tie(self, cohort: str, units: list, reason: str, actor: str, role: str, command_id: str) -> None:
        self._adopt(command_id, Subject.TIE, cohort=cohort)
        self.ties[cohort] = list(units)
        self._mark(command_id)

    @event(GradeOverridden)
    def override(
        self, unit: str, grade: str, previous: str | None, reason: str, actor: str, role: str, command_id: str
    ) -> None:
        self._adopt(command_id, Subject.OVERRIDE, unit=unit)
        self.overrides[unit] = {"grade": grade, "reason": reason}
        self._mark(command_id)

    @event(AllocationRejected)
    def reject_allocation(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._adopt(command_id, Subject.REJECT_ALLOCATION)
        self._advance(stage_machine.allocation_rejected())
        self.ties = {}
        self.overrides = {}
        self._mark(command_id)

    @event(AllocationApproved)
    def approve_allocation(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._adopt(command_id, Subject.APPROVE_ALLOCATION)
        self._advance(stage_machine.allocation_approved())
        self._mark(command_id)

    @event(ResultsPublished)
    def publish(self, results: dict, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.results_published())
        self.results = results
        self._mark(command_id)

    @event(ReportSuggestionsSet)
    def set_suggestions(self, text: str, previous: str, actor: str, role: str, command_id: str) -> None:
        self.suggestions = text
        self._mark(command_id)

    @event(ResultsUsePolicySet)
    def set_results_use(self, policy: dict, previous: dict | None, actor: str, role: str, command_id: str) -> None:
        self.results_use = policy
        self._mark(command_id)

    @event(BusinessGradesImported)
    def import_business_grades(self, grades: dict, file_sha256: str, actor: str, role: str, command_id: str) -> None:
        self.business_grades = dict(grades)
        self._mark(command_id)

    @event(CycleClosed)
    def close(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._advance(stage_machine.cycle_closed())
        self._mark(command_id)

    # ------------------------------------------------------------------ reading

    def _advance(self, t: stage_machine.Transition) -> None:
        self.stages = t.apply(self.stages)
        if t.status is not None:
            self.status = t.status

    def evaluators_of(self, unit: str) -> list[str] | None:
        """The evaluators assigned to ``unit``, or None: every evaluator may score it."""
        return getattr(self, "assignments", {}).get(unit)

    def cohort_units(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for key, u in self.units.items():
            out.setdefault(u["org_type"], []).append(key)
        return out
