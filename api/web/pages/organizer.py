"""Organizer (组织部) pages: create a cycle, register units, the cycle console, feedback.

Every write goes through the same Python the JSON API runs — the API's route functions
(``api.routers.*``) or, where the API's request model would refuse a form's raw text before
the domain sees it, the same domain call the route makes (``svc.app.create_cycle``,
``svc.app.register_units``) — so every rule and every error message is the API's. An error
re-renders the form with what was typed and the message next to the field it names.

Each form carries an idempotency key made when the form is rendered (hidden field ``idem``):
a double submit of the same form is the same command, stored once.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from api.deps import command_id, require
from api.routers import adjustments as adjustments_api
from api.routers import cycles as cycles_api
from api.routers import debrief as debrief_api
from api.routers import rectification as rect_api
from api.routers import units as units_api
from api.schemas import AdjustmentIn, DeadlineIn, FeedbackIn
from api.web import i18n
from api.web.routes import PageRoute, PageUser, checked_form, render_page, services, stage_rows
from domain import rules
from domain.errors import DomainError, InvalidInput
from domain.policy import Policy
from domain.scheme import ORG_TYPES

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CONSOLE = "/org/cycles/{cycle}"
TASK_PAGES: dict[str, str] = {
    "open_cycle": CONSOLE,
    "close_stage": CONSOLE + "#stages",
    "open_stage": CONSOLE + "#stages",
    "deadline_missed": CONSOLE + "#stages",
    "allocation_rejected": CONSOLE + "#stages",
    "close_session": CONSOLE + "#debrief",
    "issue_feedback": CONSOLE + "/units/{unit}/feedback",
    "verify_rectification": CONSOLE + "#item-{item}",
    "rectification_overdue": CONSOLE + "#item-{item}",
}

POLICY_FIELDS = ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "trim_min_ballots")
THRESHOLDS = ("excellent", "good", "average")
OPENABLE = ("scoring", "debrief", "adjustments")
CLOSABLE = ("self_review", "scoring", "debrief", "adjustments")
CHINA = timezone(timedelta(hours=8))
MAX_UPLOAD = 5 * 1024 * 1024


# ------------------------------------------------------------------ helpers


def new_idem() -> str:
    return uuid.uuid4().hex


def err_of(err: Exception) -> dict[str, Any]:
    """``{code, message, field}`` of an error the API would have answered with."""
    if isinstance(err, DomainError):
        d = err.to_dict()
        return {"code": d.get("code"), "message": d.get("message", str(err)), "field": d.get("field")}
    if isinstance(err, HTTPException):
        detail = err.detail if isinstance(err.detail, dict) else {"message": str(err.detail)}
        return {"code": detail.get("code"), "message": detail.get("message", ""), "field": detail.get("field")}
    raise err


def place(error: dict[str, Any], fields: list[str]) -> dict[str, str]:
    """The error keyed by the form input it concerns (the longest input name its field starts
    with), or by ``_form`` when it names none of them."""
    field = str(error.get("field") or "")
    best = ""
    for name in fields:
        if field == name or field.startswith(name + ".") or field.startswith(name + "["):
            if len(name) > len(best):
                best = name
    return {best or "_form": error["message"]}


def status_of(err: Exception) -> int:
    if isinstance(err, HTTPException):
        return err.status_code
    return {"invalid": 422, "conflict": 409, "forbidden": 403, "not_found": 404, "unavailable": 503}.get(getattr(err, "kind", ""), 400)


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def organizer(user) -> None:
    require(user, "organizer")


def idem_of(form: FormData) -> str | None:
    return text(form, "idem") or None


# ------------------------------------------------------------------ cycles list


@router.get("/org")
@router.get("/org/cycles")
async def org_home(request: Request, user: PageUser) -> Response:
    organizer(user)
    cycles = await cycles_api.list_cycles(user, services(request))
    return await render_page(request, "organizer_cycles.html", user, cycles=cycles)


# ------------------------------------------------------------------ 1. create a cycle


def default_cycle_values() -> dict[str, str]:
    p = Policy()
    values = {
        "key": "", "year": str(datetime.now(CHINA).year), "name": "",
        "categories": "representatives 1",
    }
    for f in POLICY_FIELDS:
        values[f"policy.{f}"] = str(getattr(p, f))
    for f in THRESHOLDS:
        values[f"policy.thresholds.{f}"] = str(getattr(p.thresholds, f))
    for org in ORG_TYPES:
        values[f"scheme.{org}"] = "default" if org == "grassroots_branch" else ""
        values[f"scheme_json.{org}"] = ""
        values[f"scheme_name.{org}"] = ""
    return values


CYCLE_FIELDS = ["key", "year", "name", "categories", "schemes"] + [f"policy.{f}" for f in POLICY_FIELDS] + [
    f"policy.thresholds.{f}" for f in THRESHOLDS
] + ["policy.thresholds"] + [f"schemes.{o}" for o in ORG_TYPES]


async def cycle_form(request: Request, user, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    return await render_page(
        request, "organizer_cycle_new.html", user, status,
        values=values, errors=errors, org_types=ORG_TYPES, policy_fields=POLICY_FIELDS, thresholds=THRESHOLDS, idem=new_idem(),
    )


@router.get("/org/cycles/new")
async def new_cycle(request: Request, user: PageUser) -> Response:
    organizer(user)
    return await cycle_form(request, user, default_cycle_values(), {})


def parse_categories_text(raw: str) -> dict[str, str] | None:
    """``名称 权重`` per line (or ``名称=权重``); blank means the default single category."""
    if not raw.strip():
        return None
    out: dict[str, str] = {}
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        name, _, weight = line.replace("=", " ").replace("：", " ").replace(":", " ").rpartition(" ")
        if not name.strip():
            raise InvalidInput("invalid_categories", f"「{line}」应写作“类别 权重” / write each line as 'category weight'", "categories")
        out[name.strip()] = weight.strip()
    return out


@router.post("/org/cycles/new")
async def create_cycle(request: Request, user: PageUser) -> Response:
    organizer(user)
    form = await checked_form(request)
    svc = services(request)
    values = default_cycle_values()
    for name in values:
        if name.startswith("scheme_json.") or name.startswith("scheme_name."):
            continue
        raw = form.get(name)
        values[name] = raw.strip() if isinstance(raw, str) else ""
    for org in ORG_TYPES:  # a JSON file chosen earlier is kept across an error
        values[f"scheme_json.{org}"] = str(form.get(f"scheme_json.{org}") or "")
        values[f"scheme_name.{org}"] = str(form.get(f"scheme_name.{org}") or "")
    errors: dict[str, str] = {}
    schemes: dict[str, Any] = {}
    for org in ORG_TYPES:
        choice = values[f"scheme.{org}"]
        if choice == "default":
            schemes[org] = "default"
        elif choice == "file":
            upload = form.get(f"scheme_file.{org}")
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read(MAX_UPLOAD + 1)
                values[f"scheme_name.{org}"] = upload.filename
                if upload.filename.lower().endswith(".xlsx"):
                    # An Excel scheme: one row per evaluation point (domain.scheme.SCHEME_COLUMNS).
                    try:
                        tree = await run_in_threadpool(_scheme_from_xlsx, data[:MAX_UPLOAD], upload.filename)
                    except DomainError as e:
                        values[f"scheme_name.{org}"] = ""
                        errors[f"schemes.{org}"] = e.message
                        continue
                    values[f"scheme_json.{org}"] = json.dumps(tree, ensure_ascii=False)
                else:
                    values[f"scheme_json.{org}"] = data[:MAX_UPLOAD].decode("utf-8", "replace")
            raw = values[f"scheme_json.{org}"]
            if not raw.strip():
                errors[f"schemes.{org}"] = i18n.t(request.state.lang, "org_scheme_file_missing")
                continue
            try:
                schemes[org] = json.loads(raw)
            except ValueError as e:
                values[f"scheme_json.{org}"] = ""
                values[f"scheme_name.{org}"] = ""
                errors[f"schemes.{org}"] = f"{i18n.t(request.state.lang, 'org_not_json')}（{e}）"
    if errors:
        return await cycle_form(request, user, values, errors, 422)
    policy: dict[str, Any] = {f: values[f"policy.{f}"] for f in POLICY_FIELDS if values[f"policy.{f}"]}
    thresholds = {f: values[f"policy.thresholds.{f}"] for f in THRESHOLDS if values[f"policy.thresholds.{f}"]}
    if thresholds:
        policy["thresholds"] = thresholds
    year_raw = values["year"]
    year: Any = int(year_raw) if year_raw.lstrip("-").isdigit() else year_raw  # the domain judges the rest
    try:
        categories = parse_categories_text(values["categories"])
        out = await run_in_threadpool(
            svc.app.create_cycle, values["key"], year, values["name"], policy, schemes, categories, None,
            user.actor, command_id(user, idem_of(form)),
        )
        await svc.settle(out.to_dict())
    except (DomainError, HTTPException) as e:
        return await cycle_form(request, user, values, place(err_of(e), CYCLE_FIELDS), status_of(e))
    return RedirectResponse(f"/org/cycles/{quote(values['key'])}/units?created=1", status_code=303)


# ------------------------------------------------------------------ 2. register units


def zh_org_types() -> dict[str, str]:
    """Org type by key or by Chinese name (with the ``/`` halves of 基层党总支/党支部 too)."""
    out = {}
    for key, name in ORG_TYPES.items():
        out[key] = key
        out[name] = key
        for half in name.split("/"):
            out[half] = key
    return out


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


HEADERS = {"单位编号": "key", "编号": "key", "key": "key", "单位名称": "name", "名称": "name", "name": "name",
           "类型": "org_type", "党组织类型": "org_type", "org_type": "org_type"}


def read_units_xlsx(data: bytes) -> tuple[list[dict[str, Any]], list[int]]:
    """Units from the first sheet: a header row (单位编号, 单位名称, 类型), then one unit a row.
    Returns the units and the sheet row number of each."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input error
        raise InvalidInput("invalid_xlsx", f"无法读取该 Excel 文件（.xlsx）/ not a readable .xlsx file ({type(e).__name__})", "file") from None
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True)) if wb.worksheets else []
    finally:
        wb.close()
    if not rows:
        raise InvalidInput("empty_xlsx", "Excel 文件为空 / the sheet is empty", "file")
    columns = {}
    for i, head in enumerate(rows[0]):
        name = HEADERS.get(cell(head).lower() if cell(head).isascii() else cell(head))
        if name and name not in columns:
            columns[name] = i
    missing = [h for h, k in (("单位编号", "key"), ("单位名称", "name"), ("类型", "org_type")) if k not in columns]
    if missing:
        raise InvalidInput("missing_columns", f"表头缺少列：{'、'.join(missing)} / missing columns: {', '.join(missing)}", "file")
    types = zh_org_types()
    units, numbers = [], []
    for n, row in enumerate(rows[1:], start=2):
        values = {k: cell(row[i]) if i < len(row) else "" for k, i in columns.items()}
        if not any(values.values()):
            continue
        values["org_type"] = types.get(values["org_type"], values["org_type"])
        units.append(values)
        numbers.append(n)
    return units, numbers


