"""Audit: the digest, integrity verification, replay at a moment, timeline, explained grades,
bundle export. Reads only: auditors, the organizer and the committee may call them."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse, PlainTextResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, Svc, file_answer
from api.schemas import INT_MAX, Bounded
from services import audit
from services.audit import to_csv, to_jsonl

router = APIRouter(prefix="/audit", tags=["audit 审计"])


@router.get("/digest", summary="日志头部摘要 / the log head's digest")
async def digest(user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(audit.head_digest, svc, user)


@router.get("/verify", summary="校验哈希链 / verify the hash chain")
async def verify(user: CurrentUser, svc: Svc) -> dict:
    return await run_in_threadpool(audit.verify_log, svc, user)


@router.get("/cycles/{key}/replay", summary="某一时刻的周期状态与结果 / the cycle as it stood then")
async def replay(
    key: str,
    user: CurrentUser,
    svc: Svc,
    position: int | None = Query(None, ge=0, le=INT_MAX, description="日志位置 / a log position"),
    as_of: str | None = Query(None, description="ISO 8601，带时区 / with zone"),
) -> dict:
    return await run_in_threadpool(audit.replay_cycle, svc, user, key, position, as_of)


@router.get("/cycles/{key}/timeline", summary="事件时间线 / the timeline",
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})  # format=jsonl, csv
async def timeline(
    key: str,
    user: CurrentUser,
    svc: Svc,
    unit: str | None = None,
    actor: str | None = None,
    stage: str | None = None,
    type: str | None = Query(None, description="事件类型 / event type, e.g. GradeOverridden"),
    format: str = Query("json", pattern="^(json|jsonl|csv)$"),
) -> Response:
    entries = await run_in_threadpool(lambda: audit.cycle_timeline(svc, user, key, unit=unit, actor=actor, stage=stage, event=type))
    if format == "jsonl":
        return PlainTextResponse(to_jsonl(entries), media_type="application/x-ndjson")
    if format == "csv":
        return PlainTextResponse(
            to_csv(entries), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="timeline-{key}.csv"'},
        )
    from fastapi.responses import JSONResponse

    return JSONResponse([e.to_dict() for e in entries])


@router.get("/accounts", summary="账号变更记录 / the admin's changes to accounts",
            responses={200: {"content": {"text/csv": {}}}})  # format=csv
async def account_timeline(
    user: CurrentUser,
    svc: Svc,
    account: str | None = Query(None, max_length=64, description="某一账号 / one account"),
    format: str = Query("json", pattern="^(json|csv)$"),
) -> Response:
    entries = await run_in_threadpool(audit.account_timeline, svc, user, account)
    if format == "csv":
        return PlainTextResponse(to_csv(entries), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": 'attachment; filename="accounts.csv"'})
    from fastapi.responses import JSONResponse

    return JSONResponse([e.to_dict() for e in entries])


@router.get("/cycles/{key}/units/{unit}/explain", summary="解释等次 / explain a unit's grade")
async def explain(key: str, unit: str, user: CurrentUser, svc: Svc, position: int | None = Query(None, ge=0, le=INT_MAX, description="日志位置 / a log position")) -> dict:
    return await run_in_threadpool(audit.explain_grade, svc, user, key, unit, position)


@router.post("/cycles/{key}/whatif", summary="换一套考核规则重算等次（不写入）/ the grades under another policy (nothing written)")
async def whatif(key: str, user: CurrentUser, svc: Svc, policy: Annotated[dict[str, Bounded] | None, Body(
        description="部分考核规则，覆盖本周期的规则，如 {\"work_weight\": \"0.6\", \"debrief_weight\": \"0.4\"} / "
                    "a partial policy laid over the cycle's", examples=[{"work_weight": "0.6", "debrief_weight": "0.4"}])] = None) -> dict:
    return await run_in_threadpool(audit.whatif, svc, user, key, policy)


@router.get("/cycles/{key}/export", summary="导出审计包 / download an audit bundle", **file_answer("application/zip"))
async def export(key: str, user: CurrentUser, svc: Svc) -> FileResponse:
    audit.allow(user, "audit.read")  # before a temporary directory is made
    tmp = Path(tempfile.mkdtemp(prefix="kaohe-bundle-")) / f"audit-{key}.zip"
    try:
        await run_in_threadpool(audit.export_bundle, svc, user, key, tmp)
    except Exception:
        tmp.unlink(missing_ok=True)
        tmp.parent.rmdir()
        raise
    return FileResponse(
        tmp, media_type="application/zip", filename=tmp.name,
        background=BackgroundTask(lambda: (tmp.unlink(missing_ok=True), tmp.parent.rmdir())),
    )
