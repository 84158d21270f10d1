"""``/org/cycles/{key}``: the organizer's cycle console — open the cycle, open and close stages, set
deadlines, close a debrief session, propose an adjustment, verify a rectification item.

Every action is one small form posting to its own URL; on success back to the console
(``?done=1`` and the section's anchor), on an error the console again with the message beside that
form's field and what was typed kept (:func:`act`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import HTTPException, Request
from fastapi.responses import Response

from api.errors import error_body
from api.web import backend, catalogue, listing
from api.web.confirm import confirm_page, confirmed
from api.web.console_lists import STEPS, items_listing, step_text, units_listing
from api.web.forms import REFUSED, beside, idem_of, new_idem, refusal, see_other, text, typed_values
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, checked_form, services
from api.web.views import bonus_cap, fmt, local_input, mark_bonus_caps, stage_rows, with_self_review_state
from domain import rules
from domain.errors import DomainError
from domain.scheme import ORG_TYPES
from domain.stages import missed_overdue
from reporting.documents import CHINA

router = page_router()

CONSOLE = "/org/cycles/{cycle}"
TASK_PAGES: dict[str, str] = {
    "open_cycle": CONSOLE,
    "close_stage": CONSOLE + "#stages",
    "open_stage": CONSOLE + "#stages",
    "deadline_missed": CONSOLE + "#stages",
    "allocation_rejected": CONSOLE + "#stages",
    "close_session": CONSOLE + "#debrief",
    # the items list filtered to the unit's items in that state, so the item is on the first page
    "verify_rectification": CONSOLE + "?iq={unit}&istatus=submitted#item-{item}",
    "rectification_overdue": CONSOLE + "?iq={unit}&istatus=overdue#item-{item}",
}

OPENABLE = ("scoring", "debrief", "adjustments")
CLOSABLE = ("self_review", "scoring", "debrief", "adjustments")


def allowed(check, stages: dict[str, str], stage: str) -> bool:
    try:
        check(stages, stage)
        return True
    except DomainError:
        return False


async def console(request: Request, user, key: str, errors: dict[str, dict[str, str]] | None = None,
                  values: dict[str, dict[str, str]] | None = None, status: int = 200, notice: str = "") -> Response:
    svc = services(request)
    lang = request.state.lang
    view = await backend.cycle(svc, user, key)
    units = await backend.overview_units(svc, user, key)
    sessions = await backend.sessions(svc, user, key)
    adjustments = await backend.adjustments(svc, user, key)
    items = await backend.items(svc, user, key)
    rows = stage_rows(view)
    is_open = view["status"] == "open"
    for row in rows:
        s = row["stage"]
        row["can_open"] = is_open and s in OPENABLE and allowed(rules.check_open_stage, view["stages"], s)
        row["can_close"] = is_open and s in CLOSABLE and allowed(rules.check_close_stage, view["stages"], s)
        row["deadline_input"] = local_input(row["deadline"])
        # The domain records a deadline only through the open cycle's process, and never for a closed stage.
        row["can_set_deadline"] = is_open and row["state"] != "closed"
    names = {u["unit"]: u["name"] for u in units}
    bonus_sums = mark_bonus_caps(request.state.lang, view, adjustments)
    with_self_review_state(units, view)
    params = request.query_params if request.method == "GET" else type(request.query_params)()
    unit_list = units_listing(lang, view["org_types"])
    unit_query = unit_list.query(params, "#units")
    for u in units:
        u["remind"] = [s for s in STEPS if backend.remindable(u, s, view["stages"])]
    item_list = items_listing(lang, names, {u["unit"]: u["cohort"] for u in units})
    item_query = item_list.query(params, "#rectification")
    return await render_page(
        request, "organizer_console.html", user, status,
        cycle=view, stages=rows, units=units, sessions=sessions, adjustments=adjustments, items=items, names=names,
        errors=errors or {}, values=values or {}, notice=notice, idem=new_idem, org_types=ORG_TYPES,
        kinds=rules.ADJUSTMENT_KINDS, bonus_cap=fmt(bonus_cap(view)), bonus_sums=bonus_sums,
        steps=STEPS, summary=backend.progress_summary(units),
        unit_page=unit_query.page_of(unit_list.apply(units, unit_query)),
        item_page=item_query.page_of(item_list.apply(items, item_query)),
        unit_query_items=unit_query.items(page=1), item_query_items=item_query.items(page=1),
        back=request.url.query if request.method == "GET" else "",
        step_text=partial(step_text, lang), progress_href=progress_href,
        remind_counts={s: sum(s in u["remind"] for u in units) for s in STEPS},
    )


def progress_href(step: str, state: str, cohort: str) -> str:
    """The units list of one cell of the overview: those of ``cohort`` (all: "") in ``state`` at ``step``."""
    return "?" + urlencode([("status", f"{step}:{state}")] + ([("cohort", cohort)] if cohort else [])) + "#units"


async def _lists(request: Request, user, key: str) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The cycle, its units (with their state per step) and its rectification items."""
    svc = services(request)
    view = await backend.cycle_record(svc, key)
    return view, await backend.overview_units(svc, user, key), await backend.items(svc, user, key)


