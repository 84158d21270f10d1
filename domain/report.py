"""Feedback drafts (考核反馈) and the special report (专项报告), issue 4 items 1 and 4.

Pure functions over plain data: a results document as :func:`domain.grading.results_document`
writes it, the unit's point scores as the evaluators submitted them (``None`` = not
applicable), self-scores, adjustments and rectification counts. Nothing here reads or stores
events, and nothing is computed in binary floating point: scores are ``Decimal``, shares and
means are exact ``Fraction``s, rounded half up only when they are written out.

Conventions of the output (JSON-ready, every number a string):

- a *share* is a percentage with one decimal place and a ``%`` sign, e.g. ``"62.5%"``;
- a point's *score* and *max* are written without trailing zeros (``"2.5"``, ``"6"``);
- totals, gaps and statistics have exactly two places (``"79.42"``), as in the results.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from domain.decimals import fmt2, to_decimal
from domain.policy import GRADE_NAMES, GRADES
from domain.scheme import ORG_TYPES, Indicator, Scheme

#: Adjustment kinds and statuses, as the reports name them.
KIND_NAMES: dict[str, str] = {"bonus": "加分项", "downgrade": "降档项", "veto": "一票否决"}
STATUS_NAMES: dict[str, str] = {"approved": "已批准", "rejected": "未批准", "pending": "待审议"}

#: Rectification item statuses (domain.rules.ITEM_STATUSES) in the order reports list them.
RECTIFICATION_STATUS_NAMES: dict[str, str] = {
    "open": "待整改",
    "in_progress": "整改中",
    "submitted": "已提交待验收",
    "closed": "已验收销号",
}
CLOSED_STATUSES = ("closed",)

NO_SELF_REVIEW = "未提交自评"
UNDECIDED = "未定"

_CN_NUMBERS = "一二三四五六七八九十"


# ---------------------------------------------------------------- small exact helpers


def code_key(code: str) -> tuple:
    """Natural order of indicator codes: ``1.2`` < ``1.10`` < ``2``."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in str(code).split("."))


def _dec(value: Any, field: str) -> Decimal | None:
    return None if value is None else to_decimal(value, field)


def round_fraction(value: Fraction, places: int) -> Decimal:
    """An exact fraction rounded half up (away from zero at .5) to ``places`` decimals."""
    scaled = abs(value) * 10**places
    n = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)  # floor(x + 1/2)
    if value < 0:
        n = -n
    return Decimal(n).scaleb(-places)


def percent(share: Fraction) -> str:
    """A share of 1 as a percentage with one decimal place: ``Fraction(5, 8)`` → ``"62.5%"``."""
    return f"{round_fraction(share * 100, 1)}%"


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``2.50`` → ``"2.5"``, ``6.00`` → ``"6"``."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


def _fmt_fraction2(value: Fraction) -> str:
    return str(round_fraction(value, 2))


def _grade_name(grade: str | None) -> str:
    return GRADE_NAMES.get(grade, UNDECIDED) if grade else UNDECIDED


def _cohort_name(cohort: str | None) -> str:
    return ORG_TYPES.get(cohort or "", cohort or "")


def _cn(i: int) -> str:
    """The i-th (1-based) Chinese ordinal used in（一）（二）… lists."""
    return _CN_NUMBERS[i - 1] if 1 <= i <= len(_CN_NUMBERS) else str(i)


def _level2(scheme: Scheme) -> list[Indicator]:
    return [i for i in scheme.indicators if i.level == 2]


def _indicator_names(scheme: Scheme) -> dict[str, str]:
    return {i.code: i.name for i in scheme.indicators}


def _applicable(scheme: Scheme, scores: Mapping[str, Any] | None, field: str) -> dict[str, Decimal]:
    """The unit's scored points of ``scheme`` (not-applicable and missing points left out)."""
    out: dict[str, Decimal] = {}
    for p in scheme.points:
        value = (scores or {}).get(p.code)
        if value is not None:
            out[p.code] = to_decimal(value, f"{field}.{p.code}")
    return out


# ---------------------------------------------------------------- feedback (issue 4 item 1)


