"""Scores and grades, exactly as SPEC §4–5 state them, as pure functions over decimals.

Written once: the workflow (allocation proposal), the projections and the audit replay all
call these functions.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from domain.decimals import floor_int, fmt2, round2
from domain.errors import Bilingual, Conflict, InvalidInput, halves
from domain.policy import GRADES, Policy
from domain import wording

_CTX = decimal.Context(prec=60, rounding=decimal.ROUND_HALF_EVEN)


# ---------------------------------------------------------------- SPEC §4: scores


def work_score(point_scores: Mapping[str, Decimal | None], point_max: Mapping[str, Decimal]) -> Decimal | None:
    """``W = round2(100 × Σ s_p / Σ max_p)`` over applicable points; ``None`` if none applies."""
    applicable = [code for code, s in point_scores.items() if s is not None]
    if not applicable:
        return None
    total = sum((point_scores[c] for c in applicable), Decimal(0))  # type: ignore[misc]
    maximum = sum((point_max[c] for c in applicable), Decimal(0))
    return round2(_CTX.divide(_CTX.multiply(Decimal(100), total), maximum))


@dataclass(frozen=True)
class CategoryMean:
    category: str
    scores: tuple[Decimal, ...]
    dropped_low: Decimal | None
    dropped_high: Decimal | None
    mean: Decimal


def category_mean(category: str, scores: Sequence[Decimal], trim_min_ballots: int) -> CategoryMean:
    """Mean of one category's scores, one highest and one lowest dropped at ≥ trim_min_ballots."""
    ordered = sorted(scores)
    low = high = None
    kept = ordered
    if len(ordered) >= trim_min_ballots:
        low, high = ordered[0], ordered[-1]
        kept = ordered[1:-1]
    mean = _CTX.divide(sum(kept, Decimal(0)), Decimal(len(kept)))
    return CategoryMean(category, tuple(scores), low, high, mean)


def debrief_score(
    ballots: Mapping[str, Sequence[Decimal]], weights: Mapping[str, Decimal], trim_min_ballots: int
) -> tuple[Decimal | None, list[CategoryMean]]:
    """``D = round2(Σ w_c × m_c / Σ w_c)`` over categories with at least one score."""
    means = [
        category_mean(c, ballots[c], trim_min_ballots) for c in weights if ballots.get(c)
    ]
    if not means:
        return None, []
    num = sum((_CTX.multiply(weights[m.category], m.mean) for m in means), Decimal(0))
    den = sum((weights[m.category] for m in means), Decimal(0))
    return round2(_CTX.divide(num, den)), means


def composite(w: Decimal, d: Decimal, policy: Policy) -> Decimal:
    """``C = round2(work_weight × W + debrief_weight × D)``."""
    return round2(policy.work_weight * w + policy.debrief_weight * d)


def bonus(points: Iterable[Decimal], cap: Decimal) -> Decimal:
    """``B = min(Σ approved bonus points, bonus_cap)``."""
    return min(sum(points, Decimal(0)), cap)


# ---------------------------------------------------------------- inputs and unit scores


@dataclass(frozen=True)
class UnitFacts:
    """Everything the rules need about one unit, gathered from its events."""

    unit: str
    cohort: str
    point_scores: Mapping[str, Decimal | None]  # evaluators' scores; empty if not scored
    point_max: Mapping[str, Decimal]
    ballots: Mapping[str, Sequence[Decimal]]  # category -> this unit's scores
    bonus_points: Sequence[Decimal] = ()
    downgrade_levels: int = 0
    vetoed: bool = False
    scored: bool = True


@dataclass(frozen=True)
class UnitScore:
    unit: str
    cohort: str
    work_score: Decimal | None
    debrief_score: Decimal | None
    composite: Decimal | None
    bonus: Decimal
    final_score: Decimal | None
    downgrade_levels: int
    vetoed: bool
    categories: tuple[CategoryMean, ...] = ()
    incomplete: str | None = None  # why it cannot be graded

    @property
    def key(self) -> tuple[Decimal, Decimal, Decimal]:
        assert self.final_score is not None and self.debrief_score is not None and self.work_score is not None
        return (self.final_score, self.debrief_score, self.work_score)

    @property
    def penalised(self) -> bool:
        return self.vetoed or self.downgrade_levels > 0