async def units_page(request: Request, user, key: str, values: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None, status: int = 200, notice: str = "") -> Response:
    svc = services(request)
    cycle = cycles_api.cycle_view(await run_in_threadpool(cycles_api._cycle_row, svc, key))
    units = await units_api.list_units(key, user, svc)
    return await render_page(
        request, "organizer_units.html", user, status, cycle=cycle, units=units, org_types=ORG_TYPES,
        values=values or {"key": "", "name": "", "org_type": next(iter(cycle["org_types"] or ORG_TYPES), "")},
        errors=errors or {}, idem=new_idem(), idem_upload=new_idem(), notice=notice,
    )


@router.get("/org/cycles/{key}/units")
async def units_form(request: Request, key: str, user: PageUser, created: str | None = None, registered: int | None = None) -> Response:
    organizer(user)
    lang = request.state.lang
    notice = i18n.t(lang, "org_cycle_created") if created else ""
    if registered is not None:
        notice = i18n.t(lang, "org_units_registered").format(n=registered)
    return await units_page(request, user, key, notice=notice)


async def register(request: Request, user, key: str, units: list[dict[str, Any]], idem: str | None) -> int:
    svc = services(request)
    out = await run_in_threadpool(svc.app.register_units, key, units, user.actor, command_id(user, idem))
    await svc.settle(out.to_dict())
    return int(out.data.get("registered", 0))


