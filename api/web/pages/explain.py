"""``/audit/{cycle}/explain/{unit}``: one unit's grade explained step by step, each step citing the events it rests on."""

from __future__ import annotations

import re
from typing import Any

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
        cycle=view, ex=ex, unit_name=names[unit], names=names, ov_nav="audit", policy_rows=policy_rows(request.state.lang, ex["policy"]),
        formulas=formulas(request.state.lang, ex),
        **oversight_helpers(request),
    )


def formulas(lang: str, ex: dict[str, Any]) -> dict[str, str]:
    """The steps' formulas in the page's language. The explanation's own (``ex[…]["formula"]``)
    stay as the audit bundle has always said them; the page words them from the catalogue, with
    the numbers they carry (the ballots needed to trim, the bonus cap)."""
    trim = re.search(r"(\d+)", str(ex["debrief_score"].get("formula") or ""))  # its first number: the ballots needed
    cap = re.search(r",\s*([\d.]+)\)\s*$", str(ex["bonus"].get("formula") or ""))
    return {
        "work": catalogue.t(lang, "words.formula_work"),
        "debrief": catalogue.t(lang, "words.formula_debrief", n=trim.group(1) if trim else "—"),
        "composite": str(ex["composite"].get("formula") or ""),
        "bonus": catalogue.t(lang, "words.formula_bonus", cap=cap.group(1) if cap else "—"),
        "rank": catalogue.pick(lang, ex["rank"].get("rule")),
    }


def policy_rows(lang: str, policy: dict[str, Any]) -> list[tuple[str, str]]:
    """The cycle's policy as the page says it: each rule by name, thresholds by grade, shares and
    weights as numbers, yes/no in words (``work_weight`` → 工作实绩权重 0.7), never raw JSON."""
    rows = []
    sep = catalogue.t(lang, "words.list_sep")
    for key, value in policy.items():
        if key == "cited":
            continue
        label = catalogue.t(lang, f"words.policy.{key}") if catalogue.has(f"words.policy.{key}") else key
        if key == "thresholds" and isinstance(value, dict):
            text = sep.join(catalogue.t(lang, "words.threshold", grade=catalogue.grade(lang, g), value=catalogue.num(v))
                            for g, v in sorted(value.items(), key=lambda gv: -float(gv[1])))
        elif key == "categories" and isinstance(value, dict):
            text = sep.join(f"{name} {catalogue.num(w)}" for name, w in value.items())
        elif isinstance(value, bool):
            text = catalogue.t(lang, "words.yes" if value else "words.no")
        elif isinstance(value, dict):
            text = sep.join(f"{k} {catalogue.num(v)}" for k, v in value.items())
        else:
            text = catalogue.num(value) if key in ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "min_turnout", "rectification_share") else str(value)
        rows.append((label, text))
    return rows
