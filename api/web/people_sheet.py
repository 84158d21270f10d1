"""The admin's accounts sheet: the template to fill in (.xlsx) and reading it back into accounts.

One account a row under a header row: 用户名 (login), 姓名 (display name), 角色 (role: its key or
its name in either language), 单位编号 (unit key; required for a unit contact), 初始密码 (optional:
left empty, a one-time password is generated). Headers may be the Chinese names or the field names.
Reading never writes: :func:`services.people.import_users` checks every row and writes all or none.
"""

from __future__ import annotations

import io
from typing import Any

from api.web import catalogue
from api.web.sheets import cell, first_sheet_rows
from domain.errors import InvalidInput
from domain.rules import ROLES

#: The template's columns: (header, the account's field).
COLUMNS = (("用户名", "username"), ("姓名", "display_name"), ("角色", "role"), ("单位编号", "unit"), ("初始密码", "password"))
#: Header names accepted → the account's field.
HEADERS = {**{h: f for h, f in COLUMNS}, **{f: f for _, f in COLUMNS},
           "登录名": "username", "login": "username", "显示名称": "display_name", "name": "display_name",
           "单位": "unit", "密码": "password"}
REQUIRED = ("username", "role")
#: Example rows of the template: a unit contact, an evaluator.
EXAMPLES = (("u-dw01", "第一党委 联络员", "被考核单位", "DW01", ""), ("pw-zhang", "张评审", "考核组成员", "", ""))


def role_names() -> dict[str, str]:
    """A role by its key, or its name in either language (as the catalogue words it)."""
    out: dict[str, str] = {}
    for role in ROLES:
        out[role] = role
        for lang in catalogue.LANGS:
            out[catalogue.role(lang, role)] = role
            out[catalogue.role(lang, role).lower()] = role
    return out


def template_xlsx() -> bytes:
    """The template an admin fills in: the header row, two example rows, and the roles' names on a second sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "账号"
    ws.append([h for h, _ in COLUMNS])
    for cell_ in ws[1]:
        cell_.font = Font(bold=True)
    for row in EXAMPLES:
        ws.append(list(row))
    for letter, width in zip("ABCDE", (18, 24, 14, 14, 18)):
        ws.column_dimensions[letter].width = width
    roles = wb.create_sheet("角色")
    roles.append(["角色", "role"])
    for role in ROLES:
        roles.append([catalogue.role("zh", role), role])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_people_xlsx(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The accounts of the first sheet, each with its sheet row number; empty rows skipped. A
    missing column is the file's error; a bad value is the row's (checked by the service)."""
    rows = first_sheet_rows(data)
    columns: dict[str, int] = {}
    for i, head in enumerate(rows[0]):
        text = cell(head)
        name = HEADERS.get(text.lower() if text.isascii() else text)
        if name and name not in columns:
            columns[name] = i
    missing = [h for h, f in COLUMNS if f in REQUIRED and f not in columns]
    if missing:
        raise InvalidInput("missing_columns", **catalogue.texts("err_missing_columns", zh="、".join(missing), en=", ".join(missing)), field="file")
    roles = role_names()
    people: list[tuple[int, dict[str, Any]]] = []
    for n, row in enumerate(rows[1:], start=2):
        values = {f: cell(row[i]) if i < len(row) else "" for f, i in columns.items()}
        if not any(values.values()):
            continue
        person: dict[str, Any] = {
            "username": values.get("username", ""),
            "role": roles.get(values.get("role", ""), roles.get(values.get("role", "").lower(), values.get("role", ""))),
            "unit": values.get("unit") or None,
            "display_name": values.get("display_name") or None,
            "password": values.get("password") or None,
        }
        people.append((n, person))
    return people
