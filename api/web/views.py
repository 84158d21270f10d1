"""View models that more than one page shows: a cycle's stage rows, a scheme as a score sheet,
decimals as typed, and the template helpers of the committee's and auditor's pages."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request

from services import Services
from api.web import backend, catalogue
from domain.errors import NotFound
from domain.policy import GRADES
from domain.rules import STAGES, point_score_errors
from domain.scheme import parse_scheme
from domain.stages import missed_overdue
from reporting.documents import CHINA



def stage_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage: its state, deadline, and how far it has got (done of total; not for a
    role that reads no unit's progress, such as the admin)."""
    p = view.get("progress")
    n = p["units"] if p else 0
    done: dict[str, tuple[int, int] | None] = {} if not p else {
        # Submitted and not submitted apart: a unit recorded as not submitted is not done.
        "self_review": (p["self_review"]["submitted"], n),
        "scoring": (p["scoring"]["scored"], n),
        "debrief": (sum(1 for s in p["debrief"].values() if not s["open"]), len(p["debrief"])) if p["debrief"] else None,
        "adjustments": (p["adjustments"]["approved"] + p["adjustments"]["rejected"], sum(p["adjustments"].values()))
        if sum(p["adjustments"].values())
        else None,
        "allocation": None,
        "feedback": (p["feedback"]["issued"] + p["feedback"]["acknowledged"], n),
    }
    rows = []
    for stage in STAGES:
        pair = done.get(stage)
        rows.append({
            "stage": stage,
            "state": view["stages"].get(stage, "pending"),
            "deadline": view["deadlines"].get(stage),
            "done": pair[0] if pair else None,
            "total": pair[1] if pair else None,
            "percent": round(100 * pair[0] / pair[1]) if pair and pair[1] else 0,
            # self-review: how many were recorded as not submitted (shown apart from the submitted)
            "missed": p["self_review"]["missed"] if p and stage == "self_review" else None,
        })
    return rows


def self_review_state(unit: dict[str, Any], cycle_view: dict[str, Any]) -> str:
    """``submitted``, ``pending``, ``overdue`` (recorded as not submitted after its deadline passed)
    or ``closed`` (not submitted, the stage closed before any deadline): the ``cf_sr_<state>`` words."""
    status = unit.get("self_review") or "pending"
    if status != "missed":
        return status
    deadline = (cycle_view.get("deadlines") or {}).get("self_review")
    return "overdue" if missed_overdue(deadline, unit.get("self_review_at")) else "closed"


def with_self_review_state(units: list[dict[str, Any]], cycle_view: dict[str, Any]) -> list[dict[str, Any]]:
    """The units, each with ``sr_state`` (:func:`self_review_state`)."""
    for u in units:
        u["sr_state"] = self_review_state(u, cycle_view)
    return units


def local_input(value: str | None) -> str:
    """An ISO time as the value of a ``datetime-local`` input, in Beijing time."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")
    except ValueError:
        return ""


def fmt(value: Any) -> str:
    """A decimal without trailing zeros: ``6``, ``3.5``."""
    if value is None:
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format(d.normalize(), "f")


def total_of(values: dict[str, Any]) -> str:
    """The sum of the scores typed so far (what is not a number counts nothing)."""
    total = Decimal(0)
    for v in values.values():
        try:
            total += Decimal(str(v)) if v not in (None, "") else 0
        except InvalidOperation:
            pass
    return fmt(total)


def valid_total(values: dict[str, Any], points: list[dict[str, Any]]) -> str:
    """The sum of the scores typed so far that the domain's rule takes (``domain.rules.point_score_errors``:
    a number, ``0 ≤ s ≤ max``): a bad value counts nothing, as the live check in ``static/sheet.js``."""
    maxima = {p["code"]: Decimal(str(p["max"])) for p in points}
    typed = {code: str(v).strip() for code, v in values.items() if str(v or "").strip()}
    valid, _ = point_score_errors(maxima, typed, field="scores", allow_null=False)
    return fmt(sum((v for v in valid.values() if v is not None), Decimal(0)))


def stage_open(cycle_view: dict[str, Any], stage: str) -> bool:
    return cycle_view["stages"].get(stage) == "open"


async def scheme_tree(svc: Services, cycle: str, cohort: str, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The unit's scheme as level-1 groups → level-2 groups → points, the flat points, and the total."""
    tree = await backend.scheme(svc, cycle, cohort)
    if tree is None:
        raise NotFound("scheme_not_found", **catalogue.texts("err_no_scheme", cycle=cycle, cohort=cohort), field="cohort")
    scheme = parse_scheme(tree)
    name = lambda x: (x.name_en or x.name) if lang == "en" else x.name  # noqa: E731
    by_code = {i.code: i for i in scheme.indicators}
    points = {p.code: p for p in scheme.points}
    groups, flat = [], []
    for ind1 in (i for i in scheme.indicators if i.level == 1):
        children = []
        for code2 in ind1.children:
            ind2 = by_code[code2]
            rows = []
            for code3 in ind2.children:
                p = points[code3]
                criteria = (p.criteria_en or p.criteria) if lang == "en" else p.criteria
                row = {"code": p.code, "name": name(p), "max": fmt(p.max), "criteria": criteria}
                rows.append(row)
                flat.append(row)
            children.append({"code": ind2.code, "name": name(ind2), "max": fmt(ind2.max), "points": rows})
        groups.append({"code": ind1.code, "name": name(ind1), "max": fmt(ind1.max), "children": children})
    return groups, flat, fmt(scheme.total)


