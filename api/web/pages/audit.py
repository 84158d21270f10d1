"""``/audit/{cycle}``: the auditor's (审计) timeline of a cycle with filters (actor, unit, stage,
event type) and the current digest; ``…/timeline.csv`` the same entries as CSV; ``…/export`` the
audit bundle (a zip the ``kaohe audit`` tool verifies offline)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from api.web import backend, catalogue
from api.web.listing import Column, Listing
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services
from api.web.views import oversight_helpers
from domain.rules import STAGES
from services.audit import to_csv

router = page_router()


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def timeline_listing(lang: str) -> Listing:
    """The timeline's paging and search (its filters by actor, unit, stage and type are the audit
    service's own, kept in every link as the page's other parameters); newest last, as stored."""
    return Listing(
        columns=[Column("position", "ov_position", lambda e: e.position)],
        search=lambda e: " ".join(str(x) for x in (e.what, e.actor, e.unit or "", e.event, catalogue.event(lang, e.event), e.reason or "", e.command_id)),
        default_sort="position",
    )


def filters_of(actor: str | None, unit: str | None, stage: str | None, type: str | None) -> dict[str, str | None]:
    return {"actor": _clean(actor), "unit": _clean(unit), "stage": _clean(stage), "type": _clean(type)}


@router.get("/audit/{cycle}")
async def audit_timeline(request: Request, cycle: str, user: PageUser, actor: str | None = None, unit: str | None = None,
                         stage: str | None = None, type: str | None = None) -> Response:
    backend.may_open(user, "audit.read")
    svc = services(request)
    view = await backend.cycle_record(svc, cycle)
    filters = filters_of(actor, unit, stage, type)
    everything, entries, digest = await backend.audit_timeline(svc, user, cycle, filters)
    names = await backend.unit_names(svc, cycle)
    options = {
        "actor": sorted({e.actor for e in everything if e.actor}),
        "unit": sorted({e.unit for e in everything if e.unit} | set(names)),
        "stage": [s for s in STAGES if any(e.stage == s for e in everything)],
        "type": sorted({e.event for e in everything}),
    }
    query = "&".join(f"{k}={quote(v)}" for k, v in filters.items() if v)
    lst = timeline_listing(request.state.lang)
    q = lst.query(request.query_params, "#timeline")
    found = lst.apply(entries, q)
    if q.q:
        query += ("&" if query else "") + f"q={quote(q.q)}"
    return await render_page(
        request, "oversight_audit.html", user,
        cycle=view, entries=found, page=q.page_of(found), search=q.q, total=len(everything), filters=filters, options=options, names=names,
        digest=digest, csv_query=query, ov_nav="audit", bundle=await backend.may_export_bundle(svc, user, cycle),
        what=lambda e: what_of(request.state.lang, e), **oversight_helpers(request),
    )


def what_of(lang: str, entry: object) -> str:
    """An entry's description as the page says it: the audit's own words (kept as they were, for
    the bundle and the CSV), with an event that has none named from the catalogue and a cohort by
    its name; on an English page the event's English name (the audit's words are Chinese)."""
    event, what = getattr(entry, "event", ""), str(getattr(entry, "what", "") or "")
    if lang == "en":
        return catalogue.event("en", event)
    if what.startswith(event):
        what = catalogue.event("zh", event) + what[len(event):]
    for key in (k.removeprefix("cohort.") for k in catalogue.CATALOGUE if k.startswith("cohort.")):
        what = what.replace(key, catalogue.cohort("zh", key))
    return catalogue.pick("zh", what)


@router.get("/audit/{cycle}/timeline.csv")
async def audit_timeline_csv(request: Request, cycle: str, user: PageUser, actor: str | None = None, unit: str | None = None,
                             stage: str | None = None, type: str | None = None) -> Response:
    backend.may_open(user, "audit.read")
    entries = await backend.audit_entries(services(request), user, cycle, filters_of(actor, unit, stage, type))
    lst = timeline_listing(request.state.lang)
    entries = lst.apply(entries, lst.query(request.query_params))  # the search too: every page, as shown
    return Response(to_csv(entries), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=\"timeline-{quote(cycle)}.csv\""})


@router.get("/audit/{cycle}/export")
async def audit_export(request: Request, cycle: str, user: PageUser) -> Response:
    backend.may_open(user, "audit.read")
    svc = services(request)
    await backend.cycle_record(svc, cycle)
    folder = Path(tempfile.mkdtemp(prefix="kaohe-bundle-"))
    tmp = folder / f"audit-{cycle}.zip"
    try:
        await backend.export_bundle(svc, user, cycle, tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        folder.rmdir()
        raise
    return FileResponse(
        tmp, media_type="application/zip", filename=tmp.name,
        background=BackgroundTask(lambda: (tmp.unlink(missing_ok=True), folder.rmdir())),
    )