def _download(data: bytes, name: str) -> Response:
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", headers={
        "Content-Disposition": f"attachment; filename=\"{name.encode('ascii', 'replace').decode().replace('?', '_')}\"; filename*=UTF-8''{quote(name)}",
    })


@router.get("/org/cycles/{key}/units.xlsx")
async def units_export(request: Request, key: str, user: PageUser) -> Response:
    """The units list as filtered and sorted on the console, every page, as shown."""
    backend.may_open(user, "overview.read")
    lang = request.state.lang
    view, units, _ = await _lists(request, user, key)
    unit_list = units_listing(lang, view["org_types"])
    data = listing.export(unit_list, unit_list.query(request.query_params), units, lambda k: catalogue.t(lang, k), catalogue.t(lang, "cl_units"))
    return _download(data, f"units-{key}.xlsx")


@router.get("/org/cycles/{key}/rectifications.xlsx")
async def items_export(request: Request, key: str, user: PageUser) -> Response:
    """The rectification items as filtered and sorted on the console, every page, as shown."""
    backend.may_open(user, "overview.read")
    lang = request.state.lang
    view, units, items = await _lists(request, user, key)
    item_list = items_listing(lang, {u["unit"]: u["name"] for u in units}, {u["unit"]: u["cohort"] for u in units})
    data = listing.export(item_list, item_list.query(request.query_params), items, lambda k: catalogue.t(lang, k), catalogue.t(lang, "org_rectification"))
    return _download(data, f"rectifications-{key}.xlsx")


def _back(form: Any) -> str:
    """The console's query string the form was sent from (only its parameters, re-encoded)."""
    return urlencode([(k, v) for k, v in parse_qsl(text(form, "back"))[:40] if k not in ("done",)])


@router.post("/org/cycles/{key}/units/{unit}/remind/{step}")
async def remind_unit(request: Request, key: str, unit: str, step: str, user: PageUser) -> Response:
    """催办: remind one unit of one step; back to the list where it was sent from."""
    backend.may_open(user, "unit.remind")
    form = await checked_form(request)
    try:
        await backend.remind_unit(services(request), user, key, unit, step, text(form, "note"), idem_of(form))
    except REFUSED as e:
        error = refusal(e)
        return await console(request, user, key, {f"remind-{unit}": beside(error, [])}, {}, error.status)
    back = _back(form)
    return see_other(f"/org/cycles/{quote(key)}?{back + '&' if back else ''}done=1#units")


@router.get("/org/cycles/{key}")
async def console_page(request: Request, key: str, user: PageUser, done: str | None = None) -> Response:
    backend.may_open(user, "stage.open")
    notice = catalogue.t(request.state.lang, "org_done") if done else ""
    return await console(request, user, key, notice=notice)


async def act(request: Request, user, key: str, form_id: str, fields: list[str], action, anchor: str = "") -> Response:
    """Run one console action; on success back to the console, on an error the console again
    with the message beside the form's field and the form's typed values kept."""
    backend.may_open(user, "stage.open")
    form = await checked_form(request)
    try:
        await action(form)
    except REFUSED as e:
        error = refusal(e)
        return await console(request, user, key, {form_id: beside(error, fields)}, {form_id: typed_values(form)}, error.status)
    return see_other(f"/org/cycles/{quote(key)}?done=1{anchor}")


@router.post("/org/cycles/{key}/open")
async def open_cycle(request: Request, key: str, user: PageUser) -> Response:
    async def run(form):
        await backend.open_cycle(services(request), user, key, idem_of(form))

    return await act(request, user, key, "open-cycle", [], run)


async def close_summary(request: Request, user, key: str, stage: str) -> tuple[list[str], list[str], list[str]]:
    """What closing ``stage`` will do, in words: ``(lines, named units, after)``. Self-review: how
    many units submitted, and which have not and will be recorded as not submitted (overdue only
    if the deadline has passed); scoring: which units are not scored; debrief: the sessions still open."""
    lang = request.state.lang
    svc = services(request)
    view = await backend.cycle(svc, user, key)
    after = [catalogue.t(lang, "cf_close_no_reopen")]
    if stage == "self_review":
        units = await backend.units(svc, user, key)
        pending = [u for u in units if u["self_review"] == "pending"]
        done = sum(1 for u in units if u["self_review"] == "submitted")
        if not pending:
            return [catalogue.t(lang, "cf_close_sr_all", n=len(units))], [], after
        deadline = view["deadlines"].get("self_review")
        late = missed_overdue(deadline, datetime.now(CHINA).isoformat())
        lines = [catalogue.t(lang, "cf_close_sr_missed_late" if late else "cf_close_sr_missed", n=len(pending)),
                 catalogue.t(lang, "cf_close_sr_submitted", done=done, total=len(units))]
        return lines, [catalogue.t(lang, "cf_unit_named", name=u["name"], unit=u["unit"]) for u in pending], after
    if stage == "scoring":
        units = await backend.units(svc, user, key)
        pending = [u for u in units if not u["scored"]]
        if not pending:
            return [catalogue.t(lang, "cf_close_scoring_all", n=len(units))], [], after
        return [catalogue.t(lang, "cf_close_scoring_pending", n=len(pending))], [catalogue.t(lang, "cf_unit_named", name=u["name"], unit=u["unit"]) for u in pending], after
    if stage == "debrief":
        still = [s for s in await backend.sessions(svc, user, key) if s["open"]]
        if still:
            return ([catalogue.t(lang, "cf_close_debrief_open", n=len(still))],
                    [catalogue.t(lang, "cf_unit_named", name=catalogue.cohort(lang, s["cohort"]), unit=s.get("turnout_text") or s["ballots"]) for s in still], after)
    if stage == "adjustments":
        return [catalogue.t(lang, "cf_close_adjustments")], [], after
    return [], [], after


