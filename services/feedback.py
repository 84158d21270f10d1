"""Feedback (SPEC §3 stage 7): the draft written from the results, the organizer's edits,
issuing it to the unit, the unit's acknowledgement, the letter as .docx."""

from __future__ import annotations

from typing import Any

from adapters.accounts import User
from domain.errors import InvalidInput, NotFound
from domain.rules import FeedbackStatus
from projections.models import UnitRow
from reporting import reports
from services.context import Services, command_id
from services.permissions import allow
from workflows import unit as unit_workflow


def feedback(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any]:
    """The unit's feedback: the draft (not to the unit before it is issued) and the issued text."""
    allow(user, "feedback.read", unit)
    with svc.runner.sessions() as db:
        row = db.get(UnitRow, (cycle, unit))
        if row is None:
            raise NotFound("unit_not_found", zh=f"单位 {unit} 不在周期 {cycle} 中", en="no such unit", field="unit")
        if user.role == "unit" and row.feedback == FeedbackStatus.NONE:
            raise NotFound("feedback_not_issued", zh="反馈尚未下发", en="the feedback has not been issued", field="unit")
        view = {"cycle": cycle, "unit": unit, "status": row.feedback, "text": row.feedback_text}
        if user.role != "unit" or row.feedback != FeedbackStatus.NONE:
            view["draft"] = row.feedback_draft
        return view


async def edit_draft(svc: Services, user: User, cycle: str, unit: str, text: Any, idem: str | None = None) -> dict[str, Any]:
    allow(user, "feedback.edit_draft")
    return await svc.recorded(svc.app.edit_feedback_draft, cycle, unit, text, user.actor, command_id(user, idem))


async def issue(svc: Services, user: User, cycle: str, unit: str, text: str, idem: str | None = None) -> dict[str, Any]:
    allow(user, "feedback.issue")
    result = await svc.gateway.unit_update(cycle, unit, "issue_feedback", unit_workflow.IssueFeedback(user.actor, text), command_id(user, idem))
    await svc.caught_up(result)
    return result


async def acknowledge(svc: Services, user: User, cycle: str, unit: str, idem: str | None = None) -> dict[str, Any]:
    # Straight to the domain: nothing in the process waits for an acknowledgement.
    allow(user, "feedback.acknowledge", unit)
    return await svc.recorded(svc.app.acknowledge_feedback, cycle, unit, user.actor, command_id(user, idem))


def letter(svc: Services, user: User, cycle: str, unit: str) -> tuple[bytes, str, str]:
    """The feedback letter (.docx): bytes, media type, file name. A unit once it is issued."""
    allow(user, "feedback.download", unit)
    if user.role == "unit" and svc.app.unit(cycle, unit).feedback_status == FeedbackStatus.NONE:
        raise InvalidInput("feedback_not_issued", zh="反馈尚未下发", en="the feedback has not been issued", field="unit")
    return reports.build(svc.app, "feedback", cycle, unit)
