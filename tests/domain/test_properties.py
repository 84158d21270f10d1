"""Properties of scoring and grading (SPEC §4–5) over random cohorts.

The oracles here use ``fractions.Fraction`` and a hand-written half-up rounding, not the code
under test. All inputs are ``Decimal``.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import Conflict
from domain.grading import (
    Override,
    UnitFacts,
    allocate,
    composite,
    debrief_score,
    results_document,
    work_score,
)
from domain.policy import Policy, Thresholds

D = Decimal
ORDER = ("excellent", "good", "average", "poor")  # best first
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TWO_PLACES = re.compile(r"^\d+\.\d\d$")


# ---------------------------------------------------------------- independent oracles


def half_up(fr: Fraction) -> Fraction:
    """Round a non-negative fraction to 2 places, half up."""
    return Fraction(math.floor(fr * 100 + Fraction(1, 2)), 100)


def oracle_w(scores, maxima):
    applicable = [c for c, s in scores.items() if s is not None]
    if not applicable:
        return None
    s = sum(Fraction(scores[c]) for c in applicable)
    m = sum(Fraction(maxima[c]) for c in applicable)
    return half_up(100 * s / m)


def oracle_d(ballots, weights, trim):
    num = den = Fraction(0)
    for cat, w in weights.items():
        xs = sorted(Fraction(x) for x in ballots.get(cat, []))
        if not xs:
            continue
        if len(xs) >= trim:
            xs = xs[1:-1]
        num += Fraction(w) * sum(xs) / len(xs)
        den += Fraction(w)
    return None if den == 0 else half_up(num / den)


def threshold(f: Decimal, p: Policy) -> str:
    t = p.thresholds
    return "excellent" if f >= t.excellent else "good" if f >= t.good else "average" if f >= t.average else "poor"


def drop(grade: str, levels: int) -> str:
    return ORDER[min(ORDER.index(grade) + levels, 3)]


# ---------------------------------------------------------------- strategies


def cents(lo: int, hi: int):
    """Decimals lo..hi with two places, e.g. Decimal('87.35')."""
    return st.integers(lo * 100, hi * 100).map(lambda i: D(i).scaleb(-2))


@st.composite
def policies(draw):
    ww = D(draw(st.integers(0, 20))) * D("0.05")
    return Policy(
        work_weight=ww,
        debrief_weight=D(1) - ww,
        excellent_share=D(draw(st.integers(0, 20))) / 20,
        thresholds=Thresholds(
            D(draw(st.integers(85, 95))), D(draw(st.integers(70, 84))), D(draw(st.integers(50, 69)))
        ),
        bonus_cap=D(draw(st.integers(0, 10))) / 2,
        trim_min_ballots=draw(st.integers(3, 6)),
    )


CATEGORY_SETS = [
    {"representatives": D(1)},
    {"leaders": D("0.5"), "staff": D("0.5")},
    {"leaders": D("0.4"), "heads": D("0.3"), "staff": D("0.3")},
]
MAXIMA = [D(1), D(2), D("2.5"), D(3), D(5), D(10)]
# tenths of the max a point is scored at; None = not applicable (skewed high so units reach 90)
TENTHS = [10, 9, 10, 8, 9, 10, 7, 5, 0, None]
# mostly whole scores of 80..100, some with cents, now and then anything in 0..100
BALLOT = st.integers(0, 31).flatmap(
    lambda r: cents(0, 100) if r == 1 else st.integers(80, 100).map(D) if r < 24 else cents(80, 100)
)
# about one unit in eight downgraded (1, 2 or 5 levels), one in sixteen vetoed
LEVELS = st.integers(0, 23).map(lambda r: {21: 1, 22: 2, 23: 5}.get(r, 0))
VETOED = st.integers(0, 15).map(lambda r: r == 7)


@st.composite
def unit_facts(draw, key: str, cohort: str, categories):
    maxima = draw(st.lists(st.sampled_from(MAXIMA), min_size=1, max_size=5))
    point_max = {f"{i + 1}.1.1": m for i, m in enumerate(maxima)}
    point_scores = {}
    for code, m in point_max.items():
        k = TENTHS[draw(st.integers(0, len(TENTHS) - 1))]
        point_scores[code] = None if k is None else m * k / 10
    # now and then a unit has no debrief score at all; otherwise its first category has one
    no_debrief = draw(st.integers(0, 39)) == 17
    ballots = {
        cat: [] if no_debrief else draw(st.lists(BALLOT, min_size=1 if i == 0 else 0, max_size=6))
        for i, cat in enumerate(categories)
    }
    return UnitFacts(
        unit=key,
        cohort=cohort,
        point_scores=point_scores,
        point_max=point_max,
        ballots=ballots,
        bonus_points=tuple(draw(st.lists(st.sampled_from([D("0.5"), D(1), D("1.5"), D(2), D(3)]), max_size=3))),
        downgrade_levels=draw(LEVELS),
        vetoed=draw(VETOED),
        scored=draw(st.integers(0, 39)) != 23,
    )


@st.composite
def cycles(draw):
    """A policy, ballot categories and 1–3 cohorts of 1–8 units. Units of a cohort are drawn
    from 1..n templates (same points, ballots and bonuses; own penalties), so that units equal
    on (F, D, W), and ties at the quota boundary, are common."""
    policy = draw(policies())
    categories = draw(st.sampled_from(CATEGORY_SETS))
    cohorts = draw(
        st.lists(
            st.sampled_from(["secondary_committee", "organ_committee", "grassroots_branch"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    facts = []
    for c in cohorts:
        n = draw(st.integers(1, 8))
        templates = [draw(unit_facts("T", c, categories)) for _ in range(draw(st.integers(1, n)))]
        for i in range(n):
            t = templates[draw(st.integers(0, len(templates) - 1))]
            facts.append(
                replace(t, unit=f"{c[0].upper()}{i:02d}", downgrade_levels=draw(LEVELS), vetoed=draw(VETOED))
            )
    return policy, categories, facts


# ---------------------------------------------------------------- checks shared by the properties


def check_cohorts(alloc, facts, policy):
    by_cohort = {}
    for f in facts:
        by_cohort.setdefault(f.cohort, []).append(f)
    assert set(alloc.cohorts) == set(by_cohort)
    for name, c in alloc.cohorts.items():
        n = len(by_cohort[name])
        assert c.n == n
        # q = floor(share × n): q ≤ share × n < q + 1
        assert isinstance(c.quota, int)
        assert c.quota <= policy.excellent_share * n < c.quota + 1
        assert c.excellent_count <= c.quota
        assert sorted(g.unit for g in c.units) == sorted(f.unit for f in by_cohort[name])

        complete = [g for g in c.units if g.score.incomplete is None]
        for g in c.units:
            s = g.score
            if s.incomplete is not None:
                assert (g.rank, g.base_grade, g.grade) == (None, None, None)
                assert g.unit in c.incomplete
                continue
            # rank = 1 + number of units strictly ahead on (F, D, W)
            assert g.rank == 1 + sum(1 for h in complete if h.score.key > s.key)
            if s.penalised:
                assert g.grade != "excellent"
                assert g.quota_place is None
                assert g.base_grade == threshold(s.final_score, policy)
                assert g.grade == ("poor" if s.vetoed else drop(g.base_grade, s.downgrade_levels))
            elif g.base_grade is not None:
                assert g.grade == g.base_grade
                if g.base_grade == "excellent":
                    assert s.final_score >= policy.thresholds.excellent
                    assert g.quota_place is not None
                else:
                    assert g.quota_place is None
                    want = threshold(s.final_score, policy)
                    assert g.base_grade == ("good" if want == "excellent" else want)
            else:
                # only an unresolved tie leaves a complete unit's grade open
                assert c.tie is not None and not c.tie.resolved and g.unit in c.tie.candidates

        # monotone: among non-penalised graded units, a strictly higher key never has a lower base grade
        graded = [g for g in complete if not g.score.penalised and g.base_grade is not None]
        for a in graded:
            for b in graded:
                if a.score.key > b.score.key:
                    assert ORDER.index(a.base_grade) <= ORDER.index(b.base_grade), (a.unit, b.unit)

        eligible = [
            g for g in complete if not g.score.penalised and g.score.final_score >= policy.thresholds.excellent
        ]
        if c.tie is None:
            # no place is left empty while an eligible unit waits
            assert c.excellent_count == min(c.quota, len(eligible))
        else:
            keys = {g.score.key for g in complete if g.unit in c.tie.candidates}
            assert len(keys) == 1
            assert len(c.tie.candidates) > c.tie.places >= 1
            if not c.tie.resolved:
                assert c.excellent_count == c.quota - c.tie.places
            else:
                assert c.excellent_count == c.quota
    assert alloc.approvable == (
        all(not c.incomplete for c in alloc.cohorts.values())
        and all(c.tie is None or c.tie.resolved for c in alloc.cohorts.values())
    )


def check_decimals(alloc):
    for c in alloc.cohorts.values():
        for g in c.units:
            s = g.score
            for v in (s.work_score, s.debrief_score, s.composite, s.final_score):
                assert v is None or isinstance(v, Decimal)
            assert isinstance(s.bonus, Decimal)
            for m in s.categories:
                assert isinstance(m.mean, Decimal)
                assert all(isinstance(x, Decimal) for x in m.scores)


# ---------------------------------------------------------------- properties


@SETTINGS
@given(cycles())
def test_allocation_invariants(cycle):
    policy, categories, facts = cycle
    alloc = allocate(facts, categories, policy)
    check_cohorts(alloc, facts, policy)
    check_decimals(alloc)
    doc = results_document("k", alloc)
    for r in doc["units"].values():
        for field in ("work_score", "debrief_score", "composite", "bonus", "final_score"):
            assert r[field] is None or TWO_PLACES.match(r[field]), r[field]


@SETTINGS
@given(cycles(), st.data())
def test_scores_match_exact_oracles(cycle, data):
    policy, categories, facts = cycle
    alloc = allocate(facts, categories, policy)
    for f in facts:
        s = alloc.unit(f.unit).score
        w = oracle_w(f.point_scores, f.point_max) if f.scored else None
        d = oracle_d(f.ballots, categories, policy.trim_min_ballots)
        assert (s.work_score is None) == (w is None)
        assert (s.debrief_score is None) == (d is None)
        if w is not None:
            assert Fraction(s.work_score) == w
            assert 0 <= s.work_score <= 100
        if d is not None:
            assert Fraction(s.debrief_score) == d
        b = min(sum((Fraction(x) for x in f.bonus_points), Fraction(0)), Fraction(policy.bonus_cap))
        assert Fraction(s.bonus) == b
        if w is not None and d is not None:
            c = half_up(Fraction(policy.work_weight) * w + Fraction(policy.debrief_weight) * d)
            assert Fraction(s.composite) == c
            assert Fraction(s.final_score) == c + b
            assert s.incomplete is None
        else:
            assert s.final_score is None and s.incomplete


@SETTINGS
@given(cycles(), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_input_order(cycle, rnd):
    policy, categories, facts = cycle
    shuffled = list(facts)
    rnd.shuffle(shuffled)
    a = allocate(facts, categories, policy)
    b = allocate(shuffled, categories, policy)
    assert results_document("k", a) == results_document("k", b)
    assert sorted(a.problems()) == sorted(b.problems())
    for name in a.cohorts:
        ta, tb = a.cohorts[name].tie, b.cohorts[name].tie
        assert (ta is None) == (tb is None)
        if ta is not None:
            assert set(ta.candidates) == set(tb.candidates) and ta.places == tb.places


@SETTINGS
@given(cycles(), st.data())
def test_resolving_ties_fills_the_quota(cycle, data):
    policy, categories, facts = cycle
    proposed = allocate(facts, categories, policy)
    ties = {}
    for name, c in proposed.cohorts.items():
        if c.tie is not None:
            ties[name] = data.draw(
                st.permutations(c.tie.candidates).map(lambda xs, k=c.tie.places: list(xs[:k])), label=name
            )
    alloc = allocate(facts, categories, policy, ties=ties)
    check_cohorts(alloc, facts, policy)
    for name, chosen in ties.items():
        c = alloc.cohorts[name]
        assert c.tie.resolved and set(c.tie.chosen) == set(chosen)
        assert c.excellent_count == c.quota
        for g in c.units:
            if g.unit in c.tie.candidates:
                assert g.grade == ("excellent" if g.unit in chosen else "good")
    assert all(c.tie is None or c.tie.resolved for c in alloc.cohorts.values())
    # a shuffled input gives the same results for the same choice
    assert results_document("k", allocate(list(reversed(facts)), categories, policy, ties=ties)) == results_document(
        "k", alloc
    )


@SETTINGS
@given(cycles(), st.data())
def test_overrides_respect_quota_and_penalties(cycle, data):
    policy, categories, facts = cycle
    proposed = allocate(facts, categories, policy)
    complete = sorted(f.unit for f in facts if proposed.unit(f.unit).score.incomplete is None)
    if not complete:
        return
    chosen = data.draw(st.lists(st.sampled_from(complete), unique=True, max_size=4), label="units")
    overrides = {u: Override(data.draw(st.sampled_from(ORDER), label=u), "党委会研究决定") for u in chosen}

    penalised_to_excellent = any(
        o.grade == "excellent" and proposed.unit(u).score.penalised for u, o in overrides.items()
    )
    over_quota = False
    for c in proposed.cohorts.values():
        count = sum(
            1 for g in c.units if (overrides[g.unit].grade if g.unit in overrides else g.grade) == "excellent"
        )
        over_quota |= count > c.quota

    try:
        alloc = allocate(facts, categories, policy, overrides=overrides)
    except Conflict as e:
        assert penalised_to_excellent or over_quota
        if not penalised_to_excellent:
            assert e.code == "override_beyond_quota"
        assert e.code in {"override_beyond_quota", "override_excellent_penalised"}
        return
    assert not penalised_to_excellent and not over_quota
    for c in alloc.cohorts.values():
        assert c.excellent_count <= c.quota
        for g in c.units:
            if g.score.penalised:
                assert g.grade != "excellent"
            if g.unit in overrides:
                assert g.overridden and g.grade == overrides[g.unit].grade
                assert g.base_grade == proposed.unit(g.unit).base_grade
            else:
                assert not g.overridden and g.grade == proposed.unit(g.unit).grade


@SETTINGS
@given(
    st.lists(
        st.tuples(st.sampled_from(MAXIMA), st.one_of(st.none(), st.integers(0, 1000))),
        min_size=0,
        max_size=12,
    )
)
def test_w_within_0_100_and_exact(points):
    maxima = {f"p{i}": m for i, (m, _) in enumerate(points)}
    # a score is any multiple of 0.001 of the max's range, kept within 0..max
    scores = {f"p{i}": (None if k is None else m * k / 1000) for i, (m, k) in enumerate(points)}
    w = work_score(scores, maxima)
    want = oracle_w(scores, maxima)
    if want is None:
        assert w is None
    else:
        assert isinstance(w, Decimal)
        assert D(0) <= w <= D(100)
        assert Fraction(w) == want
        assert w.as_tuple().exponent == -2


@SETTINGS
@given(
    st.sampled_from(CATEGORY_SETS).flatmap(
        lambda cats: st.tuples(
            st.just(cats), st.fixed_dictionaries({c: st.lists(cents(0, 100), max_size=8) for c in cats})
        )
    ),
    st.integers(3, 7),
)
def test_d_within_0_100_and_exact(cats_ballots, trim):
    cats, ballots = cats_ballots
    d, means = debrief_score(ballots, cats, trim)
    want = oracle_d(ballots, cats, trim)
    if want is None:
        assert d is None and means == []
    else:
        assert D(0) <= d <= D(100)
        assert Fraction(d) == want
        for m in means:
            lo, hi = min(ballots[m.category]), max(ballots[m.category])
            assert lo <= m.mean <= hi


@SETTINGS
@given(policies(), cents(0, 100), cents(0, 100))
def test_c_within_0_100_and_exact(policy, w, d):
    c = composite(w, d, policy)
    assert D(0) <= c <= D(100)
    assert Fraction(c) == half_up(Fraction(policy.work_weight) * Fraction(w) + Fraction(policy.debrief_weight) * Fraction(d))
