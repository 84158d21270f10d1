"""What-if replay: a cycle's grades recomputed from its events under another policy (SPEC §4–5),
unit by unit before and after, and why each changed. Nothing is written: the caller hands in the
facts the events give (``AllocationReader.facts``) and gets a plain answer back.

The committee's decisions by hand are treated so (and the answer says so for each unit):

- approved bonuses, downgrades and vetoes are inputs, as recorded (a new bonus cap still caps);
- a grade override (调整等次) is kept as recorded and flagged; if the kept overrides give a cohort
  more excellent units than the new quota allows, the cohort's note says so;
- a tie decision (并列裁定) is kept while the same units still tie for the same places; if the
  tie no longer arises it is set aside (the rules decide), and a new tie is left open, flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

from domain import grading, wording
from domain.decimals import fmt2
from domain.errors import DomainError
from domain.grading import CohortAllocation, Override, UnitFacts, UnitGrade
from domain.policy import Policy, parse_categories, parse_policy

#: The policy fields the grades depend on (the others — quorum, turnout, secrecy, the
#: rectification share — change no grade; they are accepted and said to change nothing).
GRADING_FIELDS = ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "trim_min_ballots", "thresholds")


def merged_policy(recorded: Mapping[str, Any] | None, change: Any, field_name: str = "policy") -> tuple[dict[str, Any], Policy]:
    """The cycle's recorded policy with ``change`` laid over it (thresholds merged key by key),
    validated exactly as a cycle's policy is (``parse_policy``): errors name ``policy.<field>``."""
    recorded = dict(recorded or {})
    if change is None:
        change = {}
    if not isinstance(change, Mapping):
        parse_policy(change, field_name)  # raises: "the policy must be an object"
    merged: dict[str, Any] = {**recorded, **{k: v for k, v in change.items() if k != "thresholds"}}
    if "thresholds" in change:
        th = change["thresholds"]
        merged["thresholds"] = {**(recorded.get("thresholds") or {}), **th} if isinstance(th, Mapping) else th
    return merged, parse_policy(merged, field_name)


def _policy_moves(before: Policy, after: Policy) -> list[tuple[str, str, str]]:
    """(field, before, after) of every policy value that differs, thresholds by grade."""
    out = []
    for key in ("work_weight", "debrief_weight", "excellent_share", "bonus_cap", "trim_min_ballots",
                "committee_quorum", "min_turnout", "secret_ballot", "rectification_share"):
        a, b = getattr(before, key), getattr(after, key)
        if a != b:
            out.append((key, _show(a), _show(b)))
    for g in ("excellent", "good", "average"):
        a, b = getattr(before.thresholds, g), getattr(after.thresholds, g)
        if a != b:
            out.append((f"thresholds.{g}", _show(a), _show(b)))
    return out


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return fmt2(v)
    return str(v)


@dataclass
class _Graded:
    cohort: CohortAllocation
    tie_note: tuple[str, str] | None = None
    quota_note: tuple[str, str] | None = None
    grades: dict[str, UnitGrade] = field(default_factory=dict)


def _grade_cohort(cohort: str, facts: Sequence[UnitFacts], categories: Mapping[str, Decimal], policy: Policy,
                  tie: Sequence[str] | None, overrides: Mapping[str, Override]) -> _Graded:
    scores = [grading.score_unit(f, categories, policy) for f in facts]
    tie_note = None
    try:
        alloc = grading.allocate_cohort(cohort, scores, policy, tie_choice=tie)
    except DomainError:
        # The recorded tie decision does not fit the new ranking: the rules decide alone.
        alloc = grading.allocate_cohort(cohort, scores, policy)
        tie_note = ("党委就并列所作的裁定在新规则下不再适用（并列不再出现或并列单位不同），按规则定等",
                    "the committee's tie decision no longer applies under this policy (the tie is gone or differs); the rules decide")
    if alloc.tie is not None and not alloc.tie.resolved:
        tie_note = (f"{'、'.join(alloc.tie.candidates)} 在新规则下并列争夺最后 {alloc.tie.places} 个优秀名额，须由党委裁定",
                    f"{', '.join(alloc.tie.candidates)} would tie for the last {alloc.tie.places} excellent place(s): the committee would decide")
    graded = _Graded(alloc, tie_note)
    for g in alloc.units:
        ov = overrides.get(g.unit)
        graded.grades[g.unit] = g if ov is None else UnitGrade(g.score, g.rank, g.base_grade, ov.grade, True, ov.reason, g.quota_place)
    excellent = sum(1 for g in graded.grades.values() if g.grade == "excellent")
    if excellent > alloc.quota:
        graded.quota_note = (f"按记录保留的调整等次使优秀单位达 {excellent} 个，超过新规则下的名额 {alloc.quota}，须由党委重新审定",
                             f"the overrides kept as recorded give {excellent} excellent units, beyond the new quota of {alloc.quota}: the committee would have to decide again")
    return graded