@router.post("/org/cycles/{key}/units")
async def register_one(request: Request, key: str, user: PageUser) -> Response:
    organizer(user)
    form = await checked_form(request)
    values = {k: text(form, k) for k in ("key", "name", "org_type")}
    try:
        n = await register(request, user, key, [values], idem_of(form))
    except (DomainError, HTTPException) as e:
        error = err_of(e)
        field = str(error.get("field") or "").replace("units[0].", "")
        return await units_page(request, user, key, values, place({**error, "field": field}, ["key", "name", "org_type"]), status_of(e))
    return RedirectResponse(f"/org/cycles/{quote(key)}/units?registered={n}", status_code=303)


@router.post("/org/cycles/{key}/units/upload")
async def register_upload(request: Request, key: str, user: PageUser) -> Response:
    organizer(user)
    form = await checked_form(request)
    upload = form.get("file")
    lang = request.state.lang
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("file_required", i18n.t(lang, "org_choose_file"), "file")
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput("file_too_large", "文件超过 5 MB / the file is over 5 MB", "file")
        units, rows = await run_in_threadpool(read_units_xlsx, data)
        try:
            n = await register(request, user, key, units, idem_of(form))
        except DomainError as e:
            d = err_of(e)
            field = str(d.get("field") or "")
            if field.startswith("units["):
                index = int(field[6:field.index("]")])
                where = f"第 {rows[index]} 行" if lang == "zh" else f"row {rows[index]}"
                raise InvalidInput(d["code"], f"{where}：{d['message']}", "file") from None
            raise
    except (DomainError, HTTPException) as e:
        error = err_of(e)
        return await units_page(request, user, key, None, {"file": error["message"]}, status_of(e))
    return RedirectResponse(f"/org/cycles/{quote(key)}/units?registered={n}", status_code=303)


