"""The FastAPI application: ``/api/v1``, OpenAPI at ``/docs``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from api import errors, web
from api.idempotency import IdempotencyMiddleware, IdempotencyStore
from api.limits import BodyLimitMiddleware, BodyLimits
from api.security import HttpPolicy, SecurityHeadersMiddleware, install_docs
from api.web.sheets import MAX_UPLOAD as SHEET_MAX
from api.web.toolarge import page_413
from services import Services
from services.results_use import MAX_GRADES_FILE
from api.routers import adjustments, audit, auth, committee, cycles, debrief, rectification, reports, tasks, units

DESCRIPTION = """党建工作考核系统 · Party-building work assessment.

登录：`POST /api/v1/auth/login` 取得令牌，以 `Authorization: Bearer <token>` 调用其余接口。
写操作可带 `Idempotency-Key` 头：用相同的键重试，得到第一次成功的答复，不会重复记录；
同一个键用于另一个请求时答复 422。系统繁忙或暂时不可用时答复 503 并带 `Retry-After`（秒）。
Writes take an `Idempotency-Key` header: a retry with the same key gets the first successful
answer and stores nothing twice; the same key on another request is refused (422). Overload or
an outage answers 503 with `Retry-After` (seconds): retry with the same key.
错误统一为 JSON `{code, message, field?}`。请求体超过上限（JSON 与表单 1 MiB，上传文件的接口按文件上限）
在读取过程中即答复 413 `body_too_large`；整数参数与字段以 64 位为界，超出答复 422。
A body past its route's limit (1 MiB for JSON and forms; upload routes: their file limit) is
refused 413 `body_too_large` while it is read; integers are bounded to 64 bits (past it: 422).
"""


def create_app(services: Services, policy: HttpPolicy | None = None) -> FastAPI:
    policy = policy or HttpPolicy(production=services.production)
    public = policy.docs_public  # in production the documentation is for signed-in callers (api.security)
    app = FastAPI(
        title="Kaohe 考核", version="0.1.0", description=DESCRIPTION,
        docs_url="/docs" if public else None, redoc_url="/redoc" if public else None, openapi_url="/openapi.json" if public else None,
    )
    app.state.services = services
    app.state.policy = policy
    errors.install(app)
    install_docs(app, policy, services.accounts.authenticate)
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
    # Outside it: a body past its route's limit is refused while it is read (api/limits.py).
    attachment_max = services.attachments.max_bytes if services.attachments is not None else 10 * 1024 * 1024
    limits = BodyLimits.for_settings(policy.max_body_bytes, attachment_max, SHEET_MAX, MAX_GRADES_FILE)
    app.add_middleware(BodyLimitMiddleware, limits=limits, authenticate=services.accounts.authenticate, page_413=page_413)
    app.add_middleware(SecurityHeadersMiddleware, policy=policy)  # outermost: every answer, the 413s too
    return app