def score_unit(facts: UnitFacts, categories: Mapping[str, Decimal], policy: Policy) -> UnitScore:
    w = work_score(facts.point_scores, facts.point_max) if facts.scored else None
    d, means = debrief_score(facts.ballots, categories, policy.trim_min_ballots)
    b = bonus(facts.bonus_points, policy.bonus_cap)
    reasons: list[tuple[str, str]] = []
    if not facts.scored:
        reasons.append(("指标评分未提交", "indicator scoring not submitted"))
    elif w is None:
        reasons.append(("没有适用的评价要点", "no applicable evaluation point"))
    if d is None:
        reasons.append(("没有述职评议得分", "no debrief score"))
    c = composite(w, d, policy) if w is not None and d is not None else None
    return UnitScore(
        unit=facts.unit,
        cohort=facts.cohort,
        work_score=w,
        debrief_score=d,
        composite=c,
        bonus=b,
        final_score=(c + b) if c is not None else None,
        downgrade_levels=facts.downgrade_levels,
        vetoed=facts.vetoed,
        categories=tuple(means),
        incomplete=Bilingual("；".join(z for z, _ in reasons), "; ".join(e for _, e in reasons)) if reasons else None,
    )


# ---------------------------------------------------------------- SPEC §5: grades


def threshold_grade(f: Decimal, policy: Policy) -> str:
    t = policy.thresholds
    if f >= t.excellent:
        return "excellent"
    if f >= t.good:
        return "good"
    if f >= t.average:
        return "average"
    return "poor"


def lower(grade: str, levels: int) -> str:
    return GRADES[min(GRADES.index(grade) + levels, len(GRADES) - 1)]


@dataclass(frozen=True)
class Override:
    grade: str
    reason: str


@dataclass(frozen=True)
class Tie:
    """Units equal on (F, D, W) competing for the last excellent places."""

    cohort: str
    candidates: tuple[str, ...]
    places: int
    chosen: tuple[str, ...] | None = None

    @property
    def resolved(self) -> bool:
        return self.chosen is not None


@dataclass(frozen=True)
class UnitGrade:
    score: UnitScore
    rank: int | None
    base_grade: str | None  # None while an unresolved tie or incompleteness leaves it open
    grade: str | None
    overridden: bool = False
    override_reason: str | None = None
    quota_place: int | None = None  # 1-based place among the excellent, if it took one

    @property
    def unit(self) -> str:
        return self.score.unit


@dataclass(frozen=True)
class CohortAllocation:
    cohort: str
    n: int
    quota: int
    units: tuple[UnitGrade, ...]  # complete units in rank order, then incomplete ones
    tie: Tie | None
    incomplete: Mapping[str, str]

    @property
    def excellent_count(self) -> int:
        return sum(1 for u in self.units if u.grade == "excellent")

    def distribution(self) -> dict[str, int]:
        counts = {g: 0 for g in GRADES}
        for u in self.units:
            if u.grade is not None:
                counts[u.grade] += 1
        return counts

    def problems(self) -> list[Bilingual]:
        """What keeps this cohort from being approved, each in both languages."""
        out = []
        for unit, why in self.incomplete.items():
            zh, en = halves(why)
            out.append(Bilingual(f"{unit}：{zh}", f"{unit}: {en}"))
        if self.tie is not None and not self.tie.resolved:
            out.append(Bilingual(
                f"{wording.cohort(self.cohort)}：{'、'.join(self.tie.candidates)} 并列争夺最后 {self.tie.places} 个优秀名额，须由党委确定",
                f"{wording.cohort(self.cohort, 'en')}: the tie of {', '.join(self.tie.candidates)} at the quota boundary must be resolved",
            ))
        return out


def quota(policy: Policy, n: int) -> int:
    """``q = floor(excellent_share × n)``."""
    return floor_int(policy.excellent_share * n)


