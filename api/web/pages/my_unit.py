"""``/my/{cycle}/{unit}``: a unit's results, its feedback (acknowledge it, download it as .docx) and
its rectification items (report progress or completion, with evidence files); ``/my/files/{sha256}``
serves an evidence file of the user's own unit."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.forms import REFUSED, Refusal, idem_of, raw, refusal, see_other
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import fmt
from domain.errors import NotFound

router = page_router()

TASK_PAGES = {
    "acknowledge_feedback": "/my/{cycle}/{unit}",
    "report_rectification": "/my/{cycle}/{unit}",
    "remind_feedback": "/my/{cycle}/{unit}",
    "remind_rectification": "/my/{cycle}/{unit}",
}

#: ``?done=<what>`` → the notice shown.
NOTICES = {"ack": "pp_acknowledged", "report": "pp_reported"}


async def render_my(
    request: Request, user: User, cycle: str, unit: str, *, status: int = 200,
    item_error: tuple[str, Refusal] | None = None, typed_text: dict[str, str] | None = None,
    notice: str | None = None, ack_error: Refusal | None = None,
) -> Response:
    svc = services(request)
    lang = request.state.lang
    backend.may_open(user, "feedback.acknowledge")
    view = await backend.unit(svc, user, cycle, unit)
    cyc = await backend.cycle_record(svc, cycle)
    result = None
    if cyc["status"] in ("published", "closed"):
        doc = await backend.results(svc, user, cycle)
        result = doc["units"].get(unit)
        if result:
            grade = result.get("grade")
            result = {**result, "grade_name": catalogue.grade(lang, grade) if grade else ""}
    try:
        feedback: dict[str, Any] | None = await backend.feedback(svc, user, cycle, unit)
    except NotFound:
        feedback = None
    items = await backend.items(svc, user, cycle)
    items = [i for i in items if i["unit"] == unit] + await backend.carried_items(svc, user, cycle, unit)
    errors: dict[str, str] = {}
    if item_error:
        errors[item_error[0]] = item_error[1].message
    return await render_page(
        request, "people_my.html", user, status,
        cycle=cyc, unit=view, result=result, feedback=feedback, items=items, item_errors=errors,
        typed_text=typed_text or {}, notice=notice, ack_error=ack_error.body() if ack_error else None,
        item_status=catalogue.item_status, fmt=fmt,
    )


@router.get("/my/files/{sha256}")  # a literal segment: tried before /my/{cycle}/{unit} (routes.specificity)
async def my_file(request: Request, sha256: str, user: PageUser) -> Response:
    """An evidence file of the user's unit (the API's download and its scope)."""
    return await backend.evidence_file(services(request), user, sha256)


@router.get("/my/{cycle}/{unit}")
async def my_page(request: Request, cycle: str, unit: str, user: PageUser, done: str | None = None) -> Response:
    notice = NOTICES.get(done or "")
    return await render_my(request, user, cycle, unit, notice=catalogue.t(request.state.lang, notice) if notice else None)


def not_mine(error: Refusal) -> bool:
    """Another unit's page: the 403 page, not a message on a page the user may not see."""
    return error.status == 403


@router.post("/my/{cycle}/{unit}/acknowledge")
async def my_acknowledge(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    backend.require_unit_scope(user, unit)
    try:
        await backend.acknowledge_feedback(services(request), user, cycle, unit, idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        if not_mine(error):
            raise
        return await render_my(request, user, cycle, unit, status=error.status, ack_error=error)
    return see_other(f"/my/{quote(cycle)}/{quote(unit)}?done=ack")


@router.post("/my/{cycle}/{unit}/items/{item_cycle}/{item}")
async def my_item_report(request: Request, cycle: str, unit: str, item_cycle: str, item: str, user: PageUser) -> Response:
    """A progress report or the completion of an item, with evidence files (the API's store)."""
    form = await checked_form(request)
    svc = services(request)
    backend.may_open(user, "feedback.acknowledge")
    backend.require_unit_scope(user, unit)
    text = raw(form, "text")
    action = raw(form, "action") or "progress"
    try:
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
        if files:  # who may, for which item, how many: all checked before any file is stored
            await backend.may_upload_evidence(svc, user, item_cycle, item, files)
        attachments = [await backend.upload_evidence(svc, user, file) for file in files]
        report = backend.submit_completion if action == "submit" else backend.report_progress
        await report(svc, user, item_cycle, item, text, attachments, idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        if not_mine(error):
            raise
        return await render_my(request, user, cycle, unit, status=error.status, item_error=(item, error), typed_text={item: text})
    return see_other(f"/my/{quote(cycle)}/{quote(unit)}?done=report#item-{quote(item)}")


@router.get("/my/{cycle}/{unit}/feedback.docx")
async def my_feedback_docx(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await backend.feedback_docx(services(request), user, cycle, unit)