def _strengths(scheme: Scheme, scored: Mapping[str, Decimal], n: int) -> list[dict[str, Any]]:
    """The level-2 indicators with the highest share of max over their applicable points.

    ``above_average`` tells whether the indicator's share is at least the unit's own share
    over all its applicable points (the default letter praises only those)."""
    overall = None
    if scored:
        overall = Fraction(sum(scored.values(), Decimal(0))) / Fraction(
            sum((scheme.point(c).max for c in scored), Decimal(0))
        )
    rows = []
    for ind in _level2(scheme):
        codes = [c for c in ind.children if c in scored]
        if not codes:
            continue
        total = sum((scored[c] for c in codes), Decimal(0))
        maximum = sum((scheme.point(c).max for c in codes), Decimal(0))
        rows.append((Fraction(total) / Fraction(maximum), ind, total, maximum))
    rows.sort(key=lambda r: (-r[0], code_key(r[1].code)))
    return [
        {
            "code": ind.code,
            "name": ind.name,
            "score": plain(total),
            "max": plain(maximum),
            "share": percent(share),
            "above_average": overall is not None and share >= overall,
        }
        for share, ind, total, maximum in rows[:n]
    ]


def share_words(share: Decimal) -> str:
    """A policy share as a percentage without trailing zeros: ``0.80`` → ``"80%"``."""
    return f"{plain(share * 100)}%"


def _problems(
    scheme: Scheme, scored: Mapping[str, Decimal], comments: Mapping[str, str], n: int | None,
    below: Decimal = Decimal("0.80"),
) -> list[dict[str, str]]:
    """The applicable points scoring below ``below`` of their max (the policy's
    ``rectification_share``), lowest share first; at most ``n`` of them when ``n`` is given."""
    names = _indicator_names(scheme)
    rows = []
    for p in scheme.points:
        if p.code not in scored:
            continue
        share = Fraction(scored[p.code]) / Fraction(p.max)
        if share >= 1 or share >= Fraction(below):
            continue
        rows.append((share, p))
    rows.sort(key=lambda r: (r[0], code_key(r[1].code)))
    return [
        {
            "code": p.code,
            "name": p.name,
            "indicator": p.indicator,
            "indicator_name": names.get(p.indicator, ""),
            "score": plain(scored[p.code]),
            "max": plain(p.max),
            "share": percent(share),
            "required": share_words(below),
            "comment": str((comments or {}).get(p.code) or "").strip(),
        }
        for share, p in (rows if n is None else rows[:n])
    ]


def problem_finding(problem: Mapping[str, Any]) -> str:
    """What was found at a problem point, as its rectification item says it:
    ``「发展党员」得分 6.00/10（60.0%），低于 80% 的要求``."""
    score = to_decimal(problem.get("score"), "score")
    maximum = to_decimal(problem.get("max"), "max")
    text = f"「{problem.get('name', '')}」得分 {score.quantize(Decimal('0.01'))}/{plain(maximum)}"
    text += f"（{percent(Fraction(score) / Fraction(maximum))}）"
    if problem.get("required"):
        text += f"，低于 {problem['required']} 的要求"
    return text


