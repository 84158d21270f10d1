"""People: signing in and out, the accounts an admin keeps (SPEC §1)."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from adapters.accounts import Session, User, check_password
from domain.application.accounts import check_reason
from domain.errors import Conflict, DomainError, InvalidInput, NotFound
from services.context import Services, command_id, in_thread
from services.permissions import allow


def _state(u: User) -> dict[str, Any]:
    return {"role": u.role, "unit": u.unit, "active": u.active, "display_name": u.display_name}


def _own_role(user: User, username: str, role: str, unit: str | None) -> None:
    """Nobody changes their own role or unit (an admin could otherwise make themselves anyone)."""
    if username == user.username and (role != user.role or (unit or None) != (user.unit or None)):
        raise Conflict("own_role", zh="不能修改自己的角色或所属单位，请另一位系统管理员操作",
                       en="you cannot change your own role or unit: another admin must", field="role")


async def _created(svc: Services, user: User, saved: User, reason: str | None) -> None:
    await svc.recorded(svc.app.record_account_created, saved.username, saved.role, saved.unit, saved.display_name,
                       reason, user.actor, command_id(user, None))


async def _changed(svc: Services, user: User, before: User, after: User, reason: str | None, password_reset: bool = False) -> None:
    await svc.recorded(svc.app.record_account_change, after.username, _state(before), _state(after), reason, user.actor,
                       command_id(user, None), password_reset)


async def sign_in(svc: Services, username: str, password: str, address: str | None = None, otp: str | None = None,
                  *, pending: bool = False) -> Session | None:
    """A new session (token, expiry, user, what it opens); None for a wrong name, password or code
    (Argon2, bounded). Raises ``Throttled`` while the account or address is locked, and
    ``SecondFactorRequired`` when the account has TOTP and no code came (unless ``pending``)."""
    return await svc.accounts.login_async(username, password, address, otp, pending=pending)


async def second_step(svc: Services, pending_token: str, code: str, address: str | None = None) -> Session | None:
    return await in_thread(svc.accounts.second_step, pending_token, code, address)


async def totp_begin(svc: Services, user: User) -> dict[str, Any]:
    """Begin setting up a second factor: the secret and its ``otpauth://`` URI (for the QR code)."""
    allow(user, "tasks.read")  # every role, for their own account (also with an enrol-only token)
    secret, uri = await in_thread(svc.accounts.totp_begin, user.username)
    return {"secret": secret, "otpauth_uri": uri}


async def totp_confirm(svc: Services, user: User, code: str) -> list[str]:
    """Confirm the set-up with a code from the app; answers the 10 recovery codes, shown once."""
    allow(user, "tasks.read")
    return await in_thread(svc.accounts.totp_confirm, user.username, code)


async def totp_disable(svc: Services, user: User, code: str) -> None:
    allow(user, "tasks.read")  # every signed-in role, for their own account
    await in_thread(svc.accounts.totp_disable, user.username, code)


async def finish_enrolment(svc: Services, enrol_token: str) -> Session | None:
    return await in_thread(svc.accounts.finish_enrolment, enrol_token)


async def sign_out(svc: Services, token: str) -> None:
    await in_thread(svc.accounts.logout, token)


def users(svc: Services, user: User, role: str | None = None) -> list[dict[str, Any]]:
    allow(user, "users.read")
    return [u.to_dict() for u in svc.accounts.list(role)]


