"""Every error as JSON ``{code, message, field?}``; never a 500 for user input."""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.errors import Bilingual, DomainError, Unavailable, halves
from eventsourcing.persistence import IntegrityError, OperationalError as StoreOperationalError
from sqlalchemy.exc import OperationalError as SqlOperationalError
from adapters.gateway import unavailable

log = logging.getLogger("kaohe.api")

STATUS = {"invalid": 422, "conflict": 409, "forbidden": 403, "not_found": 404, "unavailable": 503}


def error_body(code: str, message: str, field: str | None = None) -> dict:
    """``{code, message, message_zh, message_en[, field]}``: ``message`` is "中文 / English", the two
    others each language alone (a page shows one of them, never a split string)."""
    zh, en = halves(message)
    body = {"code": code, "message": message, "message_zh": zh, "message_en": en}
    if field is not None:
        body["field"] = field
    return body


def retry_headers(err: DomainError) -> dict[str, str] | None:
    """``Retry-After`` (seconds) on every 503."""
    if err.kind == "unavailable":
        return {"Retry-After": str(getattr(err, "retry_after", 2) or 2)}
    return None


def as_unavailable(err: BaseException) -> Unavailable | None:
    """An outage or overload that reached the door as a library's exception: Temporal refusing or
    unreachable, a database that cannot be reached or is locked. Anything else is a real bug."""
    found = unavailable(err)
    if found is not None:
        return found
    if isinstance(err, (SqlOperationalError, StoreOperationalError)):
        return Unavailable(
            "database_unavailable",
            zh="数据库暂时不可用，请稍后用相同的 Idempotency-Key 重试", en="the database is unavailable; retry with the same Idempotency-Key",
            retry_after=2,
        )
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, err: DomainError) -> JSONResponse:
        return JSONResponse(err.to_dict(), status_code=STATUS.get(err.kind, 400), headers=retry_headers(err))

    @app.exception_handler(IntegrityError)
    async def concurrent_change(_: Request, err: IntegrityError) -> JSONResponse:
        return JSONResponse(
            error_body("concurrent_change", "记录刚被他人修改，请重试 / changed by someone else just now; retry"),
            status_code=409,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field = ".".join(loc) or None
        if first.get("type") == "json_invalid":
            return JSONResponse(error_body("invalid_json", "请求体不是有效的 JSON / the body is not valid JSON"), status_code=400)
        message = Bilingual(f"{field or '请求'}：{first.get('msg', 'invalid')}", f"{field or 'request'}: {first.get('msg', 'invalid')}")
        return JSONResponse(error_body("invalid_request", message, field), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, err: HTTPException) -> JSONResponse:
        if isinstance(err.detail, dict):
            body = err.detail
        else:
            body = error_body(f"http_{err.status_code}", str(err.detail))
        return JSONResponse(body, status_code=err.status_code, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, err: Exception) -> JSONResponse:
        outage = as_unavailable(err)
        if outage is not None:
            log.warning("answered 503: %s: %s", type(err).__name__, err)
            return JSONResponse(outage.to_dict(), status_code=503, headers=retry_headers(outage))
        log.exception("unexpected error")
        return JSONResponse(error_body("internal_error", "服务器内部错误 / internal error"), status_code=500)
