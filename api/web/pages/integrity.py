"""``/audit/{cycle}/integrity``: the hash-chain check of the whole log and the current (signed) digest."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services
from api.web.views import oversight_helpers

router = page_router()


@router.get("/audit/{cycle}/integrity")
async def audit_integrity(request: Request, cycle: str, user: PageUser) -> Response:
    backend.may_open(user, "audit.read")
    svc = services(request)
    view = await backend.cycle_record(svc, cycle)
    report, line, digest = await backend.integrity(svc, user)
    return await render_page(
        request, "oversight_integrity.html", user,
        cycle=view, report=report, line=line, digest=digest, ov_nav="integrity", **oversight_helpers(request),
    )
