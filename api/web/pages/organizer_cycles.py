"""The organizer's (组织部) cycles: ``/org`` (the list) and ``/org/cycles/new`` (create a cycle:
key, year, name, policy with its defaults filled in, a scheme per org type — the default, a JSON
file or an .xlsx — and the ballot categories).

The form is the domain's ``create_cycle`` (:func:`api.web.backend.create_cycle`), so every rule and
message is the API's. An error re-renders the form with what was typed (a chosen file is kept)
and the message beside the field it names.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.web import backend, catalogue
from api.web.forms import REFUSED, beside, idem_of, new_idem, refusal, see_other
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.sheets import MAX_UPLOAD, parse_categories_text, scheme_from_xlsx
from domain.errors import DomainError
from domain.policy import Policy
from domain.scheme import ORG_TYPES
from reporting.documents import CHINA

router = page_router()

POLICY_FIELDS = ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "trim_min_ballots", "rectification_share")
THRESHOLDS = ("excellent", "good", "average")
#: The inputs of the form an API error's field may name (``schemes.<org>`` is the scheme chooser).
CYCLE_FIELDS = ["key", "year", "name", "categories", "schemes"] + [f"policy.{f}" for f in POLICY_FIELDS] + [
    f"policy.thresholds.{f}" for f in THRESHOLDS
] + ["policy.thresholds"] + [f"schemes.{o}" for o in ORG_TYPES]


@router.get("/org")
@router.get("/org/cycles")
async def org_home(request: Request, user: PageUser) -> Response:
    backend.may_open(user, "cycle.create")
    cycles = await backend.cycles(services(request), user)
    return await render_page(request, "organizer_cycles.html", user, cycles=cycles)


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


async def cycle_form(request: Request, user, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    return await render_page(
        request, "organizer_cycle_new.html", user, status,
        values=values, errors=errors, org_types=ORG_TYPES, policy_fields=POLICY_FIELDS, thresholds=THRESHOLDS, idem=new_idem(),
    )


@router.get("/org/cycles/new")
async def new_cycle(request: Request, user: PageUser) -> Response:
    backend.may_open(user, "cycle.create")
    return await cycle_form(request, user, default_cycle_values(), {})


async def read_schemes(request: Request, form, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The scheme per org type: ``default``, or a chosen file (JSON, or .xlsx one row per point)
    kept in ``values`` across an error; a problem goes into ``errors`` beside its org type."""
    lang = request.state.lang
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
                    try:
                        tree = await run_in_threadpool(scheme_from_xlsx, data[:MAX_UPLOAD], upload.filename)
                    except DomainError as e:
                        values[f"scheme_name.{org}"] = ""
                        errors[f"schemes.{org}"] = e.message
                        continue
                    values[f"scheme_json.{org}"] = json.dumps(tree, ensure_ascii=False)
                else:
                    values[f"scheme_json.{org}"] = data[:MAX_UPLOAD].decode("utf-8", "replace")
            raw = values[f"scheme_json.{org}"]
            if not raw.strip():
                errors[f"schemes.{org}"] = catalogue.t(lang, "org_scheme_file_missing")
                continue
            try:
                schemes[org] = json.loads(raw)
            except ValueError as e:
                values[f"scheme_json.{org}"] = ""
                values[f"scheme_name.{org}"] = ""
                errors[f"schemes.{org}"] = catalogue.t(lang, "with_detail", text=catalogue.t(lang, "org_not_json"), detail=e)
    return schemes


@router.post("/org/cycles/new")
async def create_cycle(request: Request, user: PageUser) -> Response:
    backend.may_open(user, "cycle.create")
    form = await checked_form(request)
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
    schemes = await read_schemes(request, form, values, errors)
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
        await backend.create_cycle(services(request), user, values["key"], year, values["name"], policy, schemes, categories,
                                   idem_of(form))
    except REFUSED as e:
        error = refusal(e)
        return await cycle_form(request, user, values, beside(error, CYCLE_FIELDS), error.status)
    return see_other(f"/org/cycles/{quote(values['key'])}/units?created=1")
