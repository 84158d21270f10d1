"""``/cycles/{key}/units/{unit}``: one unit's status in a cycle (the API's unit scope: 403 for another unit)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services
from api.web.views import self_review_state

router = page_router()


@router.get("/cycles/{key}/units/{unit}")
async def unit_page(request: Request, key: str, unit: str, user: PageUser) -> Response:
    svc = services(request)
    cycle = await backend.cycle_record(svc, key)
    view = await backend.unit(svc, user, key, unit)
    view["sr_state"] = self_review_state(view, cycle)
    return await render_page(request, "unit.html", user, cycle=cycle, unit=view)
