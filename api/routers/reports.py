"""Documents (feedback .docx, special report .docx/PDF, results and rectification .xlsx), the
special report's suggestions, and the use of results (pay coefficients, HR export, business
grades and the cross-check, trends)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, IdempotencyKey, Svc, command_id, forbidden, require, require_unit_scope
from api.schemas import Model
from domain import use_of_results as use
from domain.errors import InvalidInput
from reporting import reports
from projections.models import CycleRow, ResultRow

router = APIRouter(tags=["reports 报告与结果运用"])
READERS = ("organizer", "committee", "auditor")


def _download(data: bytes, media: str, name: str) -> Response:
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    })


@router.get("/cycles/{cycle}/units/{unit}/feedback.docx", summary="考核反馈意见书 / feedback as .docx")
async def feedback_docx(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> Response:
    require_unit_scope(user, unit)
    if user.role not in READERS + ("unit",):
        raise forbidden("您的角色不能下载反馈 / your role cannot download feedback")
    if user.role == "unit":
        ua = await run_in_threadpool(svc.app.unit, cycle, unit)
        if ua.feedback_status == "none":
            raise InvalidInput("feedback_not_issued", "反馈尚未下发 / the feedback has not been issued", "unit")
    return _download(*await run_in_threadpool(reports.build, svc.app, "feedback", cycle, unit))


@router.get("/cycles/{cycle}/report", summary="专项报告（JSON）/ the special report")
async def special_report(cycle: str, user: CurrentUser, svc: Svc) -> dict:
    require(user, *READERS)
    return await run_in_threadpool(reports.special_report, svc.app, cycle)


@router.get("/cycles/{cycle}/report.{fmt}", summary="专项报告下载 / the special report as .docx or PDF")
async def special_report_file(cycle: str, fmt: str, user: CurrentUser, svc: Svc) -> Response:
    require(user, *READERS)
    if fmt not in ("docx", "pdf"):
        raise InvalidInput("unknown_format", "格式须为 docx 或 pdf / docx or pdf", "format")
    return _download(*await run_in_threadpool(reports.build, svc.app, f"report-{fmt}", cycle))


class SuggestionsIn(Model):
    text: str


@router.put("/cycles/{cycle}/report/suggestions", summary="专项报告的意见建议 / the organizer's suggestions")
async def suggestions(cycle: str, body: SuggestionsIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    out = await run_in_threadpool(svc.app.set_report_suggestions, cycle, body.text, user.actor, command_id(user, idem))
    return out.to_dict()


@router.get("/cycles/{cycle}/results.xlsx", summary="考核结果表 / results as .xlsx")
async def results_xlsx(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    require(user, *READERS)
    return _download(*await run_in_threadpool(reports.build, svc.app, "results", cycle))


@router.get("/cycles/{cycle}/rectifications.xlsx", summary="整改清单 / rectification list as .xlsx")
async def rectifications_xlsx(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    require(user, *READERS)
    return _download(*await run_in_threadpool(reports.build, svc.app, "rectifications", cycle))


# ------------------------------------------------------------------ use of results (怎么用)


class ResultsUseIn(Model):
    pay: dict[str, Any] | None = Field(None, description="grade → pay coefficient, e.g. excellent 1.05")
    recognition_min_grade: str | None = Field(None, description="低于此等次不得评优 / below this grade: no recognition")


@router.put("/cycles/{cycle}/results-use", summary="结果运用规则 / the results-use policy")
async def set_results_use(cycle: str, body: ResultsUseIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    require(user, "organizer")
    policy = {k: v for k, v in body.model_dump().items() if v is not None}
    out = await run_in_threadpool(svc.app.set_results_use, cycle, policy, user.actor, command_id(user, idem))
    return out.to_dict()


@router.get("/cycles/{cycle}/hr-export", summary="人力资源系统导出（JSON）/ HR export")
async def hr_export(cycle: str, user: CurrentUser, svc: Svc) -> dict:
    require(user, *READERS)
    return await run_in_threadpool(reports.hr_export, svc.app, cycle)


@router.get("/cycles/{cycle}/hr-export.xlsx", summary="人力资源系统导出（.xlsx）/ HR export as .xlsx")
async def hr_export_xlsx(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    require(user, *READERS)
    return _download(*await run_in_threadpool(reports.build, svc.app, "hr", cycle))


class GradesIn(Model):
    rows: list[dict[str, Any]]


async def organizer_only(user: CurrentUser) -> None:
    require(user, "organizer")


@router.post("/cycles/{cycle}/business-grades", summary="导入业绩考核等级（JSON 行）/ import business grades",
             dependencies=[Depends(organizer_only)])
async def import_grades(cycle: str, body: GradesIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    digest = hashlib.sha256(repr(body.rows).encode()).hexdigest()
    out = await run_in_threadpool(svc.app.import_business_grades, cycle, body.rows, digest, user.actor, command_id(user, idem))
    return out.to_dict()


@router.post("/cycles/{cycle}/business-grades/file", summary="导入业绩考核等级（CSV 文件）/ import a CSV file",
             dependencies=[Depends(organizer_only)])
async def import_grades_file(cycle: str, user: CurrentUser, svc: Svc, file: UploadFile = File(...), idem: IdempotencyKey = None) -> dict:
    data = await file.read(2 * 1024 * 1024 + 1)
    if len(data) > 2 * 1024 * 1024:
        raise InvalidInput("file_too_large", "CSV 文件不能超过 2 MiB / the file is too large", "file")
    out = await run_in_threadpool(
        svc.app.import_business_grades, cycle, data, hashlib.sha256(data).hexdigest(), user.actor, command_id(user, idem)
    )
    return out.to_dict()


@router.get("/cycles/{cycle}/cross-check", summary="党建与业绩考核双向印证 / cross-check with business grades")
async def cross_check(cycle: str, user: CurrentUser, svc: Svc) -> list[dict]:
    require(user, *READERS)
    return await run_in_threadpool(reports.cross_check, svc.app, cycle)


@router.get("/units/{unit}/trend", summary="单位历年考核等次 / a unit's grades across cycles")
async def trend(unit: str, user: CurrentUser, svc: Svc) -> list[dict]:
    require_unit_scope(user, unit)
    if user.role not in READERS + ("unit",):
        raise forbidden("您的角色不能查看 / your role cannot read this")

    def load():
        with svc.runner.sessions() as db:
            cycles = {c.key: c for c in db.scalars(select(CycleRow).where(CycleRow.status.in_(["published", "closed"])))}
            history = []
            for key, c in cycles.items():
                rows = list(db.scalars(select(ResultRow).where(ResultRow.cycle == key)))
                history.append((key, c.year, {"units": {r.unit: r.result for r in rows}}))
            return use.trend(history, unit)

    return await run_in_threadpool(load)
