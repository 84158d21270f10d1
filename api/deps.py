"""Dependencies of the JSON API: the services, the current user, the idempotency key.

Who may do what is not checked here but at the service layer's door (``services.permissions``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from adapters.accounts import User
from api.errors import error_body
from services import Services


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
        if await run_in_threadpool(svc.accounts.pending, creds.credentials, "enrol") is not None:
            raise HTTPException(403, error_body("totp_enrolment_required", "此账号须先设置两步验证（POST /api/v1/me/totp）/ "
                                                "set up a second factor first (POST /api/v1/me/totp)"))
        raise unauthorized("令牌无效或已过期，请重新登录 / the token is invalid or expired")
    return user


def client_address(request: Request) -> str | None:
    """The client's address the sign-in throttle counts by (the proxy's view when uvicorn trusts it)."""
    return request.client.host if request.client else None


CurrentUser = Annotated[User, Depends(current_user)]
Svc = Annotated[Services, Depends(services)]


def checked_key(idempotency_key: str | None) -> str | None:
    """The client's ``Idempotency-Key``, stripped; 400 when it is empty or too long."""
    if idempotency_key is None:
        return None
    key = idempotency_key.strip()
    if not key or len(key) > 200:
        raise HTTPException(400, error_body("invalid_idempotency_key", "Idempotency-Key 须为 1–200 个字符 / 1..200 chars", "Idempotency-Key"))
    return key


def idempotency_key(
    idempotency_key_header: Annotated[str | None, Header(alias="Idempotency-Key", description="重试时请使用相同的键 / reuse on retry")] = None,
) -> str | None:
    return checked_key(idempotency_key_header)


IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def json_answer(body: bytes) -> Response:
    """A cached answer (JSON bytes from ``services.readcache``) as the response."""
    return Response(body, media_type="application/json")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def file_answer(*media: str) -> dict[str, Any]:
    """The route arguments of a download: the OpenAPI document promises these media types for a
    200, not JSON (a client generated from it, and the schemathesis run, would expect JSON)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"response_class": Response, "responses": {200: {"description": "文件 / the file", "content": {m: binary for m in media}}}}


def download(data: bytes, media: str, name: str) -> Response:
    """A file download with its name in ASCII and in UTF-8 (RFC 6266)."""
    from urllib.parse import quote

    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    })