def rank_units(scores: Sequence[UnitScore]) -> list[tuple[int, UnitScore]]:
    """Order by (F, D, W) descending; equal keys share a rank (1, 2, 2, 4 …)."""
    ordered = sorted(scores, key=lambda s: (s.key, _neg_key(s.unit)), reverse=True)
    ranked: list[tuple[int, UnitScore]] = []
    for i, s in enumerate(ordered):
        rank = ranked[-1][0] if ranked and ranked[-1][1].key == s.key else i + 1
        ranked.append((rank, s))
    return ranked


def _neg_key(unit: str) -> tuple[int, ...]:
    # Stable, input-order-independent order among equals: by unit key ascending.
    return tuple(-ord(ch) for ch in unit)


def allocate_cohort(
    cohort: str,
    scores: Sequence[UnitScore],
    policy: Policy,
    n: int | None = None,
    tie_choice: Sequence[str] | None = None,
    overrides: Mapping[str, Override] | None = None,
) -> CohortAllocation:
    """Grade one cohort per SPEC §5. Raises :class:`InvalidInput`/:class:`Conflict` for a bad
    tie choice or an override the rules forbid."""
    overrides = overrides or {}
    n = len(scores) if n is None else n
    q = quota(policy, n)
    complete = [s for s in scores if s.incomplete is None]
    incomplete = {s.unit: s.incomplete for s in scores if s.incomplete is not None}
    ranked = rank_units(complete)

    eligible = [s for _, s in ranked if s.final_score >= policy.thresholds.excellent and not s.penalised]
    excellent: list[str] = []
    tie: Tie | None = None
    if q > 0 and len(eligible) > q and eligible[q - 1].key == eligible[q].key:
        boundary = eligible[q].key
        above = [s.unit for s in eligible if s.key > boundary]
        group = tuple(s.unit for s in eligible if s.key == boundary)
        places = q - len(above)
        excellent = above
        chosen = None
        if tie_choice is not None:
            chosen = _check_tie_choice(cohort, group, places, tie_choice)
            excellent = above + [u for u in group if u in chosen]
        tie = Tie(cohort, group, places, chosen)
    else:
        excellent = [s.unit for s in eligible[:q]]
        if tie_choice is not None:
            raise Conflict(
                "no_tie_to_resolve",
                zh=f"{wording.cohort(cohort)}在优秀名额边界没有并列，无需裁定", en="there is no tie at the quota boundary to resolve",
                field="ties",
            )
    open_tie = tie is not None and not tie.resolved
    grades: list[UnitGrade] = []
    place = 0
    for rank, s in ranked:
        if s.unit in excellent:
            place += 1
            base, qp = "excellent", place
        elif s.penalised:
            base, qp = threshold_grade(s.final_score, policy), None
        elif open_tie and s.unit in tie.candidates:
            base, qp = None, None
        else:
            base = threshold_grade(s.final_score, policy)
            base, qp = ("good" if base == "excellent" else base), None
        grade = base
        if base is not None:
            grade = "poor" if s.vetoed else lower(base, s.downgrade_levels)
        grades.append(UnitGrade(s, rank, base, grade, quota_place=qp))
    for s in scores:
        if s.incomplete is not None:
            grades.append(UnitGrade(s, None, None, None))

    by_unit = {g.unit: g for g in grades}
    for unit, ov in overrides.items():
        if unit not in by_unit:
            raise InvalidInput("unknown_unit", zh=f"单位 {unit} 不在{wording.cohort(cohort)}中", en="unit not in this cohort", field="unit")
        g = by_unit[unit]
        if ov.grade not in GRADES:
            raise InvalidInput("unknown_grade", zh=f"未知等次 {ov.grade!r}", en="unknown grade", field="grade")
        if not ov.reason or not ov.reason.strip():
            raise InvalidInput("reason_required", zh="调整等次必须说明理由", en="an override needs a reason", field="reason")
        if ov.grade == "excellent" and g.score.penalised:
            raise Conflict(
                "override_excellent_penalised",
                zh=f"{unit} 有已批准的降档或一票否决，不能评为优秀", en="a downgraded or vetoed unit cannot be excellent",
                field="grade",
            )
        by_unit[unit] = UnitGrade(g.score, g.rank, g.base_grade, ov.grade, True, ov.reason, g.quota_place)
    result = CohortAllocation(cohort, n, q, tuple(by_unit[g.unit] for g in grades), tie, incomplete)
    if result.excellent_count > q:
        raise Conflict(
            "override_beyond_quota",
            zh=f"{wording.cohort(cohort)}优秀单位将达 {result.excellent_count} 个，超过名额 {q}", en="overrides would exceed the excellent quota",
            field="grade",
        )
    return result


