"""Rectification items (整改事项) to closure, their evidence files, and feedback drafts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.responses import FileResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc
from api.schemas import Model
from services import feedback, rectification

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


@router.get("/cycles/{cycle}/rectifications", summary="整改事项 / rectification items")
async def list_items(cycle: str, user: CurrentUser, svc: Svc, unit: str | None = None, status: str | None = None) -> list[dict]:
    return await run_in_threadpool(rectification.items, svc, user, cycle, unit, status)


@router.get("/cycles/{cycle}/units/{unit}/carried-over", summary="上一周期带入的未完成整改 / open items carried into this cycle")
async def carried(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> list[dict]:
    return await run_in_threadpool(rectification.carried, svc, user, cycle, unit)


@router.post("/cycles/{cycle}/rectifications", status_code=201, summary="新增整改事项 / add an item by hand")
async def create(cycle: str, body: ItemIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await rectification.create(svc, user, cycle, body.unit, body.description, body.point, body.deadline, idem)


@router.post("/cycles/{cycle}/rectifications/{item}/progress", summary="报告整改进展 / report progress")
async def progress(cycle: str, item: str, body: ReportIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await rectification.report_progress(svc, user, cycle, item, body.text, body.attachments, idem)


@router.post("/cycles/{cycle}/rectifications/{item}/submit", summary="提交整改完成情况 / submit completion")
async def submit(cycle: str, item: str, body: ReportIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await rectification.submit(svc, user, cycle, item, body.text, body.attachments, idem)


@router.post("/cycles/{cycle}/rectifications/{item}/verify", summary="核验销号或退回 / verify and close, or send back")
async def verify(cycle: str, item: str, body: VerifyIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await rectification.verify(svc, user, cycle, item, body.decision, body.reason, idem)


# ------------------------------------------------------------------ attachments


async def uploader(user: CurrentUser) -> None:
    rectification.may_upload(user)  # as a dependency: refused before the upload is read


@router.post("/attachments", status_code=201, summary="上传佐证材料 / upload evidence", dependencies=[Depends(uploader)])
async def upload(
    user: CurrentUser, svc: Svc, file: UploadFile = File(...),
    cycle: str | None = Query(None, max_length=64, description="与 item 一起：上传前核对整改事项属于本单位 / with item: checked to be your unit's first"),
    item: str | None = Query(None, max_length=64, description="整改事项 / the rectification item the file is for"),
) -> dict:
    if cycle is not None and item is not None:  # before the file is stored
        await run_in_threadpool(rectification.may_upload_to, svc, user, cycle, item, 1, file.size or 0)
    data = await file.read(svc.attachments.max_bytes + 1)
    return await rectification.upload(svc, user, file.filename or "file", data)


@router.get("/attachments/{sha256}", summary="下载佐证材料 / download evidence")
async def download(sha256: str, user: CurrentUser, svc: Svc) -> FileResponse:
    return FileResponse(await run_in_threadpool(rectification.attachment, svc, user, sha256), filename=sha256)


# ------------------------------------------------------------------ feedback drafts


@router.get("/cycles/{cycle}/units/{unit}/feedback", summary="考核反馈（草稿或已下发）/ the unit's feedback")
async def get_feedback(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(feedback.feedback, svc, user, cycle, unit)


@router.put("/cycles/{cycle}/units/{unit}/feedback/draft", summary="修改反馈草稿 / edit the feedback draft")
async def edit_draft(cycle: str, unit: str, body: DraftIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await feedback.edit_draft(svc, user, cycle, unit, body.text, idem)