def _opt(v: Decimal | None) -> str | None:
    return None if v is None else fmt2(v)


def _side(g: UnitGrade) -> dict[str, Any]:
    s = g.score
    return {
        "work_score": _opt(s.work_score), "debrief_score": _opt(s.debrief_score), "composite": _opt(s.composite),
        "bonus": fmt2(s.bonus), "final_score": _opt(s.final_score), "rank": g.rank,
        "base_grade": g.base_grade, "grade": g.grade, "quota_place": g.quota_place,
    }


def _grade_zh(g: str | None) -> str:
    return wording.grade(g) if g else "待定"


def _grade_en(g: str | None) -> str:
    return wording.grade(g, "en") if g else "open"


def what_if(
    facts: Sequence[UnitFacts],
    categories: Mapping[str, Decimal],
    recorded_policy: Mapping[str, Any] | None,
    change: Any,
    ties: Mapping[str, Sequence[str]] | None = None,
    overrides: Mapping[str, Override] | None = None,
) -> dict[str, Any]:
    """Every unit's scores, rank and grade under the recorded policy and under it with ``change``
    laid over; ``changed`` lists the units whose rank or grade would differ, each with why."""
    ties = ties or {}
    overrides = overrides or {}
    before_policy = parse_policy(recorded_policy)
    after_dict, after_policy = merged_policy(recorded_policy, change)
    moves = _policy_moves(before_policy, after_policy)
    moved_zh = "，".join(f"{wording.field(k)} {a}→{b}" for k, a, b in moves) or "考核规则未变"
    moved_en = ", ".join(f"{wording.field(k, 'en')} {a}→{b}" for k, a, b in moves) or "the policy is unchanged"
    grading_moved = any(k.split(".")[0] in GRADING_FIELDS for k, _, _ in moves)

    by_cohort: dict[str, list[UnitFacts]] = {}
    for f in facts:
        by_cohort.setdefault(f.cohort, []).append(f)
    units: list[dict[str, Any]] = []
    cohorts: dict[str, Any] = {}
    for cohort in sorted(by_cohort):
        members = by_cohort[cohort]
        mine = {u: o for u, o in overrides.items() if any(f.unit == u for f in members)}
        b = _grade_cohort(cohort, members, categories, before_policy, ties.get(cohort), mine)
        a = _grade_cohort(cohort, members, categories, after_policy, ties.get(cohort), mine)
        notes = [n for n in (a.tie_note, a.quota_note) if n]
        cohorts[cohort] = {
            "n": a.cohort.n, "quota_before": b.cohort.quota, "quota_after": a.cohort.quota,
            "distribution_before": _distribution(b), "distribution_after": _distribution(a),
            "notes": [{"zh": z, "en": e} for z, e in notes],
        }
        for f in members:
            gb, ga = b.grades[f.unit], a.grades[f.unit]
            units.append(_compare(cohort, f, gb, ga, a, after_policy, moved_zh, moved_en, b.cohort.tie.candidates if b.cohort.tie else ()))
    units.sort(key=lambda u: (u["cohort"], u["after"]["rank"] is None, u["after"]["rank"] or 0, u["unit"]))
    return {
        "policy_before": before_policy.to_dict(),
        "policy_after": after_policy.to_dict(),
        "policy_changes": [{"field": k, "before": x, "after": y} for k, x, y in moves],
        "grading_unchanged": not grading_moved,
        "cohorts": cohorts,
        "units": units,
        "changed": [u["unit"] for u in units if u["changed"]],
        "written": False,
    }


def _distribution(g: _Graded) -> dict[str, int]:
    counts = {k: 0 for k in ("excellent", "good", "average", "poor")}
    for u in g.grades.values():
        if u.grade is not None:
            counts[u.grade] += 1
    return counts


