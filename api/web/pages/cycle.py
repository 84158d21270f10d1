"""``/cycles/{key}``: a cycle's stages, their deadlines and progress, and its units (any role the API lets read it)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services
from api.web.views import stage_rows, with_self_review_state

router = page_router()


@router.get("/cycles/{key}")
async def cycle_page(request: Request, key: str, user: PageUser) -> Response:
    svc = services(request)
    view = await backend.cycle(svc, user, key)
    units = with_self_review_state(await backend.units(svc, user, key), view) if backend.may(user, "units.read") else []
    return await render_page(request, "cycle.html", user, cycle=view, stages=stage_rows(view), units=units)
