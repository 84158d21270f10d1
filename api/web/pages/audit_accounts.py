"""``/audit/accounts``: the auditor's timeline of the accounts — every account the admin created,
every role or unit change, password reset, deactivation and reactivation, with who, when and
why, read from the hash-chained log (``domain.aggregates.account``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.web import backend
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services

router = page_router()


@router.get("/audit/accounts")  # a literal segment: tried before /audit/{cycle} (routes.specificity)
async def account_timeline(request: Request, user: PageUser, account: str | None = None) -> Response:
    backend.may_open(user, "audit.read")
    chosen = (account or "").strip()[:64] or None
    entries = await backend.account_timeline(services(request), user, chosen)
    return await render_page(request, "audit_accounts.html", user, entries=entries, account=chosen)
