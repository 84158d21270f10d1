"""``/org/cycles/{key}/debrief/{cohort}``: the organizer's page of one debrief meeting — the
roster (typed, or imported from an .xlsx for several sessions at once), the turnout as sheets
come in (refreshed by htmx), the printable one-time ballot codes (PDF of QR slips), and the
close, with a reason when the turnout is below the policy's minimum."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.web import backend, catalogue
from api.web.forms import REFUSED, idem_of, new_idem, refusal, see_other, text
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.sheets import MAX_UPLOAD, parse_roster_text, read_roster_xlsx
from domain.errors import DomainError, InvalidInput

router = page_router()


def _url(key: str, cohort: str, tail: str = "") -> str:
    return f"/org/cycles/{quote(key)}/debrief/{quote(cohort)}{tail}"


async def meeting_page(request: Request, user, key: str, cohort: str, *, status: int = 200,
                       errors: dict[str, str] | None = None, roster_text: str | None = None, notice: str = "") -> Response:
    backend.may_open(user, "roster.set")
    view = await backend.debrief_session(services(request), user, key, cohort)
    if roster_text is None:
        roster_text = "\n".join(f"{m['representative']} {m['category']}" for m in view["members"])
    return await render_page(
        request, "organizer_debrief.html", user, status, s=view, errors=errors or {}, roster_text=roster_text,
        notice=notice, idem_roster=new_idem(), idem_upload=new_idem(), idem_close=new_idem(), base=_url(key, cohort),
    )


@router.get("/org/cycles/{key}/debrief/{cohort}")
async def meeting(request: Request, key: str, cohort: str, user: PageUser, done: str | None = None) -> Response:
    notice = catalogue.t(request.state.lang, "mt_roster_saved") if done == "roster" else ""
    return await meeting_page(request, user, key, cohort, notice=notice)


@router.get("/org/cycles/{key}/debrief/{cohort}/turnout")
async def turnout(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    """The turnout block alone, for htmx to refresh while sheets come in."""
    backend.may_open(user, "roster.read")
    view = await backend.debrief_session(services(request), user, key, cohort)
    return await render_page(request, "organizer_debrief_turnout.html", user, s=view)


@router.post("/org/cycles/{key}/debrief/{cohort}/roster")
async def save_roster(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    form = await checked_form(request)
    raw = text(form, "roster")
    try:
        await backend.set_rosters(services(request), user, key, {cohort: parse_roster_text(raw)}, idem_of(form))
    except REFUSED as err:
        error = refusal(err)
        return await meeting_page(request, user, key, cohort, status=error.status, errors={"roster": error.message}, roster_text=raw)
    return see_other(_url(key, cohort, "?done=roster"))


@router.post("/org/cycles/{key}/debrief/{cohort}/roster/upload")
async def upload_roster(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    backend.may_open(user, "roster.set")
    form = await checked_form(request)
    lang = request.state.lang
    try:
        rosters, rows = await _read_upload(form, lang)
        try:
            await backend.set_rosters(services(request), user, key, rosters, idem_of(form))
        except DomainError as e:
            raise InvalidInput(e.code, **_at_row(e, rosters, rows), field="file") from None
    except REFUSED as err:
        error = refusal(err)
        return await meeting_page(request, user, key, cohort, status=error.status, errors={"file": error.message})
    return see_other(_url(key, cohort, "?done=roster"))


def _at_row(e: DomainError, rosters: dict[str, Any], rows: dict[tuple[str, int], int]) -> dict[str, str]:
    """The domain's ``roster.<cohort>[i]…`` (or ``roster[i]…`` for one cohort) as the sheet's row,
    in both languages (``{"zh": …, "en": …}``)."""
    field = str(e.field or "")
    if "[" in field and field.startswith("roster"):
        head, _, rest = field.partition("[")
        cohort = head.removeprefix("roster.") if head != "roster" else next(iter(rosters))
        row = rows.get((cohort, int(rest.split("]", 1)[0])))
        if row is not None:
            return {lang: catalogue.t(lang, "at_row", row=row, message=e.text(lang)) for lang in catalogue.LANGS}
    return {"zh": e.zh, "en": e.en}


async def _read_upload(form: Any, lang: str) -> tuple[dict[str, list[dict[str, str]]], dict[tuple[str, int], int]]:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise InvalidInput("file_required", **catalogue.texts("org_choose_file"), field="file")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("file_too_large", **catalogue.texts("err_file_too_large"), field="file")
    return await run_in_threadpool(read_roster_xlsx, data)


@router.post("/org/cycles/{key}/debrief/{cohort}/codes.pdf")
async def codes_pdf(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    await checked_form(request)
    try:
        data = await backend.ballot_codes_pdf(services(request), user, key, cohort, str(request.base_url))
    except REFUSED as err:
        error = refusal(err)
        return await meeting_page(request, user, key, cohort, status=error.status, errors={"codes": error.message})
    return backend.file_download(data, "application/pdf", f"{key}-{cohort}-ballot-codes.pdf")


@router.post("/org/cycles/{key}/debrief/{cohort}/close-session")
async def close(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    form = await checked_form(request)
    try:
        await backend.close_session(services(request), user, key, cohort, idem_of(form), text(form, "reason") or None)
    except REFUSED as err:
        error = refusal(err)
        return await meeting_page(request, user, key, cohort, status=error.status, errors={"close": error.message})
    return see_other(_url(key, cohort))