def _adjustment_row(a: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(a.get("kind", ""))
    status = str(a.get("status", "pending"))
    points = a.get("points")
    levels = a.get("levels")
    return {
        "kind": kind,
        "kind_name": KIND_NAMES.get(kind, kind),
        "points": None if points is None else plain(to_decimal(points, "adjustments.points")),
        "levels": None if levels is None else int(levels),
        "reason": str(a.get("reason") or ""),
        "status": status,
        "status_name": STATUS_NAMES.get(status, status),
    }


def _adjustment_phrase(a: Mapping[str, Any]) -> str:
    reason = a["reason"] or "相关事项"
    if a["kind"] == "bonus":
        return f"因{reason}，加{a['points']}分"
    if a["kind"] == "downgrade":
        return f"因{reason}，考核等次降{a['levels'] or 1}档"
    if a["kind"] == "veto":
        return f"因{reason}，实行一票否决"
    return f"因{reason}，作{a['kind_name']}处理"


def _strength_phrase(share: str) -> str:
    """A phrase for a strength by its (written) share, e.g. ``"95.0%"``."""
    value = Decimal(share.rstrip("%"))
    if value >= 90:
        return "工作扎实，成效明显。"
    if value >= 80:
        return "工作基础较好，取得一定成效。"
    return "在你单位各项指标中得分率相对较高。"


def _v(value: Any) -> str:
    return "—" if value is None else str(value)


def feedback_text(draft: Mapping[str, Any], rectification_days: int = 90) -> str:
    """The default feedback letter of a draft (formal Chinese; the organizer edits it)."""
    s = draft["scores"]
    grade = draft["grade"]
    lines = [
        f"{draft['name']}：",
        f"　　根据{draft['cycle_name']}工作安排，集团党委对你单位党建工作进行了考核。经党建工作指标评分、"
        "书记抓党建述职评议和集团党委审定，现将考核结果反馈如下。",
        "一、考核等次和得分",
    ]
    if grade["code"]:
        first = f"　　你单位考核等次为“{grade['name']}”。"
    else:
        first = "　　你单位考核等次尚未确定。"
    first += (
        f"党建工作评分{_v(s['work_score'])}分，书记抓党建述职评议得分{_v(s['debrief_score'])}分，"
        f"综合得分{_v(s['composite'])}分，加分{_v(s['bonus'])}分，最终得分{_v(s['final_score'])}分"
    )
    if s.get("rank") is not None:
        first += f"，在{draft['cohort_name'] or '同类型单位'}中排名第{s['rank']}位"
    first += "。"
    approved = [a for a in draft["adjustments"] if a["status"] == "approved"]
    if approved:
        first += "经集团党委审定，" + "；".join(_adjustment_phrase(a) for a in approved) + "。"
    if grade.get("overridden") and grade["code"]:
        first += f"经集团党委研究决定，考核等次确定为“{grade['name']}”。"
    lines.append(first)

    lines.append("二、主要优点")
    praised = [st for st in draft["strengths"] if st.get("above_average", True)]
    if praised:
        for i, st in enumerate(praised, 1):
            lines.append(
                f"　　（{_cn(i)}）{st['name']}（{st['code']}）：得分{st['score']}分（满分{st['max']}分），"
                f"得分率{st['share']}，{_strength_phrase(st['share'])}"
            )
    else:
        lines.append("　　（暂无适用的评价指标。）")

    lines.append("三、存在问题")
    if draft["problems"]:
        for i, pr in enumerate(draft["problems"], 1):
            line = (
                f"　　（{_cn(i)}）{pr['name']}（{pr['code']}，{pr['indicator_name']}）：得分{pr['score']}分"
                f"（满分{pr['max']}分），得分率{pr['share']}"
                + (f"，低于{pr['required']}的要求。" if pr.get("required") else "。")
            )
            if pr["comment"]:
                line += f"评价意见：{pr['comment'].rstrip('。')}。"
            lines.append(line)
    else:
        required = draft.get("rectification_share")
        lines.append(
            f"　　考核中未发现得分率低于{required}的评价要点。" if required else "　　考核中未发现明显失分的评价要点。"
        )

    lines.append("四、整改要求")
    lines.append(
        "　　请你单位党组织高度重视考核反馈问题，坚持问题导向，对照上述问题逐项制定整改措施，明确整改"
        f"责任人和整改时限，自收到本反馈意见之日起{rectification_days}日内完成整改，并通过考核系统及时"
        "报送整改进展、完成情况和佐证材料。集团党委组织部将跟踪督办，对整改情况逐项验收销号。"
    )
    lines.append("集团党委组织部")
    return "\n".join(lines)


def feedback_draft(
    cycle_key: str,
    unit: str,
    name: str,
    result: Mapping[str, Any],
    scheme: Scheme,
    scores: Mapping[str, Any],
    comments: Mapping[str, str],
    adjustments: Sequence[Mapping[str, Any]],
    n_problems: int | None = None,
    n_strengths: int = 3,
    *,
    cycle_name: str | None = None,
    rectification_days: int = 90,
    rectification_share: Decimal = Decimal("0.80"),
) -> dict[str, Any]:
    """The feedback draft of one unit.

    ``result`` is the unit's entry of the results document; ``scores`` its evaluators' point
    scores (``None`` = not applicable); ``comments`` the evaluators' comments per point;
    ``adjustments`` the adjustments filed for the unit (only approved and rejected ones are
    kept; an entry naming another ``unit`` is ignored). The problems are the points scoring below
    ``rectification_share`` of their max (the cycle policy's), each a rectification item on issue.
    """
    scored = _applicable(scheme, scores, "scores")
    grade = result.get("grade")
    base = result.get("base_grade")
    adj = [
        _adjustment_row(a)
        for a in adjustments
        if a.get("unit", unit) == unit and a.get("status") in ("approved", "rejected")
    ]
    draft: dict[str, Any] = {
        "cycle": cycle_key,
        "cycle_name": cycle_name or cycle_key,
        "unit": unit,
        "name": name,
        "cohort": result.get("cohort"),
        "cohort_name": _cohort_name(result.get("cohort")),
        "grade": {
            "code": grade,
            "name": _grade_name(grade),
            "base_code": base,
            "base_name": _grade_name(base),
            "downgrade_levels": int(result.get("downgrade_levels") or 0),
            "vetoed": bool(result.get("vetoed")),
            "overridden": bool(result.get("overridden")),
        },
        "scores": {
            k: result.get(k) for k in ("work_score", "debrief_score", "composite", "bonus", "final_score", "rank")
        },
        "strengths": _strengths(scheme, scored, n_strengths),
        "problems": _problems(scheme, scored, comments or {}, n_problems, rectification_share),
        "rectification_share": share_words(rectification_share),
        "adjustments": adj,
    }
    draft["text"] = feedback_text(draft, rectification_days)
    return draft


# ---------------------------------------------------------------- special report (issue 4 item 4)


def _cohort_order(cohorts: Iterable[str]) -> list[str]:
    known = list(ORG_TYPES)
    found = set(c for c in cohorts if c)
    return [c for c in known if c in found] + sorted(found - set(known))


def _stats(values: Sequence[Decimal]) -> dict[str, Any]:
    """count, mean, median, min, max — two places, half up; ``None`` where there is no value."""
    if not values:
        return {"count": 0, "mean": None, "median": None, "min": None, "max": None}
    ordered = sorted(values)
    n = len(ordered)
    mean = sum((Fraction(v) for v in ordered), Fraction(0)) / n
    if n % 2:
        median = Fraction(ordered[n // 2])
    else:
        median = (Fraction(ordered[n // 2 - 1]) + Fraction(ordered[n // 2])) / 2
    return {
        "count": n,
        "mean": _fmt_fraction2(mean),
        "median": _fmt_fraction2(median),
        "min": fmt2(ordered[0]),
        "max": fmt2(ordered[-1]),
    }


def _common_problems(
    scheme: Scheme, cohort_units: Sequence[str], scores: Mapping[str, Mapping[str, Any] | None], n: int
) -> list[dict[str, Any]]:
    names = _indicator_names(scheme)
    scored = {u: _applicable(scheme, scores.get(u), f"scores.{u}") for u in cohort_units if scores.get(u)}
    rows = []
    for p in scheme.points:
        shares = [Fraction(s[p.code]) / Fraction(p.max) for s in scored.values() if p.code in s]
        if not shares:
            continue
        average = sum(shares, Fraction(0)) / len(shares)
        if average >= 1:
            continue
        rows.append((average, p, len(shares), sum(1 for x in shares if x < 1)))
    rows.sort(key=lambda r: (r[0], code_key(r[1].code)))
    return [
        {
            "code": p.code,
            "name": p.name,
            "indicator": p.indicator,
            "indicator_name": names.get(p.indicator, ""),
            "max": plain(p.max),
            "applicable": applicable,
            "below_full": below,
            "average_share": percent(average),
        }
        for average, p, applicable, below in rows[:n]
    ]


def special_report(
    cycle: Mapping[str, Any],
    results: Mapping[str, Any],
    units: Sequence[Mapping[str, Any]],
    schemes: Mapping[str, Scheme],
    scores: Mapping[str, Mapping[str, Any] | None],
    self_scores: Mapping[str, Mapping[str, Any] | None],
    adjustments: Sequence[Mapping[str, Any]],
    rectification: Mapping[str, int] | None,
    suggestions: str = "",
    n_common: int = 5,
    n_gaps: int = 5,
) -> dict[str, Any]:
    """The group-level special report (专项报告) of one cycle.

    ``cycle`` is ``{key, name, year}``; ``results`` the results document; ``units`` the
    cycle's units as ``{unit, name, cohort}``; ``schemes`` the scheme of each cohort;
    ``scores`` / ``self_scores`` each unit's evaluator and self scores per point;
    ``adjustments`` every adjustment as ``{unit, kind, points, levels, reason, status}``;
    ``rectification`` the number of rectification items per status (``None``: none yet).
    """
    result_units: Mapping[str, Mapping[str, Any]] = results.get("units", {})
    names = {str(u["unit"]): str(u.get("name") or u["unit"]) for u in units}
    cohort_of = {str(u["unit"]): str(u.get("cohort") or "") for u in units}
    for key, r in result_units.items():
        cohort_of.setdefault(key, str(r.get("cohort") or ""))
        names.setdefault(key, key)
    cohorts = _cohort_order(list(cohort_of.values()) + list(results.get("distribution", {})))
    members = {c: sorted((u for u, uc in cohort_of.items() if uc == c), key=code_key) for c in cohorts}

    # -- grade distribution (from the results document)
    distribution = []
    total_counts = {g: 0 for g in GRADES}
    total_units = 0
    for c in cohorts:
        counts_in = results.get("distribution", {}).get(c, {})
        counts = {g: int(counts_in.get(g, 0)) for g in GRADES}
        n = sum(1 for r in result_units.values() if r.get("cohort") == c) or sum(counts.values())
        distribution.append(
            {
                "cohort": c,
                "cohort_name": _cohort_name(c),
                "units": n,
                "counts": counts,
                "shares": {g: percent(Fraction(counts[g], n)) if n else None for g in GRADES},
                "undecided": n - sum(counts.values()),
            }
        )
        total_units += n
        for g in GRADES:
            total_counts[g] += counts[g]
    distribution_total = {
        "units": total_units,
        "counts": total_counts,
        "shares": {g: percent(Fraction(total_counts[g], total_units)) if total_units else None for g in GRADES},
        "undecided": total_units - sum(total_counts.values()),
    }

    # -- score statistics per cohort
    statistics = []
    for c in cohorts:
        rows = [r for r in result_units.values() if r.get("cohort") == c]
        entry: dict[str, Any] = {"cohort": c, "cohort_name": _cohort_name(c), "units": len(rows)}
        for key in ("final_score", "work_score", "debrief_score"):
            entry[key] = _stats([to_decimal(r[key], key) for r in rows if r.get(key) is not None])
        statistics.append(entry)

    # -- common problems per cohort
    common = []
    for c in cohorts:
        scheme = schemes.get(c)
        points = _common_problems(scheme, members[c], scores, n_common) if scheme is not None else []
        common.append({"cohort": c, "cohort_name": _cohort_name(c), "points": points})

    # -- self-review against the evaluators
    gaps = []
    missing = []
    for u in sorted(cohort_of, key=code_key):
        mine = self_scores.get(u)
        base = {"unit": u, "name": names[u], "cohort": cohort_of[u], "cohort_name": _cohort_name(cohort_of[u])}
        if not mine:
            missing.append({**base, "status": NO_SELF_REVIEW})
            continue
        theirs = scores.get(u) or {}
        both = [k for k, v in mine.items() if v is not None and theirs.get(k) is not None]
        if not both:
            continue
        own = sum((to_decimal(mine[k], f"self_scores.{u}.{k}") for k in both), Decimal(0))
        given = sum((to_decimal(theirs[k], f"scores.{u}.{k}") for k in both), Decimal(0))
        gaps.append((own - given, u, {**base, "points": len(both), "self_total": fmt2(own), "evaluator_total": fmt2(given)}))
    gaps.sort(key=lambda g: (-g[0], code_key(g[1])))
    gap_rows = [{**row, "gap": fmt2(gap)} for gap, _, row in gaps[:n_gaps]]

    # -- adjustments
    adj_rows = []
    summary: dict[str, dict[str, int]] = {}
    for a in sorted(adjustments, key=lambda a: code_key(str(a.get("unit", "")))):
        row = {"unit": str(a.get("unit", "")), "name": names.get(str(a.get("unit", "")), str(a.get("unit", "")))}
        row.update(_adjustment_row(a))
        adj_rows.append(row)
        kinds = summary.setdefault(row["kind"], {"approved": 0, "rejected": 0, "pending": 0})
        kinds[row["status"]] = kinds.get(row["status"], 0) + 1

    # -- rectification progress
    rect = None
    if rectification is not None:
        statuses = [s for s in RECTIFICATION_STATUS_NAMES] + sorted(set(rectification) - set(RECTIFICATION_STATUS_NAMES))
        counts = {s: int(rectification.get(s, 0)) for s in statuses}
        total = sum(counts.values())
        closed = sum(counts.get(s, 0) for s in CLOSED_STATUSES)
        rect = {
            "counts": counts,
            "names": {s: RECTIFICATION_STATUS_NAMES.get(s, s) for s in statuses},
            "total": total,
            "closed": closed,
            "closed_share": percent(Fraction(closed, total)) if total else None,
        }

    return {
        "cycle": {"key": cycle.get("key"), "name": cycle.get("name") or cycle.get("key"), "year": cycle.get("year")},
        "cohorts": [{"cohort": c, "cohort_name": _cohort_name(c)} for c in cohorts],
        "grades": [{"grade": g, "name": GRADE_NAMES[g]} for g in GRADES],
        "distribution": distribution,
        "distribution_total": distribution_total,
        "statistics": statistics,
        "common_problems": common,
        "gaps": gap_rows,
        "no_self_review": missing,
        "adjustments": adj_rows,
        "adjustment_summary": summary,
        "rectification": rect,
        "suggestions": suggestions or "",
    }
