"""``/results/{cycle}``: the published results — the distribution per cohort (an ECharts bar chart),
the ranked table (a unit user sees its own row) and the documents; ``/results/{cycle}/download/{what}``
serves a document to the browser, which has a cookie and not a bearer token."""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageError, PageUser, services
from api.web.views import done_message, oversight_helpers
from domain.errors import Conflict
from domain.policy import GRADES

router = page_router()

#: ``/results/{cycle}/download/{what}`` → the builder's name in :func:`reporting.reports.build`
#: (the link's label is ``ov_dl_<what>`` in the catalogue).
DOWNLOADS = {
    "results.xlsx": "results",
    "report.docx": "report-docx",
    "report.pdf": "report-pdf",
    "rectifications.xlsx": "rectifications",
    "hr-export.xlsx": "hr",
}


@router.get("/results/{cycle}")
async def results_page(request: Request, cycle: str, user: PageUser) -> Response:
    svc = services(request)
    view = await backend.cycle_record(svc, cycle)
    published = True
    try:
        doc = await backend.results(svc, user, cycle)  # the API's rule: unit users see their own row
    except Conflict as err:
        if err.code != "results_not_published":
            raise
        published, doc = False, {"units": {}, "distribution": {}}
    names = await backend.unit_names(svc, cycle)
    rows = [{"unit": u, "name": names.get(u, u), **r} for u, r in doc["units"].items()]
    rows.sort(key=lambda r: (r["cohort"], r["rank"] is None, r["rank"] or 0, r["unit"]))
    distribution = doc.get("distribution") or {}
    lang = request.state.lang
    chart = {
        "grades": [catalogue.grade(lang, g) for g in GRADES],
        "series": [{"name": catalogue.cohort(lang, cohort), "data": [int(counts.get(g, 0)) for g in GRADES]} for cohort, counts in distribution.items()],
    }
    return await render_page(
        request, "oversight_results.html", user,
        cycle=view, published=published, rows=rows, distribution=distribution,
        chart_json=json.dumps(chart, ensure_ascii=False).replace("</", "<\\/"),
        downloads=list(DOWNLOADS) if backend.may(user, "reports.read") and published else [],
        own_only=user.role == "unit", done=done_message(request), ov_nav="results", **oversight_helpers(request),
    )


@router.get("/results/{cycle}/download/{what}")
async def download(request: Request, cycle: str, what: str, user: PageUser) -> Response:
    backend.may_open(user, "reports.read")
    if what not in DOWNLOADS:
        raise PageError(404, catalogue.t(request.state.lang, "not_found_title"))
    svc = services(request)
    await backend.cycle_record(svc, cycle)  # 404 page for an unknown cycle
    data, media, name = await backend.document(svc, user, DOWNLOADS[what], cycle)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
    })
