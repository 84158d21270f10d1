"""``/audit/{cycle}/explain/{unit}``: one unit's grade explained step by step, each step citing the events it rests on."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageError, PageUser, services
from api.web.views import oversight_helpers

router = page_router()


@router.get("/audit/{cycle}/explain/{unit}")
async def audit_explain(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    backend.may_open(user, "audit.read")
    svc = services(request)
    view = await backend.cycle_record(svc, cycle)
    names = await backend.unit_names(svc, cycle)
    if unit not in names:
        raise PageError(404, catalogue.both("err_unit_not_in_cycle", unit=unit))
    ex = await backend.explain_grade(svc, user, cycle, unit)
    return await render_page(
        request, "oversight_explain.html", user,
        cycle=view, ex=ex, unit_name=names[unit], names=names, ov_nav="audit", **oversight_helpers(request),
    )
