"""``/tasks``: my inbox, each task linked to the page that does it.

Each page module says which task kinds it does in its ``TASK_PAGES`` (task kind → URL pattern);
``api.web.routes.install`` gathers them into :data:`LINKS`. A kind no page claims opens the
unit's page or the cycle's page (:data:`FALLBACK`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import Response

from api.web import backend, catalogue
from api.web.listing import Column, Filter, Listing
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageUser, services

router = page_router()

#: Where a task is done when no page module claims its kind.
FALLBACK: dict[str, str] = {
    "submit_self_review": "/cycles/{cycle}/units/{unit}",
    "acknowledge_feedback": "/cycles/{cycle}/units/{unit}",
    "submit_scoring": "/cycles/{cycle}/units/{unit}",
    "issue_feedback": "/cycles/{cycle}/units/{unit}",
}
#: Task kind → page pattern: :data:`FALLBACK`, then every page module's ``TASK_PAGES`` (at install).
LINKS: dict[str, str] = dict(FALLBACK)


def task_href(task: dict[str, Any]) -> str:
    """The page that does a task. Patterns may use {cycle}, {unit}, {cohort}, {item}, {adjustment}, {proposal}."""
    pattern = LINKS.get(task["kind"])
    if pattern:
        values = {k: quote(str(task.get(k) or "")) for k in ("cycle", "unit", "cohort", "item", "adjustment", "proposal")}
        needed = [k for k in values if "{" + k + "}" in pattern]
        if all(values[k] for k in needed):
            return pattern.format(**values)
    return f"/cycles/{quote(task['cycle'])}"


def tasks_listing(lang: str, kinds: list[str]) -> Listing:
    """An organizer's inbox of a 300-unit cycle holds hundreds of tasks: searched (title, cycle,
    unit), filtered (kind, overdue), sorted and paged like the console's lists; by default in the
    inbox's own order."""
    return Listing(
        columns=[
            Column("kind", "kind", lambda x: catalogue.kind(lang, x["kind"])),
            Column("title", "task", lambda x: catalogue.pick(lang, x["title"])),
            Column("cycle", "cycle", lambda x: x["cycle_name"]),
            Column("since", "since", lambda x: x.get("since") or ""),
            Column("deadline", "deadline", lambda x: x.get("deadline") or ""),
        ],
        search=lambda x: f"{catalogue.pick(lang, x['title'])} {x['cycle_name']} {x.get('unit') or ''} {x.get('cohort') or ''}",
        filters=[
            Filter("kind", "kind", [(k, catalogue.kind(lang, k)) for k in kinds], lambda x, v: x["kind"] == v),
            Filter("late", "overdue", [("1", catalogue.t(lang, "overdue"))], lambda x, v: bool(x.get("overdue"))),
        ],
    )


@router.get("/tasks")
async def my_tasks(request: Request, user: PageUser) -> Response:
    tasks = await backend.my_tasks(services(request), user)
    for task in tasks:
        task["href"] = task_href(task)
    lst = tasks_listing(request.state.lang, sorted({t["kind"] for t in tasks}))
    query = lst.query(request.query_params)
    page = query.page_of(lst.apply(tasks, query))
    # The auditor's work is no task: the inbox points at the cycles they can audit (the nav's /audit).
    audit_cycles = await backend.cycles(services(request), user) if user.role == "auditor" and backend.may(user, "audit.read") else []
    return await render_page(request, "tasks.html", user, tasks=tasks, page=page, nav="tasks", audit_cycles=audit_cycles)
