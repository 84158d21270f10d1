"""The FastAPI application: ``/api/v1``, OpenAPI at ``/docs``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api import errors, web
from api.deps import Services
from api.routers import adjustments, audit, auth, cycles, debrief, rectification, reports, tasks, units

DESCRIPTION = """党建工作考核系统 · Party-building work assessment.

登录：`POST /api/v1/auth/login` 取得令牌，以 `Authorization: Bearer <token>` 调用其余接口。
写操作可带 `Idempotency-Key` 头，重试时使用相同的键不会重复记录。
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

    for module in (auth, cycles, units, debrief, adjustments, rectification, reports, tasks, audit):
        v1.include_router(module.router)
    app.include_router(v1)
    web.install(app)  # the pages (/, /login, /tasks, /cycles/…) and /static, outside /api/v1
    return app
