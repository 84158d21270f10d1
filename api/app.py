"""The FastAPI application: ``/api/v1``, OpenAPI at ``/docs``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api import errors, web
from api.idempotency import IdempotencyMiddleware, IdempotencyStore
from services import Services
from api.routers import adjustments, audit, auth, committee, cycles, debrief, rectification, reports, tasks, units

DESCRIPTION = """党建工作考核系统 · Party-building work assessment.

登录：`POST /api/v1/auth/login` 取得令牌，以 `Authorization: Bearer <token>` 调用其余接口。
写操作可带 `Idempotency-Key` 头：用相同的键重试，得到第一次成功的答复，不会重复记录；
同一个键用于另一个请求时答复 422。系统繁忙或暂时不可用时答复 503 并带 `Retry-After`（秒）。
Writes take an `Idempotency-Key` header: a retry with the same key gets the first successful
answer and stores nothing twice; the same key on another request is refused (422). Overload or
an outage answers 503 with `Retry-After` (seconds): retry with the same key.
错误统一为 JSON `{code, message, field?}`。
"""


def create_app(services: Services) -> FastAPI:
    app = FastAPI(title="Kaohe 考核", version="0.1.0", description=DESCRIPTION, docs_url="/docs", openapi_url="/openapi.json")
    app.state.services = services
    errors.install(app)
    v1 = APIRouter(prefix="/api/v1")

    @v1.get("/health", tags=["health"], summary="健康检查 / health")
    async def health() -> dict:
        return {"status": "ok", "projection_position": services.runner.position()}

    for module in (auth, cycles, units, debrief, adjustments, committee, rectification, reports, tasks, audit):
        v1.include_router(module.router)
    app.include_router(v1)
    web.install(app)  # the pages (/, /login, /tasks, /cycles/…) and /static, outside /api/v1
    # A retry with the same Idempotency-Key gets the first attempt's answer (api/idempotency.py).
    app.add_middleware(
        IdempotencyMiddleware, store=IdempotencyStore(services.runner.engine), authenticate=services.accounts.authenticate
    )
    return app