@router.post("/org/cycles/{key}/stages/{stage}/{action}")
async def stage_action(request: Request, key: str, stage: str, action: str, user: PageUser) -> Response:
    if action == "close":
        backend.may_open(user, "stage.open")
        form = await checked_form(request)
        if not confirmed(form):  # a final action: first say what it will do
            lines, names, after = await close_summary(request, user, key, stage)
            lang = request.state.lang
            return await confirm_page(
                request, user, form, title=catalogue.t(lang, "cf_close_title", stage=catalogue.stage(lang, stage)),
                lines=lines, items=names, after=after, confirm_label=catalogue.t(lang, "cf_close_yes"),
                back_url=f"/org/cycles/{quote(key)}#stages", testid="confirm-close",
            )

    async def run(form):
        if action == "open":
            await backend.open_stage(services(request), user, key, stage, idem_of(form))
        elif action == "close":
            await backend.close_stage(services(request), user, key, stage, idem_of(form))
        else:
            raise HTTPException(404, error_body("not_found", catalogue.t(request.state.lang, "not_found")))

    return await act(request, user, key, f"stage-{stage}", [], run, "#stages")


def deadline_value(typed: str) -> str | None:
    """A ``datetime-local`` value is Beijing time; anything else goes to the API as typed (its parser words the error)."""
    if not typed:
        return None
    try:
        return datetime.fromisoformat(typed).replace(tzinfo=CHINA).isoformat() if "T" in typed and len(typed) <= 19 else typed
    except ValueError:
        return typed


@router.post("/org/cycles/{key}/deadlines/{stage}")
async def set_deadline(request: Request, key: str, stage: str, user: PageUser) -> Response:
    async def run(form):
        await backend.set_deadline(services(request), user, key, stage, deadline_value(text(form, "deadline")), idem_of(form))

    return await act(request, user, key, f"deadline-{stage}", ["deadline"], run, "#stages")


@router.post("/org/cycles/{key}/debrief/{cohort}/close")
async def close_session(request: Request, key: str, cohort: str, user: PageUser) -> Response:
    backend.may_open(user, "stage.open")
    form = await checked_form(request)
    if not confirmed(form):  # a final action: first say what it will do
        lang = request.state.lang
        session = next((s for s in await backend.sessions(services(request), user, key) if s["cohort"] == cohort), None)
        ballots = (session.get("turnout_text") or session["ballots"]) if session else 0
        return await confirm_page(
            request, user, form, title=catalogue.t(lang, "cf_session_title", cohort=catalogue.cohort(lang, cohort)),
            lines=[catalogue.t(lang, "cf_session_line", ballots=ballots)], after=[catalogue.t(lang, "cf_final")],
            confirm_label=catalogue.t(lang, "cf_session_yes"), back_url=f"/org/cycles/{quote(key)}#debrief",
            testid="confirm-close-session",
        )

    async def run(form):
        await backend.close_session(services(request), user, key, cohort, idem_of(form))

    return await act(request, user, key, f"session-{cohort}", [], run, "#debrief")


@router.post("/org/cycles/{key}/adjustments")
async def propose_adjustment(request: Request, key: str, user: PageUser) -> Response:
    async def run(form):
        await backend.propose_adjustment(
            services(request), user, key, unit=text(form, "unit"), kind=text(form, "kind"), reason=text(form, "reason"),
            points=text(form, "points") or None, levels=text(form, "levels") or None, evidence=text(form, "evidence"),
            idem=idem_of(form),
        )

    return await act(request, user, key, "adjust", ["unit", "kind", "points", "levels", "reason", "evidence"], run, "#adjustments")


@router.post("/org/cycles/{key}/rectifications/{item}/verify")
async def verify_item(request: Request, key: str, item: str, user: PageUser) -> Response:
    async def run(form):
        await backend.verify_item(services(request), user, key, item, text(form, "decision"), text(form, "reason"), idem_of(form))

    return await act(request, user, key, f"item-{item}", ["decision", "reason"], run, "#rectification")
