"""Sign-in and user management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from adapters.accounts import SecondFactorRequired, Session, Throttled, User
from api.deps import CurrentUser, Svc, bearer, client_address, unauthorized
from api.errors import error_body
from api.schemas import Login, TokenOut, TotpCode, UserIn
from services import people

router = APIRouter(tags=["auth 登录与用户"])


def too_many(err: Throttled) -> HTTPException:
    return HTTPException(429, error_body(
        "too_many_attempts", f"错误次数过多，请 {err.retry_after} 秒后再试 / too many wrong attempts: try again in {err.retry_after} s"
    ), headers={"Retry-After": str(err.retry_after)})


def token_out(session: Session) -> TokenOut:
    return TokenOut(access_token=session.token, expires_at=session.expires.isoformat(), user=session.user.to_dict(), step=session.step)


async def _login(svc, request: Request, username: str, password: str, otp: str | None = None) -> TokenOut:
    try:
        found = await people.sign_in(svc, username, password, client_address(request), otp)  # throttled, bounded Argon2
    except Throttled as err:
        raise too_many(err) from None
    except SecondFactorRequired:
        raise HTTPException(401, error_body("otp_required", "请同时提供两步验证码（otp）/ send the second-factor code too (otp)", "otp"),
                            headers={"WWW-Authenticate": "Bearer"}) from None
    if found is None:
        raise unauthorized("用户名、密码或验证码错误 / wrong username, password or code")
    return token_out(found)


@router.post("/auth/login", response_model=TokenOut, summary="登录（JSON）/ sign in",
             responses={429: {"description": "错误次数过多，见 Retry-After / too many wrong attempts, see Retry-After"}})
async def login(body: Login, svc: Svc, request: Request) -> TokenOut:
    return await _login(svc, request, body.username, body.password, body.otp)


@router.post("/auth/token", response_model=TokenOut, summary="登录（OAuth2 表单）/ sign in with a form")
async def token(svc: Svc, request: Request, username: str = Form(max_length=200), password: str = Form(),
                otp: str | None = Form(None, max_length=40)) -> TokenOut:
    return await _login(svc, request, username, password, otp)


async def enrolling_user(svc: Svc, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> tuple[User, str]:
    """The user of a full token or of an ``enrol`` token (which opens only the set-up below)."""
    if creds is None or not creds.credentials:
        raise unauthorized()
    token = creds.credentials
    user = svc.accounts.cached(token) or await run_in_threadpool(svc.accounts.authenticate, token) \
        or await run_in_threadpool(svc.accounts.pending, token, "enrol")
    if user is None:
        raise unauthorized("令牌无效或已过期，请重新登录 / the token is invalid or expired")
    return user, token


Enrolling = Annotated[tuple[User, str], Depends(enrolling_user)]


@router.post("/me/totp", summary="开始设置两步验证 / begin setting up a TOTP second factor")
async def totp_begin(who: Enrolling, svc: Svc) -> dict:
    return await people.totp_begin(svc, who[0])


@router.post("/me/totp/confirm", summary="确认两步验证，得到恢复码 / confirm the second factor, get recovery codes")
async def totp_confirm(body: TotpCode, who: Enrolling, svc: Svc) -> dict:
    user, token = who
    codes = await people.totp_confirm(svc, user, body.code)
    out: dict = {"recovery_codes": codes}
    session = await people.finish_enrolment(svc, token)  # an enrol token becomes a full one
    if session is not None:
        out["session"] = token_out(session).model_dump()
    return out


@router.post("/me/totp/disable", status_code=204, summary="关闭两步验证 / turn the second factor off")
async def totp_disable(body: TotpCode, user: CurrentUser, svc: Svc) -> Response:
    await people.totp_disable(svc, user, body.code)
    return Response(status_code=204)


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
