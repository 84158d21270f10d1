"""Rectification items (整改事项) to closure, their evidence files, and feedback drafts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import FileResponse
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, command_id, forbidden, require, require_unit_scope
from api.schemas import Model
from domain.errors import InvalidInput, NotFound
from projections.models import RectificationRow, UnitRow
from workflows import cycle as cw
from workflows import rectification as rw

router = APIRouter(tags=["rectification 整改"])


class ItemIn(Model):
    unit: str
    description: str
    point: str | None = None
    deadline: str | None = Field(None, description="ISO 8601 带时区；省略为 90 天后 / default: in 90 days")


class ReportIn(Model):
    text: str
    attachments: list[dict[str, Any]] = Field(default_factory=list, description="POST /attachments 的返回 / as returned by POST /attachments")


class VerifyIn(Model):
    decision: str = Field(description="approve（核验销号）| reject（退回）")
    reason: str = ""


class DraftIn(Model):
    text: str


def item_view(r: RectificationRow) -> dict[str, Any]:
    return {
        "id": r.id, "cycle": r.cycle, "unit": r.unit, "point": r.point, "description": r.description,
        "deadline": r.deadline, "source": r.source, "status": r.status, "overdue": r.overdue,
        "reminders": r.reminders, "reports": r.reports, "last_reason": r.last_reason, "carried_to": r.carried_to,
        "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
    }


def _item(svc, cycle: str, item: str) -> RectificationRow:
    with svc.runner.sessions() as db:
        row = db.get(RectificationRow, item)
        if row is None or row.cycle != cycle:
            raise NotFound("item_not_found", f"整改事项 {item} 不存在 / no such rectification item", "item")
        return row


@router.get("/cycles/{cycle}/rectifications", summary="整改事项 / rectification items")
async def list_items(cycle: str, user: CurrentUser, svc: Svc, unit: str | None = None, status: str | None = None) -> list[dict]:
    if user.role not in ("organizer", "committee", "auditor", "admin", "unit"):
        raise forbidden("您的角色不能查看整改事项 / your role cannot read rectification items")

    def load():
        with svc.runner.sessions() as db:
            q = select(RectificationRow).where(RectificationRow.cycle == cycle)
            if user.role == "unit":
                q = q.where(RectificationRow.unit == user.unit)
            elif unit:
                q = q.where(RectificationRow.unit == unit)
            if status:
                q = q.where(RectificationRow.status == status)
            return [item_view(r) for r in db.scalars(q.order_by(RectificationRow.unit, RectificationRow.created_at))]

    return await run_in_threadpool(load)


@router.get("/cycles/{cycle}/units/{unit}/carried-over", summary="上一周期带入的未完成整改 / open items carried into this cycle")
async def carried(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> list[dict]:
    require_unit_scope(user, unit)

    def load():
        with svc.runner.sessions() as db:
            rows = db.scalars(select(RectificationRow).where(RectificationRow.unit == unit, RectificationRow.cycle != cycle))
            return [item_view(r) for r in rows if cycle in (r.carried_to or [])]

    return await run_in_threadpool(load)


@router.post("/cycles/{cycle}/rectifications", status_code=201, summary="新增整改事项 / add an item by hand")
async def create(cycle: str, body: ItemIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    cmd = cw.CreateRectification(user.actor, body.unit, body.description, body.point, body.deadline)
    result = await svc.gateway.cycle_update(cycle, "create_rectification", cmd, command_id(user, idem))
    await svc.settle(result)
    return result


async def _item_update(svc, user, cycle: str, item: str, name: str, arg: Any, idem) -> dict:
    row = await run_in_threadpool(_item, svc, cycle, item)
    if user.role == "unit":
        require_unit_scope(user, row.unit)
    result = await svc.gateway.item_update(cycle, item, name, arg, command_id(user, idem))
    await svc.settle(result)
    return result


def _known_files(svc, files: list[dict[str, Any]]) -> None:
    for i, f in enumerate(files):
        if not svc.attachments.has(str(f.get("sha256", ""))):
            raise InvalidInput("attachment_not_found", "附件未上传或不存在，请先 POST /attachments / upload the file first", f"attachments[{i}].sha256")


@router.post("/cycles/{cycle}/rectifications/{item}/progress", summary="报告整改进展 / report progress")
async def progress(cycle: str, item: str, body: ReportIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "unit")
    _known_files(svc, body.attachments)
    return await _item_update(svc, user, cycle, item, "report_progress", rw.ReportItem(user.actor, body.text, body.attachments), idem)


@router.post("/cycles/{cycle}/rectifications/{item}/submit", summary="提交整改完成情况 / submit completion")
async def submit(cycle: str, item: str, body: ReportIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "unit")
    _known_files(svc, body.attachments)
    return await _item_update(svc, user, cycle, item, "submit", rw.ReportItem(user.actor, body.text, body.attachments), idem)


@router.post("/cycles/{cycle}/rectifications/{item}/verify", summary="核验销号或退回 / verify and close, or send back")
async def verify(cycle: str, item: str, body: VerifyIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    return await _item_update(svc, user, cycle, item, "verify", rw.VerifyItem(user.actor, body.decision, body.reason), idem)


# ------------------------------------------------------------------ attachments


async def uploader(user: CurrentUser) -> None:
    require(user, "unit", "organizer")  # as a dependency: refused before the upload is read


@router.post("/attachments", status_code=201, summary="上传佐证材料 / upload evidence", dependencies=[Depends(uploader)])
async def upload(user: CurrentUser, svc: Svc, file: UploadFile = File(...)) -> dict:
    data = await file.read(svc.attachments.max_bytes + 1)
    stored = await run_in_threadpool(svc.attachments.put, file.filename or "file", data)
    return stored.to_dict()


@router.get("/attachments/{sha256}", summary="下载佐证材料 / download evidence")
async def download(sha256: str, user: CurrentUser, svc: Svc) -> FileResponse:
    if user.role == "unit":
        def mine() -> bool:
            with svc.runner.sessions() as db:
                rows = db.scalars(select(RectificationRow).where(RectificationRow.unit == user.unit))
                return any(a.get("sha256") == sha256 for r in rows for rep in r.reports for a in rep.get("attachments", []))

        if not await run_in_threadpool(mine):
            raise forbidden("只能下载本单位的材料 / only your own unit's files")
    elif user.role not in ("organizer", "committee", "auditor"):
        raise forbidden("您的角色不能下载材料 / your role cannot download evidence")
    path = svc.attachments.open(sha256)
    return FileResponse(path, filename=sha256)


# ------------------------------------------------------------------ feedback drafts


@router.get("/cycles/{cycle}/units/{unit}/feedback", summary="考核反馈（草稿或已下发）/ the unit's feedback")
async def feedback(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> dict:
    require_unit_scope(user, unit)
    if user.role not in ("organizer", "auditor", "unit", "committee"):
        raise forbidden("您的角色不能查看反馈 / your role cannot read feedback")

    def load():
        with svc.runner.sessions() as db:
            row = db.get(UnitRow, (cycle, unit))
            if row is None:
                raise NotFound("unit_not_found", f"单位 {unit} 不在周期 {cycle} 中 / no such unit", "unit")
            if user.role == "unit" and row.feedback == "none":
                raise NotFound("feedback_not_issued", "反馈尚未下发 / the feedback has not been issued", "unit")
            view = {"cycle": cycle, "unit": unit, "status": row.feedback, "text": row.feedback_text}
            if user.role != "unit" or row.feedback != "none":
                view["draft"] = row.feedback_draft
            return view

    return await run_in_threadpool(load)


@router.put("/cycles/{cycle}/units/{unit}/feedback/draft", summary="修改反馈草稿 / edit the feedback draft")
async def edit_draft(cycle: str, unit: str, body: DraftIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    out = await run_in_threadpool(svc.app.edit_feedback_draft, cycle, unit, body.text, user.actor, command_id(user, idem))
    await svc.settle(out.to_dict())
    return out.to_dict()
