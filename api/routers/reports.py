"""Documents (feedback .docx, special report .docx/PDF, results and rectification .xlsx), the
special report's suggestions, and the use of results (pay coefficients, HR export, business
grades and the cross-check, trends)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, UploadFile
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from api.deps import DOCX, XLSX, CurrentUser, IdempotencyKey, Svc, download, file_answer
from api.schemas import Model
from services import feedback, results_use

router = APIRouter(tags=["reports 报告与结果运用"])


@router.get("/cycles/{cycle}/units/{unit}/feedback.docx", summary="考核反馈意见书 / feedback as .docx", **file_answer(DOCX))
async def feedback_docx(cycle: str, unit: str, user: CurrentUser, svc: Svc) -> Response:
    return download(*await run_in_threadpool(feedback.letter, svc, user, cycle, unit))


@router.get("/cycles/{cycle}/report", summary="专项报告（JSON）/ the special report")
async def special_report(cycle: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(results_use.special_report, svc, user, cycle)


@router.get("/cycles/{cycle}/report.{fmt}", summary="专项报告下载 / the special report as .docx or PDF", **file_answer(DOCX, "application/pdf"))
async def special_report_file(cycle: str, fmt: str, user: CurrentUser, svc: Svc) -> Response:
    return download(*await run_in_threadpool(results_use.report_file, svc, user, cycle, fmt))


class SuggestionsIn(Model):
    text: str


@router.put("/cycles/{cycle}/report/suggestions", summary="专项报告的意见建议 / the organizer's suggestions")
async def suggestions(cycle: str, body: SuggestionsIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await results_use.set_suggestions(svc, user, cycle, body.text, idem)


@router.get("/cycles/{cycle}/results.xlsx", summary="考核结果表 / results as .xlsx", **file_answer(XLSX))
async def results_xlsx(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    return download(*await run_in_threadpool(results_use.document, svc, user, cycle, "results"))


@router.get("/cycles/{cycle}/rectifications.xlsx", summary="整改清单 / rectification list as .xlsx", **file_answer(XLSX))
async def rectifications_xlsx(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    return download(*await run_in_threadpool(results_use.document, svc, user, cycle, "rectifications"))


# ------------------------------------------------------------------ use of results (怎么用)


class ResultsUseIn(Model):
    pay: dict[str, Any] | None = Field(None, description="grade → pay coefficient, e.g. excellent 1.05")
    recognition_min_grade: str | None = Field(None, description="低于此等次不得评优 / below this grade: no recognition")


@router.put("/cycles/{cycle}/results-use", summary="结果运用规则 / the results-use policy")
async def set_results_use(cycle: str, body: ResultsUseIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    policy = {k: v for k, v in body.model_dump().items() if v is not None}
    return await results_use.set_results_use(svc, user, cycle, policy, idem)


@router.get("/cycles/{cycle}/hr-export", summary="人力资源系统导出（JSON）/ HR export")
async def hr_export(cycle: str, user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(results_use.hr_export, svc, user, cycle)


@router.get("/cycles/{cycle}/hr-export.xlsx", summary="人力资源系统导出（.xlsx）/ HR export as .xlsx", **file_answer(XLSX))
async def hr_export_xlsx(cycle: str, user: CurrentUser, svc: Svc) -> Response:
    return download(*await run_in_threadpool(results_use.document, svc, user, cycle, "hr"))


class GradesIn(Model):
    rows: list[dict[str, Any]]


async def organizer_only(user: CurrentUser) -> None:
    results_use.may_import_grades(user)  # as a dependency: refused before the upload is read


@router.post("/cycles/{cycle}/business-grades", summary="导入业绩考核等级（JSON 行）/ import business grades",
             dependencies=[Depends(organizer_only)])
async def import_grades(cycle: str, body: GradesIn, user: CurrentUser, svc: Svc, idem: IdempotencyKey = None) -> dict:
    return await results_use.import_grades(svc, user, cycle, body.rows, idem)


@router.post("/cycles/{cycle}/business-grades/file", summary="导入业绩考核等级（CSV 文件）/ import a CSV file",
             dependencies=[Depends(organizer_only)])
async def import_grades_file(cycle: str, user: CurrentUser, svc: Svc, file: UploadFile = File(...), idem: IdempotencyKey = None) -> dict:
    data = await file.read(results_use.MAX_GRADES_FILE + 1)
    return await results_use.import_grades_file(svc, user, cycle, data, idem)


@router.get("/cycles/{cycle}/cross-check", summary="党建与业绩考核双向印证 / cross-check with business grades")
async def cross_check(cycle: str, user: CurrentUser, svc: Svc) -> list[dict]:
    return await run_in_threadpool(results_use.cross_check, svc, user, cycle)


@router.get("/units/{unit}/trend", summary="单位历年考核等次 / a unit's grades across cycles")
async def trend(unit: str, user: CurrentUser, svc: Svc) -> list[dict]:
    return await run_in_threadpool(results_use.trend, svc, user, unit)
