"""Rectification items (SPEC §3 stage 8) to closure: created from the feedback or by hand,
reported on and submitted by the unit with evidence files, verified or sent back by the
organizer, carried into the next cycle while still open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from domain.errors import Forbidden, InvalidInput, NotFound
from adapters.attachments import NO_UNIT
from domain.rules import MAX_ATTACHMENTS
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


def _owner(user: User) -> str:
    """Whom an upload is for: a unit user's unit; anyone else uploads for no unit."""
    return user.unit if user.role == "unit" and user.unit else NO_UNIT


def _known_files(svc: Services, user: User, files: list[dict[str, Any]]) -> None:
    """Each cited file is stored and, for a unit user, was uploaded for their unit: a hash
    learnt elsewhere (another unit's file) cannot be cited, and so cannot be read."""
    if not isinstance(files, list):
        return  # the domain says what is wrong with it (``rules.parse_attachments``)
    for i, f in enumerate(files):
        sha = str(f.get("sha256", "")) if isinstance(f, dict) else ""
        if not svc.attachments.has(sha):
            raise InvalidInput("attachment_not_found", zh="附件未上传或不存在，请先 POST /attachments", en="upload the file first", field=f"attachments[{i}].sha256")
        if user.role == "unit" and not svc.attachments.uploaded_for(sha, _owner(user)):
            raise Forbidden("attachment_not_yours", zh="只能引用本单位上传的材料，请先上传", en="cite only files uploaded for your own unit",
                            field=f"attachments[{i}].sha256")


async def report_progress(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]], idem: str | None = None) -> dict[str, Any]:
    allow(user, "rectification.report")
    await in_thread(_known_files, svc, user, attachments)
    return await _item_update(svc, user, cycle, item, "report_progress", item_workflow.ReportItem(user.actor, text, attachments), idem)


async def submit(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]], idem: str | None = None) -> dict[str, Any]:
    allow(user, "rectification.report")
    await in_thread(_known_files, svc, user, attachments)
    return await _item_update(svc, user, cycle, item, "submit", item_workflow.ReportItem(user.actor, text, attachments), idem)


async def verify(svc: Services, user: User, cycle: str, item: str, decision: str, reason: str = "", idem: str | None = None) -> dict[str, Any]:
    allow(user, "rectification.verify")
    return await _item_update(svc, user, cycle, item, "verify", item_workflow.VerifyItem(user.actor, decision, reason), idem)


# ------------------------------------------------------------------ evidence files


def may_upload(user: User) -> None:
    """Checked before an upload is read."""
    allow(user, "attachment.upload")


def may_upload_to(svc: Services, user: User, cycle: str, item: str, count: int, size: int = 0) -> None:
    """Before any of ``count`` files (``size`` bytes together) for a report on ``item`` is
    stored: the role, that the item is the user's unit's, that a report holds them (at most
    ``MAX_ATTACHMENTS``) and that they fit in the unit's quota."""
    allow(user, "rectification.report")
    row = _item(svc, cycle, item)
    in_scope(user, row.unit)
    if count > MAX_ATTACHMENTS:
        raise InvalidInput("too_many_attachments", zh=f"一次最多上传 {MAX_ATTACHMENTS} 个附件（本次 {count} 个）",
                           en=f"at most {MAX_ATTACHMENTS} files in one report", field="files")
    if size:
        svc.attachments.check_quota(_owner(user), size)


async def upload(svc: Services, user: User, filename: str, data: bytes) -> dict[str, Any]:
    """One file into the store, recorded as uploaded for the user's unit (within its quota)."""
    allow(user, "attachment.upload")
    stored = await in_thread(svc.attachments.put_for, _owner(user), user.username, filename or "file", data)
    return stored.to_dict()


def attachment(svc: Services, user: User, sha256: str) -> Path:
    """The stored file; a unit user only through an item of their own unit that cites it, and
    only a file uploaded for their unit (or stored before uploads were recorded) — by
    reference, never by knowing the hash."""
    allow(user, "attachment.read")
    if user.role == "unit":
        refused = Forbidden("forbidden", zh="只能下载本单位的材料", en="only your own unit's files")
        with svc.runner.sessions() as db:
            rows = db.scalars(select(RectificationRow).where(RectificationRow.unit == user.unit))
            cited = any(a.get("sha256") == sha256 for r in rows for rep in r.reports for a in rep.get("attachments", []))
        if not cited:
            raise refused
        if not svc.attachments.uploaded_for(sha256, _owner(user)) and svc.attachments.uploaded_at_all(sha256):
            raise refused  # cited by the unit's item, but uploaded for another unit
    return svc.attachments.open(sha256)