def _compare(cohort: str, f: UnitFacts, gb: UnitGrade, ga: UnitGrade, a: _Graded, policy: Policy,
             moved_zh: str, moved_en: str, tied: Sequence[str]) -> dict[str, Any]:
    sb, sa = gb.score, ga.score
    zh: list[str] = []
    en: list[str] = []

    def move(label_zh: str, label_en: str, x: Any, y: Any) -> None:
        if x != y:
            zh.append(f"{label_zh} {x if x is not None else '—'}→{y if y is not None else '—'}")
            en.append(f"{label_en} {x if x is not None else '—'}→{y if y is not None else '—'}")

    move("述职评议得分", "debrief score", _opt(sb.debrief_score), _opt(sa.debrief_score))
    move("综合得分", "composite", _opt(sb.composite), _opt(sa.composite))
    move("加分", "bonus", fmt2(sb.bonus), fmt2(sa.bonus))
    if sb.bonus or sa.bonus:  # with no bonus the final score is the composite
        move("最终得分", "final score", _opt(sb.final_score), _opt(sa.final_score))
    move("名次", "rank", gb.rank, ga.rank)
    changed = gb.rank != ga.rank or gb.grade != ga.grade
    if gb.grade != ga.grade:
        zh.append(f"等次 {_grade_zh(gb.grade)}→{_grade_zh(ga.grade)}")
        en.append(f"grade {_grade_en(gb.grade)}→{_grade_en(ga.grade)}")
        cause = _cause(gb, ga, a, policy)
        if cause:
            zh.append(cause[0])
            en.append(cause[1])

    decisions = []
    if gb.overridden:
        decisions.append({"kind": "override", "zh": f"党委调整等次为「{wording.grade(ga.grade)}」（{ga.override_reason}），按记录保留",
                          "en": f"the committee's override to {wording.grade(ga.grade, 'en')} ({ga.override_reason}) is kept as recorded"})
    if f.vetoed:
        decisions.append({"kind": "veto", "zh": "已批准的一票否决按记录保留：等次为较差", "en": "the approved veto is kept as recorded: the grade is poor"})
    if f.downgrade_levels:
        decisions.append({"kind": "downgrade", "zh": f"已批准的降档 {f.downgrade_levels} 档按记录保留，不占优秀名额",
                          "en": f"the approved downgrade of {f.downgrade_levels} level(s) is kept as recorded; the unit takes no excellent place"})
    if f.unit in tied:  # a tie the committee decided (or left open) under the recorded policy
        if a.tie_note is None:
            decisions.append({"kind": "tie", "zh": "党委的并列裁定按记录保留", "en": "the committee's tie decision is kept as recorded"})
        else:
            decisions.append({"kind": "tie", "zh": a.tie_note[0], "en": a.tie_note[1]})
    elif a.cohort.tie is not None and not a.cohort.tie.resolved and f.unit in a.cohort.tie.candidates:
        decisions.append({"kind": "tie", "zh": a.tie_note[0], "en": a.tie_note[1]})

    why_zh = f"{moved_zh}：{'，'.join(zh)}" if zh else f"{moved_zh}：得分、名次与等次不变"
    why_en = f"{moved_en}: {'; '.join(en)}" if en else f"{moved_en}: score, rank and grade unchanged"
    return {
        "unit": f.unit, "cohort": cohort, "before": _side(gb), "after": _side(ga),
        "overridden": gb.overridden, "changed": changed,
        "why": {"zh": why_zh, "en": why_en}, "decisions": decisions,
    }


def _cause(gb: UnitGrade, ga: UnitGrade, a: _Graded, policy: Policy) -> tuple[str, str] | None:
    """Why the grade moved, in the rules' words (SPEC §5)."""
    if ga.overridden:
        return None
    f = ga.score.final_score
    if gb.base_grade == "excellent" and ga.base_grade != "excellent" and f is not None:
        if f < policy.thresholds.excellent:
            return (f"最终得分低于优秀分数线 {fmt2(policy.thresholds.excellent)}", f"the final score is below the excellent threshold {fmt2(policy.thresholds.excellent)}")
        return (f"未进入优秀名额（q = {a.cohort.quota}）", f"outside the excellent quota (q = {a.cohort.quota})")
    if ga.base_grade == "excellent" and gb.base_grade != "excellent":
        return (f"进入优秀名额（q = {a.cohort.quota}，第 {ga.quota_place} 个）", f"within the excellent quota (q = {a.cohort.quota}, place {ga.quota_place})")
    if ga.base_grade is None:
        return ("并列待党委裁定", "an open tie the committee would decide")
    return ("按等次分数线", "by the grade thresholds")


def whatif_cycle(reader: Any, cycle: str, change: Any) -> dict[str, Any]:
    """:func:`what_if` over a cycle as ``reader`` (the live application or an audit replay)
    holds it: its facts, categories, recorded policy, tie decisions and overrides."""
    c = reader.cycle(cycle)
    overrides = {u: Override(o["grade"], o["reason"]) for u, o in c.overrides.items()}
    out = what_if(reader.facts(c), parse_categories(c.categories), c.policy, change, dict(c.ties), overrides)
    return {"cycle": cycle, **out}
