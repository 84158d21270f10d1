"""Rectification items (SPEC §3 stage 8) to closure: created from the feedback or by hand,
reported on and submitted by the unit with evidence files, verified or sent back by the
organizer, carried into the next cycle while still open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from domain.errors import Forbidden, InvalidInput, NotFound
from projections.models import RectificationRow
from services.context import Services, command_id, in_thread
from services.permissions import allow, in_scope
from workflows import cycle as cycle_workflow
from workflows import rectification as item_workflow


def item_view(r: RectificationRow) -> dict[str, Any]:
    return {
        "id": r.id, "cycle": r.cycle, "unit": r.unit, "point": r.point, "description": r.description,
        "deadline": r.deadline, "source": r.source, "status": r.status, "overdue": r.overdue,
        "reminders": r.reminders, "reports": r.reports, "last_reason": r.last_reason, "carried_to": r.carried_to,
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
    }


def _item(svc: Services, cycle: str, item: str) -> RectificationRow:
    with svc.runner.sessions() as db:
        row = db.get(RectificationRow, item)
        if row is None or row.cycle != cycle:
            raise NotFound("item_not_found", zh=f"整改事项 {item} 不存在", en="no such rectification item", field="item")
        return row


def items(svc: Services, user: User, cycle: str, unit: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    """The cycle's items (a unit user: their own), optionally of one unit or in one status."""
    allow(user, "rectification.read")
    with svc.runner.sessions() as db:
        q = select(RectificationRow).where(RectificationRow.cycle == cycle)
        if user.role == "unit":
            q = q.where(RectificationRow.unit == user.unit)
        elif unit:
            q = q.where(RectificationRow.unit == unit)
        if status:
            q = q.where(RectificationRow.status == status)
        return [item_view(r) for r in db.scalars(q.order_by(RectificationRow.unit, RectificationRow.created_at))]


def carried(svc: Services, user: User, cycle: str, unit: str) -> list[dict[str, Any]]:
    """Items of earlier cycles still open for this unit, carried into this cycle."""
    allow(user, "rectification.carried.read", unit)
    with svc.runner.sessions() as db:
        rows = db.scalars(select(RectificationRow).where(RectificationRow.unit == unit, RectificationRow.cycle != cycle))
        return [item_view(r) for r in rows if cycle in (r.carried_to or [])]


async def create(
    svc: Services, user: User, cycle: str, unit: str, description: str, point: str | None = None, deadline: str | None = None,
    idem: str | None = None,
) -> dict[str, Any]:
    allow(user, "rectification.create")
    cmd = cycle_workflow.CreateRectification(user.actor, unit, description, point, deadline)
    return await svc.cycle_command(user, cycle, "create_rectification", cmd, idem)


async def _item_update(svc: Services, user: User, cycle: str, item: str, name: str, arg: Any, idem: str | None) -> dict[str, Any]:
    row = await in_thread(_item, svc, cycle, item)
    in_scope(user, row.unit)
    result = await svc.gateway.item_update(cycle, item, name, arg, command_id(user, idem))
    await svc.caught_up(result)
    return result


def _known_files(svc: Services, files: list[dict[str, Any]]) -> None:
    for i, f in enumerate(files):
        if not svc.attachments.has(str(f.get("sha256", ""))):
            raise InvalidInput("attachment_not_found", zh="附件未上传或不存在，请先 POST /attachments", en="upload the file first", field=f"attachments[{i}].sha256")


async def report_progress(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]], idem: str | None = None) -> dict[str, Any]:
    allow(user, "rectification.report")
    _known_files(svc, attachments)
    return await _item_update(svc, user, cycle, item, "report_progress", item_workflow.ReportItem(user.actor, text, attachments), idem)


async def submit(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]], idem: str | None = None) -> dict[str, Any]:
    allow(user, "rectification.report")
    _known_files(svc, attachments)
    return await _item_update(svc, user, cycle, item, "submit", item_workflow.ReportItem(user.actor, text, attachments), idem)


async def verify(svc: Services, user: User, cycle: str, item: str, decision: str, reason: str = "", idem: str | None = None) -> dict[str, Any]:
    allow(user, "rectification.verify")
    return await _item_update(svc, user, cycle, item, "verify", item_workflow.VerifyItem(user.actor, decision, reason), idem)


# ------------------------------------------------------------------ evidence files


def may_upload(user: User) -> None:
    """Checked before an upload is read."""
    allow(user, "attachment.upload")


async def upload(svc: Services, user: User, filename: str, data: bytes) -> dict[str, Any]:
    allow(user, "attachment.upload")
    stored = await in_thread(svc.attachments.put, filename or "file", data)
    return stored.to_dict()


def attachment(svc: Services, user: User, sha256: str) -> Path:
    """The stored file; a unit user only their own unit's."""
    allow(user, "attachment.read")
    if user.role == "unit":
        with svc.runner.sessions() as db:
            rows = db.scalars(select(RectificationRow).where(RectificationRow.unit == user.unit))
            mine = any(a.get("sha256") == sha256 for r in rows for rep in r.reports for a in rep.get("attachments", []))
        if not mine:
            raise Forbidden("forbidden", zh="只能下载本单位的材料", en="only your own unit's files")
    return svc.attachments.open(sha256)
