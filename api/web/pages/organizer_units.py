"""``/org/cycles/{key}/units``: the organizer registers a cycle's units, one by one or from an .xlsx
(header row 单位编号, 单位名称, 类型). An error re-renders the page with the message beside the
field, or, for a sheet, beside the file input naming the sheet's row."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.web import backend, catalogue
from api.web.forms import REFUSED, beside, idem_of, new_idem, refusal, see_other, text
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.sheets import MAX_UPLOAD, read_units_xlsx
from domain.errors import DomainError, InvalidInput
from domain.scheme import ORG_TYPES

router = page_router()

UNIT_FIELDS = ["key", "name", "org_type"]


async def units_page(request: Request, user, key: str, values: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None, status: int = 200, notice: str = "",
                     typed_evaluators: dict[str, str] | None = None) -> Response:
    svc = services(request)
    cycle = await backend.cycle_record(svc, key)
    units = await backend.units(svc, user, key)
    assigned = await backend.assignments(svc, user, key)
    shown = {u["unit"]: ", ".join(assigned.get(u["unit"], [])) for u in units} | (typed_evaluators or {})
    return await render_page(
        request, "organizer_units.html", user, status, cycle=cycle, units=units, org_types=ORG_TYPES,
        values=values or {"key": "", "name": "", "org_type": next(iter(cycle["org_types"] or ORG_TYPES), "")},
        errors=errors or {}, idem=new_idem(), idem_upload=new_idem(), notice=notice,
        assigned=shown, evaluators=await backend.evaluator_choices(svc, user), idem_assign=new_idem(),
    )


def evaluator_names(typed: str) -> list[str]:
    """Usernames as typed: separated by commas (either width), enumeration commas or spaces."""
    return [name for name in re.split(r"[\s,\uff0c\u3001]+", typed) if name]  # comma, full-width comma, enumeration comma


@router.post("/org/cycles/{key}/units/{unit}/evaluators")
async def assign_evaluators(request: Request, key: str, unit: str, user: PageUser) -> Response:
    backend.may_open(user, "evaluators.assign")
    form = await checked_form(request)
    typed = text(form, "evaluators")
    try:
        await backend.assign_evaluators(services(request), user, key, unit, evaluator_names(typed), idem_of(form))
    except REFUSED as e:
        error = refusal(e)
        return await units_page(request, user, key, errors={f"evaluators.{unit}": error.message}, status=error.status,
                                typed_evaluators={unit: typed})
    return see_other(f"/org/cycles/{quote(key)}/units?assigned={quote(unit)}")


@router.get("/org/cycles/{key}/units")
async def units_form(request: Request, key: str, user: PageUser, created: str | None = None, registered: int | None = None,
                     assigned: str | None = None) -> Response:
    backend.may_open(user, "units.register")
    lang = request.state.lang
    notice = catalogue.t(lang, "org_cycle_created") if created else ""
    if registered is not None:
        notice = catalogue.t(lang, "org_units_registered", n=registered)
    if assigned is not None:
        notice = catalogue.t(lang, "org_evaluators_assigned", unit=assigned)
    return await units_page(request, user, key, notice=notice)


def registered(key: str, n: int) -> Response:
    return see_other(f"/org/cycles/{quote(key)}/units?registered={n}")


@router.post("/org/cycles/{key}/units")
async def register_one(request: Request, key: str, user: PageUser) -> Response:
    backend.may_open(user, "units.register")
    form = await checked_form(request)
    values = {k: text(form, k) for k in UNIT_FIELDS}
    try:
        n = await backend.register_units(services(request), user, key, [values], idem_of(form))
    except REFUSED as e:
        error = refusal(e)
        return await units_page(request, user, key, values, beside(error, UNIT_FIELDS, strip="units[0]."), error.status)
    return registered(key, n)


async def read_upload(request: Request, form) -> tuple[list[dict[str, Any]], list[int]]:
    """The units of the uploaded sheet and the sheet row of each."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("file_required", **catalogue.texts("org_choose_file"), field="file")
    data = await upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("file_too_large", **catalogue.texts("err_file_too_large"), field="file")
    return await run_in_threadpool(read_units_xlsx, data)


@router.post("/org/cycles/{key}/units/upload")
async def register_upload(request: Request, key: str, user: PageUser) -> Response:
    backend.may_open(user, "units.register")
    form = await checked_form(request)
    try:
        units, rows = await read_upload(request, form)
        try:
            n = await backend.register_units(services(request), user, key, units, idem_of(form))
        except DomainError as e:
            field = e.field or ""
            if field.startswith("units["):  # the unit's sheet row, beside the file input
                row = rows[int(field[6:field.index("]")])]
                raise InvalidInput(e.code, field="file", **{lang: catalogue.t(lang, "at_row", row=row, message=e.text(lang))
                                                             for lang in catalogue.LANGS}) from None
            raise
    except REFUSED as e:
        error = refusal(e)
        return await units_page(request, user, key, None, {"file": error.message}, error.status)
    return registered(key, n)
