"""``/org/cycles/{key}/bulk/{action}``: one action on many units or items from the console —
issue feedback (``feedback``), remind (``remind``, 催办) or verify rectification items as done
(``verify``) — for the rows selected, or for every row the list's filters keep (``all=1``).

GET shows one confirmation: what will happen to how many, and which rows are skipped because
the action does not apply to them (feedback already issued, an item not submitted). Confirming
sends the rows one by one (``static/bulk.js``: ``POST …/one`` per row, the progress shown as it
goes; without JavaScript ``POST …`` sends them all and shows the outcome). Each row's command
carries the key ``bulk-<batch>-<row>`` of this confirmation, so a retry — a resent request, the
page sent again — records nothing twice; a row already done is counted as skipped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from api.web import backend, catalogue
from api.web.console_lists import STEPS, items_listing, units_listing
from api.web.forms import REFUSED, new_idem, refusal, text
from api.web.pageroute import page_router
from api.web.render import render_page
from api.web.session import PageError, PageUser, checked_form, services

router = page_router()

ACTIONS = ("feedback", "remind", "verify")
#: Who may open each (the role table's action of the row's command).
RIGHTS = {"feedback": "feedback.issue", "remind": "unit.remind", "verify": "rectification.verify"}
#: The refusals that mean "already done / nothing to do here": counted as skipped, not failed.
SKIPPED = {"feedback_already_issued", "nothing_to_remind", "item_not_submitted", "already_closed", "invalid_status"}


def _action(request: Request, user, action: str) -> str:
    """The action named in the path (404 for another), once the role table lets ``user`` take it."""
    if action not in ACTIONS:
        raise PageError(404, catalogue.t(request.state.lang, "not_found_title"))
    backend.may_open(user, RIGHTS[action])
    return action


async def _targets(request: Request, user, key: str, action: str, params: Any) -> dict[str, Any]:
    """The rows the request names (``sel``, or every filtered row with ``all``), which of them the
    action applies to, and what the page says of them."""
    svc = services(request)
    lang = request.state.lang
    view = await backend.cycle_record(svc, key)
    units = await backend.overview_units(svc, user, key)
    names = {u["unit"]: u["name"] for u in units}
    chosen = set(params.getlist("sel"))
    every = params.get("all") == "1"
    step = ""
    if action == "verify":
        items = await backend.items(svc, user, key)
        lst = items_listing(lang, names, {u["unit"]: u["cohort"] for u in units})
        rows = lst.apply(items, lst.query(params)) if every else [r for r in items if r["id"] in chosen]
        apply = [r for r in rows if r["status"] == "submitted"]
        label = lambda r: catalogue.t(lang, "bk_item_label", unit=names.get(r["unit"], r["unit"]), item=r["description"][:60])  # noqa: E731
        target = lambda r: r["id"]  # noqa: E731
        back_list = lst.query(params)
    else:
        lst = units_listing(lang, view["org_types"])
        back_list = lst.query(params)
        rows = lst.apply(units, back_list) if every else [u for u in units if u["unit"] in chosen]
        if action == "remind":
            step = str(params.get("step") or "")
            if step not in STEPS:
                status = back_list.filters.get("status", "")
                step = status.split(":")[0] if status else "self_review"
            apply = [u for u in rows if backend.remindable(u, step, view["stages"])]
        else:
            apply = [u for u in rows if u["feedback"] == "none"] if view["stages"].get("feedback") == "open" else []
        label = lambda u: catalogue.t(lang, "unit_label", name=u["name"], unit=u["unit"])  # noqa: E731
        target = lambda u: u["unit"]  # noqa: E731
    back = urlencode(back_list.items(page=1))
    return {
        "cycle": view, "action": action, "step": step, "chosen": len(rows),
        "targets": [{"id": target(r), "label": label(r)} for r in apply],
        "skipped": len(rows) - len(apply),
        "back": f"/org/cycles/{quote(key)}" + (f"?{back}" if back else "") + ("#rectification" if action == "verify" else "#units"),
        "feedback_closed": action == "feedback" and view["stages"].get("feedback") != "open",
    }


@router.get("/org/cycles/{key}/bulk/{action}")
async def confirm_page(request: Request, key: str, action: str, user: PageUser) -> Response:
    found = await _targets(request, user, key, _action(request, user, action), request.query_params)
    return await render_page(request, "organizer_bulk.html", user, batch=new_idem(), results=None, **found)


async def _one(request: Request, user, key: str, action: str, batch: str, target: str, form: Any) -> tuple[str, str]:
    """One row's command: ``done``, ``skipped`` (already done, nothing to do) or ``failed``, and the message."""
    svc = services(request)
    idem = f"bulk-{batch}-{target}"[:120]
    try:
        if action == "feedback":
            await backend.issue_feedback(svc, user, key, target, "", idem)
        elif action == "remind":
            await backend.remind_unit(svc, user, key, target, text(form, "step"), text(form, "note"), idem)
        else:
            await backend.verify_item(svc, user, key, target, "approve", text(form, "reason"), idem)
    except REFUSED as e:
        error = refusal(e)
        return ("skipped" if error.code in SKIPPED else "failed"), catalogue.pick(request.state.lang, error.message)
    return "done", ""


@router.post("/org/cycles/{key}/bulk/{action}/one")
async def run_one(request: Request, key: str, action: str, user: PageUser) -> Response:
    """One row of a confirmed bulk action, for ``static/bulk.js``: JSON ``{target, result, message}``."""
    action = _action(request, user, action)
    form = await checked_form(request)
    target = text(form, "target")
    result, message = await _one(request, user, key, action, text(form, "batch"), target, form)
    return JSONResponse({"target": target, "result": result, "message": message})


@router.post("/org/cycles/{key}/bulk/{action}")
async def run_all(request: Request, key: str, action: str, user: PageUser) -> Response:
    """Without JavaScript: every confirmed row, one after the other, then the outcome."""
    action = _action(request, user, action)
    form = await checked_form(request)
    batch = text(form, "batch")
    targets = [str(v) for v in form.getlist("target")][:2000]
    results = {"done": 0, "skipped": 0, "failed": []}
    for target in targets:
        result, message = await _one(request, user, key, action, batch, target, form)
        if result == "failed":
            results["failed"].append({"id": target, "message": message})
        else:
            results[result] += 1
    found = await _targets(request, user, key, action, request.query_params)
    found["back"] = text(form, "back") if text(form, "back").startswith("/org/cycles/") else found["back"]
    return await render_page(request, "organizer_bulk.html", user, batch=batch, results=results, total=len(targets), **found)
