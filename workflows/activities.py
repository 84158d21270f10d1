"""The one activity: run a ``KaoheApp`` use case. Activities run at least once; every use case
is idempotent by its command id, so a retry stores nothing twice."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from domain.app import KaoheApp
from domain.errors import DomainError
from workflows.messages import Command, to_application_error

#: The use cases a workflow may call, and nothing else.
ALLOWED = {
    "open_cycle",
    "open_stage",
    "close_stage",
    "set_deadline",
    "record_deadline_missed",
    "submit_self_review",
    "submit_scoring",
    "cast_ballot",
    "close_session",
    "propose_adjustment",
    "decide_adjustment",
    "resolve_tie",
    "override_grade",
    "approve_allocation",
    "reject_allocation",
    "issue_feedback",
    "acknowledge_feedback",
    "close_cycle",
    "create_rectification",
    "report_rectification",
    "submit_rectification",
    "verify_rectification",
    "remind_rectification",
    "rectification_overdue",
}

NO_ACTOR = {"record_deadline_missed", "remind_rectification", "rectification_overdue"}


class KaoheActivities:
    def __init__(self, app: KaoheApp) -> None:
        self.app = app

    @activity.defn(name="kaohe.execute")
    def execute(self, command: Command) -> dict[str, Any]:
        if command.method not in ALLOWED:
            raise ValueError(f"unknown use case {command.method}")
        method = getattr(self.app, command.method)
        kwargs = dict(command.kwargs)
        if command.method not in NO_ACTOR:
            kwargs["actor"] = command.actor
        try:
            outcome = method(command_id=command.command_id, **kwargs)
        except DomainError as err:
            raise to_application_error(err) from None
        result = outcome.to_dict()
        cycle = kwargs.get("cycle")
        if cycle and command.method not in ("cast_ballot", "close_session"):
            c = self.app.cycle(cycle)
            result["stages"] = dict(c.stages)
            result["status"] = c.status
            result["deadlines"] = dict(c.deadlines)
        return result
