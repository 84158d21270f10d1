"""A problem to fix (``RectificationItem``, 整改事项), tracked from its opening to its closure."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, rectification_id
from domain.rules import RectificationStatus


class RectificationItem(KaoheAggregate):
    """A problem to fix (整改事项): owner unit, linked evaluation point, deadline, evidence,
    tracked open → in progress → submitted → verified and closed (销号), or sent back."""

    @staticmethod
    def create_id(cycle: str, command_id: str, index: int = 0, **_: Any) -> uuid.UUID:
        return rectification_id(cycle, command_id, index)

    # ------------------------------------------------------------------ events

    class RectificationItemCreated(Aggregate.Created):
        """``source``: "feedback" (one per problem the feedback names) or "manual"."""

        class_version = 1
        cycle: str
        unit: str
        point: str | None
        description: str
        deadline: str
        source: str
        index: int
        actor: str
        role: str
        command_id: str

    class RectificationProgressReported(Aggregate.Event):
        class_version = 1
        text: str
        attachments: list
        actor: str
        role: str
        command_id: str

    class RectificationSubmitted(Aggregate.Event):
        class_version = 1
        text: str
        attachments: list
        actor: str
        role: str
        command_id: str

    class RectificationSentBack(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class RectificationClosed(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class RectificationReminded(Aggregate.Event):
        class_version = 1
        days_left: int
        actor: str
        role: str
        command_id: str

    class RectificationOverdue(Aggregate.Event):
        class_version = 1
        deadline: str
        actor: str
        role: str
        command_id: str

    class RectificationCarriedOver(Aggregate.Event):
        class_version = 1
        to_cycle: str
        actor: str
        role: str
        command_id: str

    # ------------------------------------------------------------------ commands

    @event(RectificationItemCreated)
    def __init__(
        self,
        cycle: str,
        unit: str,
        point: str | None,
        description: str,
        deadline: str,
        source: str,
        index: int,
        actor: str,
        role: str,
        command_id: str,
    ) -> None:
        self.cycle = cycle
        self.unit = unit
        self.point = point
        self.description = description
        self.deadline = deadline
        self.source = source
        self.status = RectificationStatus.OPEN
        self.overdue = False
        self.reports: list[dict[str, Any]] = []
        self.carried_to: list[str] = []
        self.command_ids = {command_id: True}

    @event(RectificationProgressReported)
    def report_progress(self, text: str, attachments: list, actor: str, role: str, command_id: str) -> None:
        self.status = RectificationStatus.IN_PROGRESS
        self.reports.append({"kind": "progress", "text": text, "attachments": attachments, "by": actor})
        self._mark(command_id)

    @event(RectificationSubmitted)
    def submit(self, text: str, attachments: list, actor: str, role: str, command_id: str) -> None:
        self.status = RectificationStatus.SUBMITTED
        self.reports.append({"kind": "completion", "text": text, "attachments": attachments, "by": actor})
        self._mark(command_id)

    @event(RectificationSentBack)
    def send_back(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = RectificationStatus.IN_PROGRESS
        self._mark(command_id)

    @event(RectificationClosed)
    def close(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.status = RectificationStatus.CLOSED
        self._mark(command_id)

    @event(RectificationReminded)
    def remind(self, days_left: int, actor: str, role: str, command_id: str) -> None:
        self._mark(command_id)

    @event(RectificationOverdue)
    def mark_overdue(self, deadline: str, actor: str, role: str, command_id: str) -> None:
        self.overdue = True
        self._mark(command_id)

    @event(RectificationCarriedOver)
    def carry_over(self, to_cycle: str, actor: str, role: str, command_id: str) -> None:
        self.carried_to.append(to_cycle)
        self._mark(command_id)
