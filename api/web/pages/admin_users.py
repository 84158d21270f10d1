"""The admin's pages (系统管理员): ``/admin/users`` — the accounts (search by login, name or unit;
filter by role and status; paged), ``/admin/users/new`` (create one), ``/admin/users/{username}``
(edit role, unit, display name; deactivate or reactivate — the user's sessions end at once, and
the last active admin stays; reset the password: a generated one-time password shown once, or
one the admin types), ``/admin/users/import`` (many accounts from the Excel template
``/admin/users/template.xlsx``: every row checked first, each bad row named by its number, and
nothing written unless every row is good).

Every change goes through :mod:`services.people` (via :mod:`api.web.backend`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from adapters.accounts import MIN_PASSWORD, User
from api.web import backend, catalogue
from api.web.forms import REFUSED, beside, raw, refusal, see_other, text
from api.web.pageroute import page_router
from api.web.people_sheet import read_people_xlsx, template_xlsx
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.sheets import MAX_UPLOAD
from domain.errors import DomainError
from domain.rules import ROLES

router = page_router()

PER_PAGE = 50
FIELDS = ["username", "display_name", "role", "unit", "password"]
#: ``?done=<what>`` on a user's page → the notice shown.
NOTICES = {"saved": "nav_adm_saved", "deactivated": "nav_adm_deactivated", "reactivated": "nav_adm_reactivated"}
STATUSES = {"active": True, "inactive": False}


def admin_only(user: User) -> None:
    backend.may_open(user, "users.write")


def user_url(username: str) -> str:
    return f"/admin/users/{quote(username, safe='')}"


@router.get("/admin/users")
async def users_page(request: Request, user: PageUser, q: str = "", role: str = "", status: str = "", page: int = 1) -> Response:
    admin_only(user)
    role = role if role in ROLES else ""
    status = status if status in STATUSES else ""
    found = await backend.find_users(services(request), user, q.strip(), role, STATUSES.get(status), page, PER_PAGE)

    def page_url(n: int) -> str:
        return "/admin/users?" + urlencode({k: v for k, v in (("q", q), ("role", role), ("status", status), ("page", str(n))) if v})

    return await render_page(
        request, "admin_users.html", user, found=found, q=q, role=role, state_filter=status, roles=ROLES,
        prev_url=page_url(found["page"] - 1) if found["page"] > 1 else None,
        next_url=page_url(found["page"] + 1) if found["page"] < found["pages"] else None,
        user_url=user_url,
    )


# ------------------------------------------------------------------ one account


async def user_form(request: Request, user: User, account: dict[str, Any] | None, *, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, status: int = 200, shown_password: str | None = None,
                    notice: str | None = None) -> Response:
    return await render_page(
        request, "admin_user.html", user, status, account=account, values=values or {}, errors=errors or {}, roles=ROLES,
        shown_password=shown_password, notice=notice, min_length=MIN_PASSWORD, user_url=user_url,
        is_self=account is not None and account["username"] == user.username,
    )


@router.get("/admin/users/new")
async def new_user_form(request: Request, user: PageUser) -> Response:
    admin_only(user)
    return await user_form(request, user, None, values={"role": "unit"})


def account_fields(form: Any) -> dict[str, str]:
    return {"username": text(form, "username"), "display_name": text(form, "display_name"), "role": text(form, "role"),
            "unit": text(form, "unit")}


@router.post("/admin/users/new")
async def create_user(request: Request, user: PageUser) -> Response:
    form = await checked_form(request)
    admin_only(user)
    values = account_fields(form)
    try:
        account, password = await backend.create_user(services(request), user, values["username"], values["role"], values["unit"] or None,
                                                      values["display_name"] or None, raw(form, "password") or None,
                                                      raw(form, "reason") or None)
    except REFUSED as err:
        error = refusal(err)
        return await user_form(request, user, None, values=values, errors=beside(error, FIELDS), status=error.status)
    # The password is shown on this answer only (a generated one is known nowhere else).
    return await user_form(request, user, account, status=201, shown_password=password,
                           notice=catalogue.t(request.state.lang, "nav_adm_created"))


# ------------------------------------------------------------------ import from the Excel template


@router.get("/admin/users/template.xlsx")
async def template(user: PageUser) -> Response:
    admin_only(user)
    return backend.file_download(template_xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "accounts-template.xlsx")


async def import_page(request: Request, user: User, *, problems: list[dict[str, Any]] | None = None, error: str | None = None,
                      created: list[dict[str, Any]] | None = None, status: int = 200) -> Response:
    lang = request.state.lang
    field_labels = {"username": catalogue.t(lang, "username"), "display_name": catalogue.t(lang, "nav_adm_display_name"),
                    "role": catalogue.t(lang, "nav_adm_role"), "unit": catalogue.t(lang, "nav_adm_unit_key"),
                    "password": catalogue.t(lang, "password")}
    return await render_page(request, "admin_users_import.html", user, status, problems=problems or [], error=error,
                             created=created or [], field_labels=field_labels)


@router.get("/admin/users/import")
async def import_form(request: Request, user: PageUser) -> Response:
    admin_only(user)
    return await import_page(request, user)


@router.post("/admin/users/import")
async def import_users(request: Request, user: PageUser) -> Response:
    form = await checked_form(request)
    admin_only(user)
    upload = form.get("file")
    lang = request.state.lang
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await import_page(request, user, error=catalogue.t(lang, "nav_adm_no_file"), status=422)
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return await import_page(request, user, error=catalogue.t(lang, "err_file_too_large"), status=413)
    try:
        rows = read_people_xlsx(data)
        created = await backend.import_users(services(request), user, rows, raw(form, "reason") or None)
    except backend.ImportRefused as err:
        return await import_page(request, user, problems=err.problems, error=catalogue.t(lang, "nav_adm_import_refused", n=len(err.problems)),
                                 status=422)
    except DomainError as err:
        error = refusal(err)
        return await import_page(request, user, error=error.message, status=error.status)
    return await import_page(request, user, created=created, status=201)


# ------------------------------------------------------------------ edit, deactivate, reset


@router.get("/admin/users/{username}")
async def user_page(request: Request, username: str, user: PageUser, done: str | None = None) -> Response:
    admin_only(user)
    account = await backend.account(services(request), user, username)
    notice = NOTICES.get(done or "")
    return await user_form(request, user, account, notice=catalogue.t(request.state.lang, notice) if notice else None)


@router.post("/admin/users/{username}")
async def update_user(request: Request, username: str, user: PageUser) -> Response:
    form = await checked_form(request)
    admin_only(user)
    svc = services(request)
    account = await backend.account(svc, user, username)
    values = {**account_fields(form), "username": username}
    try:
        await backend.update_user(svc, user, username, values["role"], values["unit"] or None, values["display_name"] or None,
                                  raw(form, "reason") or None)
    except REFUSED as err:
        error = refusal(err)
        shown = [f for f in FIELDS if f not in ("username", "password")]  # the edit form has no login or password field
        return await user_form(request, user, account, values=values, errors=beside(error, shown), status=error.status)
    return see_other(user_url(username) + "?done=saved")


@router.post("/admin/users/{username}/active")
async def set_active(request: Request, username: str, user: PageUser) -> Response:
    form = await checked_form(request)
    admin_only(user)
    svc = services(request)
    active = text(form, "active") == "1"
    try:
        await backend.set_user_active(svc, user, username, active, raw(form, "reason") or None)
    except REFUSED as err:
        error = refusal(err)
        account = await backend.account(svc, user, username)
        return await user_form(request, user, account, errors={"active": error.message}, status=error.status)
    return see_other(user_url(username) + ("?done=reactivated" if active else "?done=deactivated"))


@router.post("/admin/users/{username}/password")
async def reset_password(request: Request, username: str, user: PageUser) -> Response:
    form = await checked_form(request)
    admin_only(user)
    svc = services(request)
    account = await backend.account(svc, user, username)
    try:
        password = await backend.reset_password(svc, user, username, raw(form, "new_password") or None, raw(form, "reason") or None)
    except REFUSED as err:
        error = refusal(err)
        return await user_form(request, user, account, errors={"new_password": error.message}, status=error.status)
    return await user_form(request, user, account, shown_password=password, notice=catalogue.t(request.state.lang, "nav_adm_reset_done"))
