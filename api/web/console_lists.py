"""The organizer console's two long lists (:mod:`api.web.listing`): the units with their state per
step, and the rectification items. Each says once what its columns show on the page and in the
spreadsheet, what the search box matches and which filters it has."""

from __future__ import annotations

import re
from typing import Any

from api.web import backend, catalogue
from api.web.listing import Column, Filter, Listing
from api.web.render import fmt_time

#: The steps the overview counts (``services.overview.STEPS``) and the states of each.
STEPS = ("self_review", "scoring", "feedback", "rectification")
STATES = ("not_done", "overdue", "done")
STATE_ORDER = {"overdue": 0, "not_done": 1, "done": 2, None: 3}


def natural(key: str) -> tuple:
    """``U2`` before ``U10``: digits compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", key) if part)


def step_text(lang: str, u: dict[str, Any], step: str) -> str:
    """What a unit's cell of a step says (the status in words)."""
    if step == "self_review":
        if u.get("sr_state"):  # submitted, pending, overdue or closed (api.web.views.self_review_state)
            return catalogue.t(lang, "cf_sr_" + u["sr_state"])
        return catalogue.t(lang, "not_submitted") if u["self_review"] == "pending" else catalogue.value(lang, u["self_review"])
    if step == "scoring":
        return catalogue.t(lang, "cl_scored") if u["scored"] else catalogue.t(lang, "cl_not_scored")
    if step == "feedback":
        return catalogue.t(lang, "cl_feedback_none") if u["feedback"] == "none" else catalogue.value(lang, u["feedback"])
    n = u["items"]
    if not n["total"]:
        return "—"
    return catalogue.t(lang, "cl_items_closed", closed=n["closed"], total=n["total"])


def units_listing(lang: str, cohorts: list[str]) -> Listing:
    t = lambda key, **v: catalogue.t(lang, key, **v)  # noqa: E731
    progress = [(f"{step}:{state}", t("cl_progress_choice", stage=catalogue.stage(lang, step), state=t("cl_state_" + state)))
                for step in STEPS for state in STATES]

    def keep_progress(u: dict[str, Any], value: str) -> bool:
        step, state = value.split(":")
        s = u["state"][step]
        return s == state or (state == "not_done" and s == "overdue")  # not done includes overdue

    def state_sort(step: str):
        return lambda u: (STATE_ORDER[u["state"][step]], step_text(lang, u, step))

    return Listing(
        columns=[
            Column("unit", "cl_unit_key", lambda u: natural(u["unit"]), lambda u: u["unit"]),
            Column("name", "cl_unit_name", lambda u: u["name"], lambda u: u["name"]),
            Column("cohort", "cohort", lambda u: catalogue.cohort(lang, u["cohort"]), lambda u: catalogue.cohort(lang, u["cohort"])),
            *[Column(step, f"stage.{step}", state_sort(step), lambda u, s=step: step_text(lang, u, s)) for step in STEPS],
            Column("reminded", "cl_last_reminded", lambda u: u["last_reminded"] or "", lambda u: fmt_time(u["last_reminded"]) or ""),
        ],
        search=lambda u: f"{u['unit']} {u['name']}",
        filters=[
            Filter("cohort", "cohort", [(c, catalogue.cohort(lang, c)) for c in cohorts], lambda u, v: u["cohort"] == v),
            Filter("status", "cl_progress", progress, keep_progress),
        ],
        default_sort="unit",
        tiebreak=lambda u: natural(u["unit"]),
    )


def item_late(r: dict[str, Any]) -> bool:
    """The overview's rule (``services.overview.item_late``) for one item row."""
    return backend.item_late(r["status"], r["overdue"], r.get("deadline"))


def items_listing(lang: str, names: dict[str, str], cohorts: dict[str, str]) -> Listing:
    """Rectification items; ``names`` unit → name, ``cohorts`` unit → cohort."""
    t = lambda key, **v: catalogue.t(lang, key, **v)  # noqa: E731
    statuses = ("open", "in_progress", "submitted", "closed")
    return Listing(
        columns=[
            Column("unit", "unit", lambda r: natural(r["unit"]), lambda r: r["unit"]),
            Column("name", "cl_unit_name", lambda r: names.get(r["unit"], r["unit"]), lambda r: names.get(r["unit"], r["unit"])),
            Column("item", "org_item", lambda r: r["description"], lambda r: r["description"]),
            Column("deadline", "deadline", lambda r: r["deadline"] or "", lambda r: fmt_time(r["deadline"]) or ""),
            Column("status", "status", lambda r: statuses.index(r["status"]) if r["status"] in statuses else 9,
                   lambda r: t("cl_item_late", status=t("org_item_" + r["status"])) if item_late(r) else t("org_item_" + r["status"])),
        ],
        search=lambda r: f"{r['unit']} {names.get(r['unit'], '')} {r['description']}",
        filters=[
            Filter("cohort", "cohort", [(c, catalogue.cohort(lang, c)) for c in sorted(set(cohorts.values()))],
                   lambda r, v: cohorts.get(r["unit"]) == v),
            Filter("status", "status", [(s, t("org_item_" + s)) for s in statuses] + [("overdue", t("overdue"))],
                   lambda r, v: item_late(r) if v == "overdue" else r["status"] == v),
        ],
        default_sort="unit",
        prefix="i",
        tiebreak=lambda r: (natural(r["unit"]), r.get("created_at") or ""),
    )
