"""Dependencies: the services, the current user, role and unit-scope checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from adapters.accounts import Accounts, User
from api.errors import error_body
from services.readcache import ReadCache
from domain.app import KaoheApp
from domain.rules import ROLE_NAMES
from projections.runner import ProjectionRunner
from adapters.gateway import Gateway


@dataclass
class Services:
    app: KaoheApp
    gateway: Gateway
    runner: ProjectionRunner
    accounts: Accounts
    production: bool = False
    signing_key: str | None = None
    attachments: Any = None  # adapters.attachments.AttachmentStore
    read_cache_seconds: float = 5.0

    def __post_init__(self) -> None:
        self.reads = ReadCache(self.runner, self.read_cache_seconds)

    async def settle(self, result: dict[str, Any] | Any) -> None:
        """Wait until the read models include what a command wrote (read-your-writes)."""
        position = result.get("position") if isinstance(result, dict) else getattr(result, "position", None)
        if position:
            await self.runner.until(position, 10.0)  # woken the moment it is applied; holds no thread


def services(request: Request) -> Services:
    return request.app.state.services


bearer = HTTPBearer(auto_error=False, description="POST /api/v1/auth/login 获取令牌 / get a token")


def unauthorized(message: str = "请先登录 / sign in first") -> HTTPException:
    return HTTPException(401, error_body("unauthorized", message), headers={"WWW-Authenticate": "Bearer"})


async def current_user(
    svc: Annotated[Services, Depends(services)],
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if creds is None or not creds.credentials:
        raise unauthorized()
    # A token checked a moment ago costs a dictionary lookup, not a thread hop and a query.
    user = svc.accounts.cached(creds.credentials) or await run_in_threadpool(svc.accounts.authenticate, creds.credentials)
    if user is None:
        raise unauthorized("令牌无效或已过期，请重新登录 / the token is invalid or expired")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
Svc = Annotated[Services, Depends(services)]


def forbidden(message: str) -> HTTPException:
    return HTTPException(403, error_body("forbidden", message))


def require(user: User, *roles: str) -> None:
    if user.role not in roles:
        wanted = "、".join(f"{ROLE_NAMES[r]}({r})" for r in roles)
        raise forbidden(f"此操作须由{wanted}执行 / this needs role {', '.join(roles)}")


def require_unit_scope(user: User, unit: str) -> None:
    """A unit user sees and acts for their own unit only."""
    if user.role == "unit" and user.unit != unit:
        raise forbidden(f"您只能查看和操作本单位（{user.unit}）的内容 / you may see only your own unit")


def command_id(user: User, idempotency_key: str | None) -> str:
    """A command's idempotency key: the client's ``Idempotency-Key`` (scoped to the user) or a new one."""
    if idempotency_key is not None:
        key = idempotency_key.strip()
        if not key or len(key) > 200:
            raise HTTPException(400, error_body("invalid_idempotency_key", "Idempotency-Key 须为 1–200 个字符 / 1..200 chars", "Idempotency-Key"))
        return f"{user.username}/{key}"
    return f"{user.username}/{uuid.uuid4()}"


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="重试时请使用相同的键 / reuse on retry")]
