"""Sign-in and user management."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, Svc, bearer, unauthorized
from api.schemas import Login, TokenOut, UserIn
from services import people

router = APIRouter(tags=["auth 登录与用户"])


async def _login(svc, username: str, password: str) -> TokenOut:
    found = await people.sign_in(svc, username, password)  # bounded Argon2
    if found is None:
        raise unauthorized("用户名或密码错误 / wrong username or password")
    token, expires, user = found
    return TokenOut(access_token=token, expires_at=expires.isoformat(), user=user.to_dict())


@router.post("/auth/login", response_model=TokenOut, summary="登录（JSON）/ sign in")
async def login(body: Login, svc: Svc) -> TokenOut:
    return await _login(svc, body.username, body.password)


@router.post("/auth/token", response_model=TokenOut, summary="登录（OAuth2 表单）/ sign in with a form")
async def token(svc: Svc, username: str = Form(), password: str = Form()) -> TokenOut:
    return await _login(svc, username, password)


@router.post("/auth/logout", status_code=204, summary="退出 / sign out")
async def logout(user: CurrentUser, svc: Svc, creds: HTTPAuthorizationCredentials = Depends(bearer)) -> Response:
    await people.sign_out(svc, creds.credentials)
    return Response(status_code=204)


@router.get("/me", summary="当前用户 / who am I")
async def me(user: CurrentUser) -> dict:
    return user.to_dict()


@router.get("/users", summary="用户列表 / list users")
async def list_users(user: CurrentUser, svc: Svc, role: str | None = None) -> list[dict]:
    return await run_in_threadpool(people.users, svc, user, role)


@router.put("/users/{username}", summary="创建或更新用户 / create or update a user")
async def put_user(username: str, body: UserIn, user: CurrentUser, svc: Svc, response: Response) -> dict:
    saved, created = await people.put_user(svc, user, username, body.role, body.password, body.unit, body.display_name, body.reason,
                                           body.active)
    response.status_code = 201 if created else 200
    return saved