# ------------------------------------------------------------------ 3. the console


def local_input(value: str | None) -> str:
    """An ISO time as the value of a ``datetime-local`` input, in Beijing time."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return ""


def allowed(check, stages: dict[str, str], stage: str) -> bool:
    try:
        check(stages, stage)
        return True
    except DomainError:
        return False


async def console(request: Request, user, key: str, errors: dict[str, dict[str, str]] | None = None,
                  values: dict[str, dict[str, str]] | None = None, status: int = 200, notice: str = "") -> Response:
    svc = services(request)
    view = await cycles_api.get_cycle(key, user, svc)
    units = await units_api.list_units(key, user, svc)
    sessions = await debrief_api.sessions(key, user, svc)
    adjustments = await adjustments_api.list_adjustments(key, user, svc)
    items = await rect_api.list_items(key, user, svc)
    rows = stage_rows(view)
    is_open = view["status"] == "open"
    for row in rows:
        s = row["stage"]
        row["can_open"] = is_open and s in OPENABLE and allowed(rules.check_open_stage, view["stages"], s)
        row["can_close"] = is_open and s in CLOSABLE and allowed(rules.check_close_stage, view["stages"], s)
        row["deadline_input"] = local_input(row["deadline"])
    names = {u["unit"]: u["name"] for u in units}
    return await render_page(
        request, "organizer_console.html", user, status,
        cycle=view, stages=rows, units=units, sessions=sessions, adjustments=adjustments, items=items, names=names,
        errors=errors or {}, values=values or {}, notice=notice, idem=new_idem, org_types=ORG_TYPES,
        kinds=rules.ADJUSTMENT_KINDS,
    )


@router.get("/org/cycles/{key}")
async def console_page(request: Request, key: str, user: PageUser, done: str | None = None) -> Response:
    organizer(user)
    notice = i18n.t(request.state.lang, "org_done") if done else ""
    return await console(request, user, key, notice=notice)


async def act(request: Request, user, key: str, form_id: str, fields: list[str], action, anchor: str = "") -> Response:
    """Run one console action; on success back to the console, on an error the console again
    with the message beside the form's field and the form's typed values kept."""
    organizer(user)
    form = await checked_form(request)
    try:
        await action(form)
    except (DomainError, HTTPException) as e:
        values = {form_id: {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf", "idem")}}
        return await console(request, user, key, {form_id: place(err_of(e), fields)}, values, status_of(e))
    return RedirectResponse(f"/org/cycles/{quote(key)}?done=1{anchor}", status_code=303)


@router.post("/org/cycles/{key}/open")
async def open_cycle(request: Request, key: str, user: PageUser) -> Response:
    svc = services(request)

    async def run(form):
        await cycles_api.open_cycle(key, user, svc, idem=idem_of(form))

    return await act(request, user, key, "open-cycle", [], run)


@router.post("/org/cycles/{key}/stages/{stage}/{action}")
async def stage_action(request: Request, key: str, stage: str, action: str, user: PageUser) -> Response:
    svc = services(request)

    async def run(form):
        if action == "open":
            await cycles_api.open_stage(key, stage, user, svc, idem=idem_of(form))
        elif action == "close":
            await cycles_api.close_stage(key, stage, user, svc, body=None, idem=idem_of(form))
        else:
            raise HTTPException(404, {"code": "not_found", "message": "Not found"})

    return await act(request, user, key, f"stage-{stage}", [], run, "#stages")


@router.post("/org/cycles/{key}/deadlines/{stage}")
async def set_deadline(request: Request, key: str, stage: str, user: PageUser) -> Response:
    svc = services(request)

    async def run(form):
        raw = text(form, "deadline")
        value = None
        if raw:
            try:
                value = datetime.fromisoformat(raw).replace(tzinfo=CHINA).isoformat() if "T" in raw and len(raw) <= 19 else raw
            except ValueError:
                value = raw  # the API's parser words the error
        await cycles_api.set_deadline(key, stage, DeadlineIn(deadline=value), user, svc, idem=idem_of(form))

    return await act(request, user, key, f"deadline-{stage}", ["deadline"], run, "#stages")


@router.post("/org/cycles/{key}/debrief/{cohort}/close")
async def close_session(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    svc = services(request)

    async def run(form):
        await debrief_api.close(key, cohort, user, svc, idem=idem_of(form))

    return await act(request, user, key, f"session-{cohort}", [], run, "#debrief")


@router.post("/org/cycles/{key}/adjustments")
async def propose_adjustment(request: Request, key: str, user: PageUser) -> Response:
    svc = services(request)

    async def run(form):
        body = AdjustmentIn(
            unit=text(form, "unit"), kind=text(form, "kind"), reason=text(form, "reason"),
            points=text(form, "points") or None, levels=text(form, "levels") or None, evidence=text(form, "evidence"),
        )
        await adjustments_api.propose(key, body, user, svc, idem=idem_of(form))

    return await act(request, user, key, "adjust", ["unit", "kind", "points", "levels", "reason", "evidence"], run, "#adjustments")


@router.post("/org/cycles/{key}/rectifications/{item}/verify")
async def verify_item(request: Request, key: str, item: str, user: PageUser) -> Response:
    svc = services(request)

    async def run(form):
        body = rect_api.VerifyIn(decision=text(form, "decision"), reason=text(form, "reason"))
        await rect_api.verify(key, item, body, user, svc, idem=idem_of(form))

    return await act(request, user, key, f"item-{item}", ["decision", "reason"], run, "#rectification")


# ------------------------------------------------------------------ feedback per unit


async def feedback_page(request: Request, user, key: str, unit: str, value: str | None = None,
                        errors: dict[str, str] | None = None, status: int = 200, notice: str = "") -> Response:
    svc = services(request)
    cycle = cycles_api.cycle_view(await run_in_threadpool(cycles_api._cycle_row, svc, key))
    info = await units_api.get_unit(key, unit, user, svc)
    fb = await rect_api.feedback(key, unit, user, svc)
    draft = fb.get("draft") or {}
    if value is None:
        value = fb.get("text") if fb["status"] != "none" else (draft.get("text") if isinstance(draft, dict) else "") or ""
    return await render_page(
        request, "organizer_feedback.html", user, status, cycle=cycle, unit=info, feedback=fb, value=value or "",
        errors=errors or {}, idem=new_idem(), notice=notice,
    )


@router.get("/org/cycles/{key}/units/{unit}/feedback")
async def feedback_form(request: Request, key: str, unit: str, user: PageUser, done: str | None = None) -> Response:
    organizer(user)
    notice = i18n.t(request.state.lang, "org_done") if done else ""
    return await feedback_page(request, user, key, unit, notice=notice)


@router.post("/org/cycles/{key}/units/{unit}/feedback")
async def feedback_save(request: Request, key: str, unit: str, user: PageUser) -> Response:
    organizer(user)
    form = await checked_form(request)
    svc = services(request)
    body_text = str(form.get("text") or "")
    try:
        if text(form, "action") == "issue":
            await units_api.issue_feedback(key, unit, FeedbackIn(text=body_text), user, svc, idem=idem_of(form))
        else:
            await rect_api.edit_draft(key, unit, rect_api.DraftIn(text=body_text), user, svc, idem=idem_of(form))
    except (DomainError, HTTPException) as e:
        return await feedback_page(request, user, key, unit, body_text, place(err_of(e), ["text"]), status_of(e))
    return RedirectResponse(f"/org/cycles/{quote(key)}/units/{quote(unit)}/feedback?done=1", status_code=303)


def _scheme_from_xlsx(data: bytes, filename: str) -> dict[str, Any]:
    """The first sheet of an uploaded .xlsx as a scheme tree (header row first)."""
    import io

    from openpyxl import load_workbook

    from domain.scheme import tree_from_rows

    try:
        ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:
        raise InvalidInput("invalid_scheme", "无法读取 Excel 文件 / cannot read the .xlsx file", "schemes") from None
    rows = list(ws.iter_rows(values_only=True))[1:]
    name = filename.rsplit(".", 1)[0]
    return tree_from_rows(rows, name[:64] or "excel", name or "Excel 指标体系", "schemes")
