"""The landing pages the header's nav opens for every role: ``/cycles`` (the cycles the user may
read, each with the pages their role may open), ``/results`` (the cycles whose results are
published) and ``/audit`` (the cycles to audit). What each row links to follows the role table
(:data:`services.permissions.TABLE`), so no page is reachable only by typing its address."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from adapters.accounts import User
from api.web import backend, catalogue
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services

router = page_router()

#: A cycle whose results may be read (``results.read`` answers them only after publication).
PUBLISHED = ("published", "closed")


def links(user: User, cycle: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """(label, URL) of every page of ``cycle`` the user's role may open."""
    k = quote(cycle["key"])
    out: list[tuple[str, str]] = []
    if user.role == "organizer":
        out.append((catalogue.t(lang, "nav_link_console"), f"/org/cycles/{k}"))
    if user.role == "unit" and user.unit:
        out.append((catalogue.t(lang, "nav_link_my_unit"), f"/my/{k}/{quote(user.unit)}"))
    if backend.may(user, "oversight.read") and cycle["status"] != "setup":
        out += [(catalogue.t(lang, "ov_adjustments"), f"/committee/{k}/adjustments"),
                (catalogue.t(lang, "ov_allocation"), f"/committee/{k}/allocation")]
    if backend.may(user, "results.read") and cycle["status"] in PUBLISHED:
        out.append((catalogue.t(lang, "ov_results"), f"/results/{k}"))
    if backend.may(user, "audit.read"):
        out += [(catalogue.t(lang, "ov_timeline"), f"/audit/{k}"), (catalogue.t(lang, "ov_integrity"), f"/audit/{k}/integrity")]
    return out


async def cycle_rows(request: Request, user: User) -> list[dict[str, Any]]:
    cycles = await backend.cycles(services(request), user)
    lang = request.state.lang
    return [{**c, "href": f"/org/cycles/{quote(c['key'])}" if user.role == "organizer" else f"/cycles/{quote(c['key'])}",
             "links": links(user, c, lang)} for c in cycles]


@router.get("/cycles")
async def cycles_page(request: Request, user: PageUser) -> Response:
    backend.may_open(user, "cycle.read")
    rows = await cycle_rows(request, user)
    lang = request.state.lang
    return await render_page(request, "cycles_list.html", user, rows=rows, heading=catalogue.t(lang, "nav_cycles"),
                             intro=catalogue.t(lang, "nav_intro_cycles"), none=catalogue.t(lang, "nav_none_cycles"))


@router.get("/results")
async def results_landing(request: Request, user: PageUser) -> Response:
    backend.may_open(user, "results.read")
    rows = [r for r in await cycle_rows(request, user) if r["status"] in PUBLISHED]
    for r in rows:
        r["links"] = [link for link in r["links"] if link[1].startswith("/results/")]
    lang = request.state.lang
    return await render_page(request, "cycles_list.html", user, rows=rows, heading=catalogue.t(lang, "nav_results"),
                             intro=catalogue.t(lang, "nav_intro_results"), none=catalogue.t(lang, "nav_none_results"))


@router.get("/audit")
async def audit_landing(request: Request, user: PageUser) -> Response:
    backend.may_open(user, "audit.read")
    rows = await cycle_rows(request, user)
    for r in rows:
        r["links"] = [link for link in r["links"] if link[1].startswith("/audit/")]
    lang = request.state.lang
    return await render_page(request, "cycles_list.html", user, rows=rows, heading=catalogue.t(lang, "nav_audit"),
                             intro=catalogue.t(lang, "nav_intro_audit"), none=catalogue.t(lang, "nav_none_audit"),
                             also=[(catalogue.t(lang, "accounts_timeline"), "/audit/accounts")])