def oversight_helpers(request: Request) -> dict[str, Any]:
    """What the committee's, results and audit templates call: grade and adjustment names, JSON, the grades."""
    lang = getattr(request.state, "lang", catalogue.DEFAULT)
    return {
        "grade_name": lambda g: catalogue.grade(lang, g),
        "adj_kind": lambda k: catalogue.adjustment(lang, k),
        "as_json": lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),
        "grades": GRADES,
    }


def done_message(request: Request) -> str:
    """The notice of ``?done=<what>`` on the committee's and results pages (``ov_done_<what>``)."""
    key = f"ov_done_{request.query_params.get('done') or ''}"
    return catalogue.t(request.state.lang, key) if catalogue.has(key) else ""


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def bonus_cap(cycle: dict[str, Any]) -> Decimal:
    """The cycle policy's bonus cap (SPEC §5: ``B = min(Σ approved bonus points, bonus_cap)``)."""
    return _decimal((cycle.get("policy") or {}).get("bonus_cap", "3"))


def bonus_sums(adjustments: list[dict[str, Any]]) -> dict[str, dict[str, Decimal]]:
    """Per unit, its bonus points approved and still pending (rejected ones count for nothing)."""
    out: dict[str, dict[str, Decimal]] = {}
    for a in adjustments:
        if a.get("kind") != "bonus" or a.get("status") not in ("approved", "pending"):
            continue
        sums = out.setdefault(a["unit"], {"approved": Decimal(0), "pending": Decimal(0)})
        sums[a["status"]] += _decimal(a.get("points"))
    return out


def mark_bonus_caps(lang: str, cycle: dict[str, Any], adjustments: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Say beside each bonus that takes its unit past the cap that only the cap counts: for a
    pending one if it were approved (with the unit's approved bonuses), for an approved one when
    the approved bonuses already pass it. Returns per unit its approved and pending sums (for the
    live warning of the form)."""
    cap = bonus_cap(cycle)
    sums = bonus_sums(adjustments)
    for a in adjustments:
        a["cap_warning"] = ""
        if a.get("kind") != "bonus" or a["unit"] not in sums:
            continue
        s = sums[a["unit"]]
        if a.get("status") == "pending":
            total, every = s["approved"] + _decimal(a.get("points")), s["approved"] + s["pending"]
            if total > cap:
                a["cap_warning"] = catalogue.t(lang, "wk_cap_if_approved", total=fmt(total), cap=fmt(cap))
            elif every > cap:
                a["cap_warning"] = catalogue.t(lang, "wk_cap_if_all_approved", total=fmt(every), cap=fmt(cap))
        elif a.get("status") == "approved" and s["approved"] > cap:
            a["cap_warning"] = catalogue.t(lang, "wk_cap_approved", total=fmt(s["approved"]), cap=fmt(cap))
    return {u: {k: fmt(v) for k, v in s.items()} for u, s in sums.items()}
