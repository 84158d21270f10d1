"""One rectification item (整改事项) to closure: progress reports, completion with evidence,
verification or send-back; reminders before the deadline and the overdue escalation after it,
all durable timers. A small workflow of its own per item."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import rules
    from workflows.activities import KaoheActivities as A
    from workflows.base import KaoheWorkflow, check, command_id
    from workflows import steps
    from workflows.messages import SignedActor


@dataclass
class ItemState:
    cycle: str
    item: str
    unit: str
    deadline: str
    status: str = "open"
    reminded: list[int] = field(default_factory=list)
    overdue: bool = False
    done_updates: list[str] = field(default_factory=list)


@dataclass
class ReportItem:
    actor: SignedActor
    text: str
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class VerifyItem:
    actor: SignedActor
    decision: str
    reason: str = ""


def rectification_workflow_id(cycle_workflow: str, item: str) -> str:
    return f"{cycle_workflow}/rectification/{item}"


@workflow.defn(name="RectificationItem")
class RectificationWorkflow(KaoheWorkflow):
    @workflow.init
    def __init__(self, state: ItemState) -> None:
        self.state = state
        self.done_updates = state.done_updates
        self.lock = asyncio.Lock()
        self.changed = False

    @workflow.run
    async def run(self, state: ItemState) -> dict[str, Any]:
        while self.state.status != "closed":
            kind, days, moment = self._next_timer()
            timeout = None if moment is None else max((moment - workflow.now()).total_seconds(), 0.0)
            self.changed = False
            try:
                await workflow.wait_condition(lambda: self.changed or self.state.status == "closed", timeout=timeout)
            except asyncio.TimeoutError:
                await self._fire(kind, days)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return {"item": self.state.item, "status": self.state.status, "overdue": self.state.overdue}

    def _next_timer(self) -> tuple[str | None, int, datetime | None]:
        deadline = datetime.fromisoformat(self.state.deadline)
        for days in rules.REMIND_DAYS_BEFORE:
            at = deadline - timedelta(days=days)
            if days not in self.state.reminded and at > workflow.now():
                return "remind", days, at
        if not self.state.overdue and self.state.status != "submitted":
            return "overdue", 0, deadline
        return None, 0, None

    async def _fire(self, kind: str | None, days: int) -> None:
        if kind is None:
            return
        async with self.lock:
            if self.state.status in ("closed", "submitted"):
                if kind == "remind":
                    self.state.reminded.append(days)
                return
            base = f"{workflow.info().workflow_id}/{kind}/{days}"
            if kind == "remind":
                await self.step(A.remind_rectification, steps.RemindRectificationStep(self.state.item, days, base))
                self.state.reminded.append(days)
            else:
                await self.step(A.rectification_overdue, steps.RectificationOverdueStep(self.state.item, base))
                self.state.overdue = True

    @workflow.query
    def state(self) -> ItemState:
        return self.state

    @workflow.update
    async def report_progress(self, cmd: ReportItem) -> dict[str, Any]:
        async with self.lock:
            step = steps.ReportRectificationStep(self.state.item, cmd.text, cmd.actor, command_id(), list(cmd.attachments))
            result = await self.step(A.report_rectification, step, "report_rectification")
            self.state.status = result.get("status", "in_progress")
            self.changed = True
            return result

    @report_progress.validator
    def _validate_report(self, cmd: ReportItem) -> None:
        if self.is_retry():
            return
        check(rules.check_reporter, cmd.actor, self.state.unit)

    @workflow.update
    async def submit(self, cmd: ReportItem) -> dict[str, Any]:
        async with self.lock:
            step = steps.ReportRectificationStep(self.state.item, cmd.text, cmd.actor, command_id(), list(cmd.attachments))
            result = await self.step(A.submit_rectification, step, "submit_rectification")
            self.state.status = result.get("status", "submitted")
            self.changed = True
            return result

    @submit.validator
    def _validate_submit(self, cmd: ReportItem) -> None:
        if self.is_retry():
            return
        check(rules.check_reporter, cmd.actor, self.state.unit)

    @workflow.update
    async def verify(self, cmd: VerifyItem) -> dict[str, Any]:
        async with self.lock:
            step = steps.VerifyRectificationStep(self.state.item, cmd.decision, cmd.reason, cmd.actor, command_id())
            result = await self.step(A.verify_rectification, step)
            self.state.status = result.get("status", self.state.status)
            self.changed = True
            return result

    @verify.validator
    def _validate_verify(self, cmd: VerifyItem) -> None:
        if self.is_retry():
            return
        check(rules.require_role, cmd.actor, "organizer")