async def put_user(
    svc: Services, user: User, username: str, role: str, password: str | None, unit: str | None, display_name: str | None,
    reason: str | None = None, active: bool | None = None,
) -> tuple[dict[str, Any], bool]:
    """Create or update an account: (the account, whether it was created); ``active`` false
    deactivates it, true reactivates it. Each change is an event of the account (``Account``),
    with the admin's reason."""
    allow(user, "users.write")
    _own_role(user, username, role, unit)
    if active is False and username == user.username:
        raise Conflict("deactivate_self", zh="不能停用自己的账号", en="you cannot deactivate your own account", field="active")
    check_reason(reason)
    try:
        before: User | None = await in_thread(svc.accounts.get, username)
    except NotFound:
        before = None
    svc.accounts.validate(username, role, unit, password, need_password=before is None or password is not None,
                          display_name=display_name)  # every input rule before anything changes
    if before is not None and active is False and before.active:
        await in_thread(svc.accounts.set_active, username, False)  # first: the last active admin stays, before anything changes
    saved, created = await svc.accounts.put_async(username, role, password, unit, display_name)
    if active is not None and active != saved.active:
        saved = await in_thread(svc.accounts.set_active, username, active)
    if before is None:
        await _created(svc, user, saved, reason)
        if not saved.active:
            await _changed(svc, user, replace(saved, active=True), saved, reason)
    else:
        await _changed(svc, user, before, saved, reason, password_reset=password is not None)
    return saved.to_dict(), created


# ------------------------------------------------------------------ the admin's accounts
# Every change an admin makes to an account goes through one of these functions (and only these):
# each writes the accounts table, then records the change as an event of the account
# (``domain.application.accounts``), with who, when and the reason the admin gave.

#: The letters a generated password is drawn from: no 0/O, 1/l/I to misread on a printed sheet.
PASSWORD_LETTERS = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 12
#: At most this many rows in one import.
MAX_IMPORT = 2000


def new_password() -> str:
    """A one-time password for the admin to hand over (12 letters and digits, none easy to misread),
    one the password rule accepts (never a common password, however unlikely a draw that is)."""
    while True:
        password = "".join(secrets.choice(PASSWORD_LETTERS) for _ in range(GENERATED_LENGTH))
        try:
            check_password(password)
            return password
        except InvalidInput:
            continue