def _check_tie_choice(cohort: str, group: tuple[str, ...], places: int, choice: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(choice))
    strangers = [u for u in chosen if u not in group]
    if strangers:
        raise InvalidInput(
            "not_in_tie",
            zh=f"{'、'.join(strangers)} 不在 {wording.cohort(cohort)}的并列单位（{'、'.join(group)}）中", en="not among the tied units",
            field="ties",
        )
    if len(chosen) != places:
        raise InvalidInput(
            "wrong_tie_count",
            zh=f"{wording.cohort(cohort)}并列单位须选出 {places} 个占用剩余优秀名额，实际选了 {len(chosen)} 个", en=f"choose exactly {places} of the tied units",
            field="ties",
        )
    return chosen


@dataclass(frozen=True)
class CycleAllocation:
    cohorts: Mapping[str, CohortAllocation]

    @property
    def approvable(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        return [p for c in self.cohorts.values() for p in c.problems()]

    def unit(self, key: str) -> UnitGrade:
        for c in self.cohorts.values():
            for g in c.units:
                if g.unit == key:
                    return g
        raise KeyError(key)


def allocate(
    facts: Sequence[UnitFacts],
    categories: Mapping[str, Decimal],
    policy: Policy,
    ties: Mapping[str, Sequence[str]] | None = None,
    overrides: Mapping[str, Override] | None = None,
) -> CycleAllocation:
    """Score every unit and grade every cohort."""
    ties = ties or {}
    overrides = overrides or {}
    by_cohort: dict[str, list[UnitScore]] = {}
    for f in facts:
        by_cohort.setdefault(f.cohort, []).append(score_unit(f, categories, policy))
    for cohort in ties:
        if cohort not in by_cohort:
            raise InvalidInput("unknown_cohort", zh=f"没有{wording.cohort(cohort)}的单位", en="no such cohort", field="ties")
    known = {f.unit for f in facts}
    for unit in overrides:
        if unit not in known:
            raise InvalidInput("unknown_unit", zh=f"未知单位 {unit}", en="unknown unit", field="unit")
    cohort_of = {f.unit: f.cohort for f in facts}
    result = {}
    for cohort in sorted(by_cohort):
        result[cohort] = allocate_cohort(
            cohort,
            by_cohort[cohort],
            policy,
            tie_choice=ties.get(cohort),
            overrides={u: o for u, o in overrides.items() if cohort_of[u] == cohort},
        )
    return CycleAllocation(result)


# ---------------------------------------------------------------- the results document (SPEC §7)


def unit_result(g: UnitGrade) -> dict:
    s = g.score

    def opt(v: Decimal | None) -> str | None:
        return None if v is None else fmt2(v)

    return {
        "cohort": s.cohort,
        "work_score": opt(s.work_score),
        "debrief_score": opt(s.debrief_score),
        "composite": opt(s.composite),
        "bonus": fmt2(s.bonus),
        "final_score": opt(s.final_score),
        "rank": g.rank,
        "base_grade": g.base_grade,
        "downgrade_levels": s.downgrade_levels,
        "vetoed": s.vetoed,
        "overridden": g.overridden,
        "grade": g.grade,
    }


def results_document(cycle_key: str, allocation: CycleAllocation) -> dict:
    units = {}
    for c in allocation.cohorts.values():
        for g in c.units:
            units[g.unit] = unit_result(g)
    return {
        "cycle": cycle_key,
        "units": dict(sorted(units.items())),
        "distribution": {k: c.distribution() for k, c in allocation.cohorts.items()},
    }
