"""The special report and the use of results (SPEC §6): the report and its suggestions, the
results and rectification spreadsheets, the results-use policy (pay coefficients,
recognition), the HR export, business grades and the cross-check, a unit's trend."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select

from adapters.accounts import User
from domain import use_of_results as use
from domain.errors import InvalidInput
from domain.stages import CycleStatus
from projections.models import CycleRow, ResultRow
from reporting import reports
from services.context import Services, command_id, in_thread
from services.permissions import allow

#: Largest business-grades CSV file taken.
MAX_GRADES_FILE = 2 * 1024 * 1024


def special_report(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    allow(user, "reports.read")
    return reports.special_report(svc.app, cycle)


def document(svc: Services, user: User, cycle: str, what: str) -> tuple[bytes, str, str]:
    """A download (bytes, media type, file name): ``report-docx``, ``report-pdf``, ``results``,
    ``rectifications``, ``hr``."""
    allow(user, "reports.read")
    return reports.build(svc.app, what, cycle)


def report_file(svc: Services, user: User, cycle: str, fmt: str) -> tuple[bytes, str, str]:
    allow(user, "reports.read")
    if fmt not in ("docx", "pdf"):
        raise InvalidInput("unknown_format", zh="格式须为 docx 或 pdf", en="docx or pdf", field="format")
    return reports.build(svc.app, f"report-{fmt}", cycle)


async def set_suggestions(svc: Services, user: User, cycle: str, text: str, idem: str | None = None) -> dict[str, Any]:
    allow(user, "report.suggest")
    return (await in_thread(svc.app.set_report_suggestions, cycle, text, user.actor, command_id(user, idem))).to_dict()


async def set_results_use(svc: Services, user: User, cycle: str, policy: dict[str, Any], idem: str | None = None) -> dict[str, Any]:
    allow(user, "results_use.set")
    return (await in_thread(svc.app.set_results_use, cycle, policy, user.actor, command_id(user, idem))).to_dict()


def hr_export(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    allow(user, "reports.read")
    return reports.hr_export(svc.app, cycle)


def may_import_grades(user: User) -> None:
    """Checked before an uploaded file is read."""
    allow(user, "business_grades.import")


async def import_grades(svc: Services, user: User, cycle: str, rows: list[dict[str, Any]], idem: str | None = None) -> dict[str, Any]:
    allow(user, "business_grades.import")
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    return (await in_thread(svc.app.import_business_grades, cycle, rows, digest, user.actor, command_id(user, idem))).to_dict()


async def import_grades_file(svc: Services, user: User, cycle: str, data: bytes, idem: str | None = None) -> dict[str, Any]:
    allow(user, "business_grades.import")
    if len(data) > MAX_GRADES_FILE:
        raise InvalidInput("file_too_large", zh="CSV 文件不能超过 2 MiB", en="the file is too large", field="file")
    digest = hashlib.sha256(data).hexdigest()
    return (await in_thread(svc.app.import_business_grades, cycle, data, digest, user.actor, command_id(user, idem))).to_dict()


def cross_check(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    allow(user, "reports.read")
    return reports.cross_check(svc.app, cycle)


def trend(svc: Services, user: User, unit: str) -> list[dict[str, Any]]:
    """A unit's grades across the published cycles."""
    allow(user, "trend.read", unit)
    with svc.runner.sessions() as db:
        cycles = {c.key: c for c in db.scalars(select(CycleRow).where(CycleRow.status.in_([CycleStatus.PUBLISHED, CycleStatus.CLOSED])))}
        history = []
        for key, c in cycles.items():
            rows = list(db.scalars(select(ResultRow).where(ResultRow.cycle == key)))
            history.append((key, c.year, {"units": {r.unit: r.result for r in rows}}))
        return use.trend(history, unit)