def find_users(svc: Services, user: User, query: str | None = None, role: str | None = None, active: bool | None = None,
               page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of accounts (search by login, name or unit; filter by role and by active): the page
    and how many match."""
    allow(user, "users.write")
    page = max(1, page)
    found, total = svc.accounts.search(query or None, role or None, active, (page - 1) * per_page, per_page)
    return {"users": [u.to_dict() for u in found], "total": total, "page": page, "pages": max(1, -(-total // per_page))}


def account(svc: Services, user: User, username: str) -> dict[str, Any]:
    allow(user, "users.write")
    return svc.accounts.get(username).to_dict()


async def create_user(svc: Services, user: User, username: str, role: str, unit: str | None, display_name: str | None,
                      password: str | None = None, reason: str | None = None) -> tuple[dict[str, Any], str]:
    """A new account: (the account, its password — the one given, or a generated one to show once)."""
    allow(user, "users.write")
    check_reason(reason)
    password = password or new_password()
    if await in_thread(svc.accounts.exists, [username]):
        raise Conflict("user_exists", zh=f"用户 {username} 已存在", en="user already exists", field="username")
    saved, _ = await svc.accounts.put_async(username, role, password, unit, display_name)
    await _created(svc, user, saved, reason)
    return saved.to_dict(), password


async def update_user(svc: Services, user: User, username: str, role: str, unit: str | None, display_name: str | None,
                      reason: str | None = None) -> dict[str, Any]:
    """Role, unit and display name of an existing account (its password stays)."""
    allow(user, "users.write")
    _own_role(user, username, role, unit)
    check_reason(reason)
    before = await in_thread(svc.accounts.get, username)  # 404 for no such user, rather than creating one
    saved, _ = await svc.accounts.put_async(username, role, None, unit, display_name)
    await _changed(svc, user, before, saved, reason)
    return saved.to_dict()


async def set_active(svc: Services, user: User, username: str, active: bool, reason: str | None = None) -> dict[str, Any]:
    """Deactivate (the user's sessions end at once; the last active admin stays) or reactivate."""
    allow(user, "users.write")
    if not active and username == user.username:
        raise Conflict("deactivate_self", zh="不能停用自己的账号", en="you cannot deactivate your own account", field="username")
    check_reason(reason)
    before = await in_thread(svc.accounts.get, username)
    saved = await in_thread(svc.accounts.set_active, username, active)
    await _changed(svc, user, before, saved, reason)
    return saved.to_dict()


async def reset_password(svc: Services, user: User, username: str, password: str | None = None, reason: str | None = None) -> str:
    """A new password for the user (the admin's, or a generated one-time password); their sessions end.
    Answers the password, to be shown once."""
    allow(user, "users.write")
    if username == user.username:
        raise Conflict("reset_self", zh="请在“修改密码”页面修改自己的密码", en="change your own password on the change-password page", field="password")
    check_reason(reason)
    password = password or new_password()
    before = await in_thread(svc.accounts.get, username)
    saved = await in_thread(svc.accounts.set_password, username, password)
    await _changed(svc, user, before, saved, reason, password_reset=True)
    return password


async def change_own_password(svc: Services, user: User, token: str | None, current: str, new: str, repeated: str) -> None:
    """The signed-in user's own password: the current one checked, the new one typed twice; their
    other sessions end, this one stays."""
    allow(user, "tasks.read")  # every signed-in role
    if new != repeated:
        raise InvalidInput("password_mismatch", zh="两次输入的新密码不一致", en="the new passwords differ", field="repeated")
    await in_thread(svc.accounts.change_password, user.username, current, new, token)


def check_people(svc: Services, rows: list[tuple[int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every problem of an import at once: ``{row, field, message}`` per bad cell (its sheet row
    number), a login twice in the file, a login already taken. Empty when every row may be created."""
    problems: list[dict[str, Any]] = []
    if len(rows) > MAX_IMPORT:
        return [{"row": None, "field": None, "message": f"一次最多导入 {MAX_IMPORT} 个账号 / at most {MAX_IMPORT} accounts at once"}]
    seen: dict[str, int] = {}
    for number, p in rows:
        try:
            svc.accounts.validate(p.get("username"), p.get("role"), p.get("unit"), p.get("password"),
                                  need_password=bool(p.get("password")), display_name=p.get("display_name"))
        except DomainError as err:
            problems.append({"row": number, "field": err.field, "message": err.message})
            continue
        name = p["username"]
        if name in seen:
            problems.append({"row": number, "field": "username",
                             "message": f"用户名 {name} 与第 {seen[name]} 行重复 / login {name} is also on row {seen[name]}"})
        seen.setdefault(name, number)
    taken = svc.accounts.exists(list(seen))
    for number, p in rows:
        if p.get("username") in taken and seen.get(p["username"]) == number:
            problems.append({"row": number, "field": "username",
                             "message": f"用户 {p['username']} 已存在 / user {p['username']} already exists"})
    return sorted(problems, key=lambda e: (e["row"] or 0))


class ImportRefused(InvalidInput):
    """An import with a bad row: every problem (``problems``), and nothing written."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("import_refused", f"{len(problems)} 处错误，未导入任何账号 / {len(problems)} problem(s): nothing was imported", "file")
        self.problems = problems


async def import_users(svc: Services, user: User, rows: list[tuple[int, dict[str, Any]]], reason: str | None = None) -> list[dict[str, Any]]:
    """Create every account of a sheet, or none: each row ``(sheet row number, {username, role, unit,
    display_name, password?})``. A row with no password gets a generated one. Answers each account
    with its password (shown once)."""
    allow(user, "users.write")
    if not rows:
        raise InvalidInput("import_empty", zh="表格中没有账号", en="the sheet has no accounts", field="file")
    problems = await in_thread(check_people, svc, rows)
    if problems:
        raise ImportRefused(problems)
    people = [{**p, "password": p.get("password") or new_password()} for _, p in rows]
    created = await in_thread(svc.accounts.add_many, people)
    await svc.recorded(svc.app.record_accounts_created, [u.to_dict() for u in created], reason,
                       user.actor, command_id(user, None))
    return [{**u.to_dict(), "password": p["password"]} for u, p in zip(created, people)]
