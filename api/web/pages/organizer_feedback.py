"""``/org/cycles/{key}/units/{unit}/feedback``: the organizer edits a unit's feedback draft
(written when the grades are published) and issues it."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.confirm import confirm_page, confirmed, going_back
from api.web.forms import REFUSED, beside, idem_of, new_idem, raw, refusal, see_other, text
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services

router = page_router()

TASK_PAGES = {"issue_feedback": "/org/cycles/{cycle}/units/{unit}/feedback"}


async def feedback_page(request: Request, user, key: str, unit: str, value: str | None = None,
                        errors: dict[str, str] | None = None, status: int = 200, notice: str = "") -> Response:
    svc = services(request)
    cycle = await backend.cycle_record(svc, key)
    info = await backend.unit(svc, user, key, unit)
    fb = await backend.feedback(svc, user, key, unit)
    draft = fb.get("draft") or {}
    if value is None:
        value = fb.get("text") if fb["status"] != "none" else (draft.get("text") if isinstance(draft, dict) else "") or ""
    return await render_page(
        request, "organizer_feedback.html", user, status, cycle=cycle, unit=info, feedback=fb, value=value or "",
        errors=errors or {}, idem=new_idem(), notice=notice,
    )


@router.get("/org/cycles/{key}/units/{unit}/feedback")
async def feedback_form(request: Request, key: str, unit: str, user: PageUser, done: str | None = None) -> Response:
    backend.may_open(user, "feedback.issue")
    notice = catalogue.t(request.state.lang, "org_done") if done else ""
    return await feedback_page(request, user, key, unit, notice=notice)


@router.post("/org/cycles/{key}/units/{unit}/feedback")
async def feedback_save(request: Request, key: str, unit: str, user: PageUser) -> Response:
    backend.may_open(user, "feedback.issue")
    form = await checked_form(request)
    svc = services(request)
    body_text = raw(form, "text")
    if text(form, "action") == "issue" and going_back(form):
        return await feedback_page(request, user, key, unit, body_text)
    if text(form, "action") == "issue" and not confirmed(form):  # a final action: say what will be issued
        lang = request.state.lang
        info = await backend.unit(svc, user, key, unit)
        return await confirm_page(
            request, user, form, title=catalogue.t(lang, "cf_fb_title"),
            lines=[catalogue.t(lang, "cf_fb_line", unit=info["name"], chars=len(body_text.strip()))],
            after=[catalogue.t(lang, "cf_fb_after")], confirm_label=catalogue.t(lang, "cf_fb_yes"), testid="confirm-feedback",
        )
    try:
        if text(form, "action") == "issue":
            await backend.issue_feedback(svc, user, key, unit, body_text, idem_of(form))
        else:
            await backend.edit_feedback_draft(svc, user, key, unit, body_text, idem_of(form))
    except REFUSED as e:
        error = refusal(e)
        return await feedback_page(request, user, key, unit, body_text, beside(error, ["text"]), error.status)
    return see_other(f"/org/cycles/{quote(key)}/units/{quote(unit)}/feedback?done=1")
