"""Scores (SPEC §4) and grades (SPEC §5), every rule worked by hand.

The arithmetic behind each expected literal is written out in the comment beside it; nothing
expected is computed by the code under test. All numbers are ``Decimal``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import Conflict, InvalidInput
from domain.grading import (
    Override,
    UnitFacts,
    allocate,
    bonus,
    category_mean,
    composite,
    debrief_score,
    quota,
    results_document,
    score_unit,
    threshold_grade,
    work_score,
)
from domain.decimals import to_decimal
from domain.policy import Policy, Thresholds, parse_categories, parse_policy
from domain.scheme import default_scheme, resolve_scheme

D = Decimal
ONE = {"representatives": D(1)}
P = Policy()


def unit(key, x=None, *, w=None, d=None, cohort="c", bonus=(), levels=0, veto=False):
    """A unit whose W is ``w`` (one point of max 100 scored ``w``) and whose D is ``d`` (one
    ballot of ``d``); with ``x`` alone W = D = x, so C = round2(0.7x + 0.3x) = x and F = x + B."""
    w = x if w is None else w
    d = x if d is None else d
    return UnitFacts(
        unit=key,
        cohort=cohort,
        point_scores={"p": D(w)},
        point_max={"p": D(100)},
        ballots={"representatives": [D(d)]},
        bonus_points=tuple(D(b) for b in bonus),
        downgrade_levels=levels,
        vetoed=veto,
    )


def grades(alloc, cohort="c"):
    return {g.unit: g.grade for g in alloc.cohorts[cohort].units}


def base_grades(alloc, cohort="c"):
    return {g.unit: g.base_grade for g in alloc.cohorts[cohort].units}


def ranks(alloc, cohort="c"):
    return {g.unit: g.rank for g in alloc.cohorts[cohort].units}


# ================================================================ W


def test_w_sum_over_max():
    # (7.5 + 15) / (10 + 20) = 22.5 / 30; 100 × 22.5 / 30 = 75 → 75.00
    w = work_score({"a": D("7.5"), "b": D("15")}, {"a": D(10), "b": D(20)})
    assert w == D("75.00")
    assert str(w) == "75.00"


def test_w_not_applicable_points_leave_both_sums():
    # c (max 5) is N/A: 22.5 / 30 = 75.00; (had it counted as 0: 100 × 22.5 / 35 = 64.29)
    w = work_score({"a": D("7.5"), "b": D("15"), "c": None}, {"a": D(10), "b": D(20), "c": D(5)})
    assert w == D("75.00")


def test_w_no_applicable_point_is_none():
    assert work_score({"a": None, "b": None}, {"a": D(10), "b": D(20)}) is None
    assert work_score({}, {"a": D(10)}) is None


def test_w_exact_quarter():
    # 100 × 41 / 80 = 4100 / 80 = 51.25 exactly
    assert work_score({"a": D(41)}, {"a": D(80)}) == D("51.25")


def test_w_round_half_up_not_bankers():
    # 100 × 0.125 / 100 = 0.125 → half up 0.13 (banker's rounding would give 0.12)
    assert str(work_score({"a": D("0.125")}, {"a": D(100)})) == "0.13"
    # 100 × 1 / 800 = 0.125 → 0.13
    assert str(work_score({"a": D(1)}, {"a": D(800)})) == "0.13"
    # 100 × 24.69 / 200 = 2469 / 200 = 12.345 → 12.35 (banker's: 12.34)
    assert str(work_score({"a": D("24.69")}, {"a": D(200)})) == "12.35"
    # 100 × 1.125 / 8 = 112.5 / 8 = 14.0625 → 14.06 (below the half)
    assert str(work_score({"a": D("1.125")}, {"a": D(8)})) == "14.06"


def test_w_repeating_fractions():
    # 100 × 2 / 3 = 66.666… → 66.67 ; 100 × 1 / 3 = 33.333… → 33.33
    assert work_score({"a": D(2)}, {"a": D(3)}) == D("66.67")
    assert work_score({"a": D(1)}, {"a": D(3)}) == D("33.33")


def test_w_extremes():
    assert str(work_score({"a": D(0), "b": D(0)}, {"a": D(3), "b": D(4)})) == "0.00"
    assert str(work_score({"a": D(3), "b": D(4)}, {"a": D(3), "b": D(4)})) == "100.00"


def test_w_on_the_default_scheme():
    s = default_scheme()
    full = {p.code: p.max for p in s.points}
    assert work_score(full, s.point_max) == D("100.00")
    # 1.1.1 (max 3) scored 1.5, 3.1.1 (max 2) not applicable:
    # Σs = 100 − 3 − 2 + 1.5 = 96.5, Σmax = 100 − 2 = 98; 100 × 96.5 / 98 = 98.469… → 98.47
    scores = dict(full)
    scores["1.1.1"] = D("1.5")
    scores["3.1.1"] = None
    assert work_score(scores, s.point_max) == D("98.47")


# ================================================================ D


def test_d_plain_mean_below_trim_min():
    # 4 ballots < 5: (80 + 85 + 90 + 95) / 4 = 350 / 4 = 87.5 → 87.50
    d, means = debrief_score({"representatives": [D(80), D(85), D(90), D(95)]}, ONE, 5)
    assert d == D("87.50")
    assert means[0].dropped_low is None and means[0].dropped_high is None


def test_d_trims_one_highest_and_one_lowest_at_trim_min():
    # 5 ballots: drop 60 and 100; (80 + 85 + 90) / 3 = 255 / 3 = 85 → 85.00
    d, means = debrief_score({"representatives": [D(90), D(60), D(100), D(85), D(80)]}, ONE, 5)
    assert d == D("85.00")
    assert means[0].dropped_low == D(60)
    assert means[0].dropped_high == D(100)


def test_d_trims_only_one_of_equal_extremes():
    # 6 ballots 70, 80, 80, 90, 90, 90: drop one 70 and ONE 90 → (80 + 80 + 90 + 90) / 4 = 340 / 4 = 85.00
    # (dropping every 90 would give (80 + 80) / 2 = 80)
    d, _ = debrief_score({"representatives": [D(90), D(80), D(70), D(90), D(80), D(90)]}, ONE, 5)
    assert d == D("85.00")


def test_d_trim_min_is_a_policy_setting():
    # trim_min 3, ballots 10, 50, 60: drop 10 and 60 → 50.00 (untrimmed: 120 / 3 = 40.00)
    assert debrief_score({"representatives": [D(10), D(50), D(60)]}, ONE, 3)[0] == D("50.00")
    assert debrief_score({"representatives": [D(10), D(50), D(60)]}, ONE, 4)[0] == D("40.00")


def test_d_round_half_up():
    # (80.00 + 80.01) / 2 = 160.01 / 2 = 80.005 → 80.01 (banker's: 80.00)
    assert str(debrief_score({"representatives": [D("80.00"), D("80.01")]}, ONE, 5)[0]) == "80.01"
    # (80 + 81 + 81) / 3 = 242 / 3 = 80.666… → 80.67 ; (80 + 80 + 81) / 3 = 80.333… → 80.33
    assert debrief_score({"representatives": [D(80), D(81), D(81)]}, ONE, 5)[0] == D("80.67")
    assert debrief_score({"representatives": [D(80), D(80), D(81)]}, ONE, 5)[0] == D("80.33")


THREE = {"leaders": D("0.4"), "heads": D("0.3"), "staff": D("0.3")}


def test_d_category_weights():
    # leaders 90, 80 → 85 ; heads 70 → 70 ; staff 100, 95, 90, 85, 60 → drop 60, 100 → 270 / 3 = 90
    # D = 0.4 × 85 + 0.3 × 70 + 0.3 × 90 = 34 + 21 + 27 = 82 (÷ 1) → 82.00
    ballots = {
        "leaders": [D(90), D(80)],
        "heads": [D(70)],
        "staff": [D(100), D(95), D(90), D(85), D(60)],
    }
    d, means = debrief_score(ballots, THREE, 5)
    assert d == D("82.00")
    assert {m.category: m.mean for m in means} == {"leaders": D(85), "heads": D(70), "staff": D(90)}


def test_d_category_without_scores_leaves_both_sums():
    # heads has no score: D = (0.4 × 85 + 0.3 × 90) / (0.4 + 0.3) = (34 + 27) / 0.7 = 61 / 0.7 = 87.142… → 87.14
    # (counting heads as 0 would give 61.00)
    ballots = {"leaders": [D(90), D(80)], "staff": [D(100), D(95), D(90), D(85), D(60)]}
    assert debrief_score(ballots, THREE, 5)[0] == D("87.14")
    ballots["heads"] = []
    assert debrief_score(ballots, THREE, 5)[0] == D("87.14")


def test_d_uses_unrounded_category_means():
    # leaders 90, 80 → 85 ; staff 100, 95, 92, 85, 60 → drop 60, 100 → 272 / 3 = 90.666…
    # D = 0.5 × 85 + 0.5 × 272/3 = 42.5 + 45.333… = 87.833… → 87.83
    # (rounding the staff mean to 90.67 first would give 42.5 + 45.335 = 87.835 → 87.84)
    cats = {"leaders": D("0.5"), "staff": D("0.5")}
    ballots = {"leaders": [D(90), D(80)], "staff": [D(100), D(95), D(92), D(85), D(60)]}
    assert debrief_score(ballots, cats, 5)[0] == D("87.83")


def test_d_example_p02():
    # README: leaders 89, 85, 90 (3 < 5) → 264 / 3 = 88 ; staff 91, 93, 93, 95, 95, 98 → drop 91, 98
    # → (93 + 93 + 95 + 95) / 4 = 376 / 4 = 94 ; D = 0.5 × 88 + 0.5 × 94 = 44 + 47 = 91.00
    cats = {"leaders": D("0.5"), "staff": D("0.5")}
    ballots = {
        "leaders": [D(89), D(85), D(90)],
        "staff": [D(91), D(93), D(93), D(95), D(95), D(98)],
    }
    assert debrief_score(ballots, cats, 5)[0] == D("91.00")


def test_d_no_score_is_none():
    assert debrief_score({}, ONE, 5) == (None, [])
    assert debrief_score({"representatives": []}, ONE, 5) == (None, [])
    # a category the cycle does not have is not counted
    assert debrief_score({"strangers": [D(90)]}, ONE, 5) == (None, [])


def test_category_mean_keeps_the_scores():
    m = category_mean("staff", [D(3), D(1), D(2)], 3)
    # sorted 1, 2, 3: drop 1 and 3 → 2
    assert (m.dropped_low, m.dropped_high, m.mean) == (D(1), D(3), D(2))
    assert m.scores == (D(3), D(1), D(2))


# ================================================================ C, B, F


def test_c_default_weights():
    # 0.7 × 90.50 + 0.3 × 91.00 = 63.35 + 27.30 = 90.65
    assert composite(D("90.50"), D("91.00"), P) == D("90.65")


def test_c_round_half_up():
    # 0.7 × 80.15 + 0.3 × 80 = 56.105 + 24 = 80.105 → 80.11 (banker's: 80.10)
    assert str(composite(D("80.15"), D("80.00"), P)) == "80.11"
    # 0.7 × 75 + 0.3 × 87.14 = 52.5 + 26.142 = 78.642 → 78.64
    assert composite(D("75.00"), D("87.14"), P) == D("78.64")


def test_c_other_weights():
    # 0.6 × 90 + 0.4 × 80 = 54 + 32 = 86.00
    assert composite(D(90), D(80), Policy(work_weight=D("0.6"), debrief_weight=D("0.4"))) == D("86.00")
    # 1 × 77.77 + 0 × 10 = 77.77
    assert composite(D("77.77"), D(10), Policy(work_weight=D(1), debrief_weight=D(0))) == D("77.77")


def test_b_cap():
    assert bonus([], D(3)) == D(0)
    assert bonus([D("1.5")], D(3)) == D("1.5")
    assert bonus([D(2), D(2)], D(3)) == D(3)  # 2 + 2 = 4 > 3 → 3
    assert bonus([D("0.5"), D(1), D("1.5")], D(3)) == D(3)  # exactly 3
    assert bonus([D(2), D(2)], D(5)) == D(4)  # 4 < 5
    assert bonus([D(2)], D(0)) == D(0)  # cap 0


def test_score_unit_whole_chain():
    # W: (8 + 9.5) / (10 + 10), c N/A → 100 × 17.5 / 20 = 87.50
    # D: leaders 90, 80 → 85 ; staff 100, 95, 92, 85, 60 → 272/3 ; 0.5 × 85 + 0.5 × 272/3 = 87.833… → 87.83
    # C: 0.7 × 87.50 + 0.3 × 87.83 = 61.25 + 26.349 = 87.599 → 87.60
    # B: 2 + 1.5 = 3.5 → cap 3 ; F = 87.60 + 3 = 90.60
    cats = {"leaders": D("0.5"), "staff": D("0.5")}
    f = UnitFacts(
        unit="U",
        cohort="c",
        point_scores={"a": D(8), "b": D("9.5"), "c": None},
        point_max={"a": D(10), "b": D(10), "c": D(5)},
        ballots={"leaders": [D(90), D(80)], "staff": [D(100), D(95), D(92), D(85), D(60)]},
        bonus_points=(D(2), D("1.5")),
    )
    s = score_unit(f, cats, P)
    assert (s.work_score, s.debrief_score, s.composite, s.bonus, s.final_score) == (
        D("87.50"), D("87.83"), D("87.60"), D(3), D("90.60"),
    )
    assert s.incomplete is None
    assert s.key == (D("90.60"), D("87.83"), D("87.50"))


def test_c_uses_rounded_w():
    # W = 100 × 24.69 / 200 = 12.345 → 12.35 ; D = 0
    # C = 0.7 × 12.35 + 0.3 × 0 = 8.645 → 8.65 (half up; from the unrounded W: 0.7 × 12.345 = 8.6415 → 8.64)
    f = UnitFacts("U", "c", {"a": D("24.69")}, {"a": D(200)}, {"representatives": [D(0)]})
    s = score_unit(f, ONE, P)
    assert (s.work_score, s.debrief_score, s.composite, s.final_score) == (
        D("12.35"), D("0.00"), D("8.65"), D("8.65"),
    )


# ================================================================ ranks and quota


def test_rank_sharing_1_2_2_4():
    # q = floor(0 × 4) = 0, so no tie question arises
    alloc = allocate([unit("A", 95), unit("B", 92), unit("C", 92), unit("D", 80)], ONE, Policy(excellent_share=D(0)))
    assert ranks(alloc) == {"A": 1, "B": 2, "C": 2, "D": 4}
    assert [g.unit for g in alloc.cohorts["c"].units][0] == "A"
    assert [g.unit for g in alloc.cohorts["c"].units][-1] == "D"


def test_rank_sharing_1_2_2_2_5():
    alloc = allocate(
        [unit("E", 80), unit("B", 90), unit("A", 95), unit("D", 90), unit("C", 90)], ONE, Policy(excellent_share=D(0))
    )
    assert ranks(alloc) == {"A": 1, "B": 2, "C": 2, "D": 2, "E": 5}


def test_order_by_f_then_d_then_w():
    # Y: W = D = 90 → C 90.00, F 90.00 → key (90, 90, 90)
    # X: W 88, D 90 → C = 61.6 + 27 = 88.60, B 1.4 → F 90.00 → key (90, 90, 88)
    # Z: W = D = 88 → C 88.00, B 2 → F 90.00 → key (90, 88, 88)
    # n = 3 → q = floor(1.5) = 1: Y is excellent; X and Z eligible beyond the quota → good; no tie
    alloc = allocate([unit("Z", 88, bonus=["2"]), unit("X", w=88, d=90, bonus=["1.4"]), unit("Y", 90)], ONE, P)
    assert ranks(alloc) == {"Y": 1, "X": 2, "Z": 3}
    assert grades(alloc) == {"Y": "excellent", "X": "good", "Z": "good"}
    assert alloc.cohorts["c"].tie is None
    assert alloc.approvable
    x = alloc.unit("X").score
    assert (x.final_score, x.debrief_score, x.work_score) == (D("90.00"), D("90.00"), D("88.00"))


@pytest.mark.parametrize(
    "share, n, q",
    [
        ("0.5", 5, 2),  # 2.5 → 2
        ("0.5", 4, 2),  # 2
        ("0.5", 1, 0),  # 0.5 → 0
        ("0.3", 7, 2),  # 2.1 → 2
        ("0.15", 7, 1),  # 1.05 → 1
        ("0.35", 20, 7),  # 7 exactly
        ("1", 3, 3),
        ("0", 9, 0),
        ("0.5", 0, 0),
    ],
)
def test_quota_floor(share, n, q):
    assert quota(Policy(excellent_share=D(share)), n) == q


def test_quota_limits_excellent_in_a_cohort_of_five():
    # n = 5, q = floor(2.5) = 2: the first two are excellent, the other eligible ones good
    alloc = allocate([unit(k, v) for k, v in [("A", 99), ("B", 98), ("C", 97), ("D", 96), ("E", 95)]], ONE, P)
    c = alloc.cohorts["c"]
    assert (c.n, c.quota) == (5, 2)
    assert grades(alloc) == {"A": "excellent", "B": "excellent", "C": "good", "D": "good", "E": "good"}
    assert {g.unit: g.quota_place for g in c.units} == {"A": 1, "B": 2, "C": None, "D": None, "E": None}
    assert c.distribution() == {"excellent": 2, "good": 3, "average": 0, "poor": 0}


def test_cohort_of_one_has_no_excellent_place():
    # q = floor(0.5 × 1) = 0: 99 is good
    alloc = allocate([unit("A", 99)], ONE, P)
    assert grades(alloc) == {"A": "good"}
    assert base_grades(alloc) == {"A": "good"}


def test_each_cohort_has_its_own_quota():
    # X: 95, 94 → q = 1 → 95 excellent; Y: 93, 91 → q = 1 → 93 excellent (though 93 < 94)
    facts = [unit("X1", 95, cohort="x"), unit("X2", 94, cohort="x"), unit("Y1", 93, cohort="y"), unit("Y2", 91, cohort="y")]
    alloc = allocate(facts, ONE, P)
    assert grades(alloc, "x") == {"X1": "excellent", "X2": "good"}
    assert grades(alloc, "y") == {"Y1": "excellent", "Y2": "good"}
    assert ranks(alloc, "y") == {"Y1": 1, "Y2": 2}


# ================================================================ thresholds


def test_eligibility_needs_the_excellent_threshold():
    # n = 4, q = 2, but only A reaches 90: B (89.99) stays good and the second place is unused
    alloc = allocate([unit("A", 95), unit("B", "89.99"), unit("C", 70), unit("D", "59.99")], ONE, P)
    assert grades(alloc) == {"A": "excellent", "B": "good", "C": "average", "D": "poor"}
    assert alloc.cohorts["c"].excellent_count == 1
    assert alloc.cohorts["c"].distribution() == {"excellent": 1, "good": 1, "average": 1, "poor": 1}


def test_threshold_boundaries_are_inclusive():
    # share 1 → every eligible unit fits; 90.00 → excellent, 80.00 → good, 60.00 → average
    alloc = allocate(
        [unit("A", 90), unit("B", 80), unit("C", "79.99"), unit("E", 60), unit("F", 0)],
        ONE,
        Policy(excellent_share=D(1)),
    )
    assert grades(alloc) == {"A": "excellent", "B": "good", "C": "average", "E": "average", "F": "poor"}


def test_custom_thresholds():
    pol = Policy(excellent_share=D(1), thresholds=Thresholds(D(85), D(70), D(50)))
    alloc = allocate(
        [unit("A", 85), unit("B", "84.99"), unit("C", 70), unit("E", "69.99"), unit("F", 50), unit("G", "49.99")],
        ONE,
        pol,
    )
    assert grades(alloc) == {"A": "excellent", "B": "good", "C": "good", "E": "average", "F": "average", "G": "poor"}
    assert threshold_grade(D("84.99"), pol) == "good"


def test_bonus_can_lift_over_the_threshold():
    # C = 88.50, B = 1.5 → F = 90.00 → eligible; n = 2, q = 1
    alloc = allocate([unit("A", "88.50", bonus=["1.5"]), unit("B", 85)], ONE, P)
    assert alloc.unit("A").score.final_score == D("90.00")
    assert grades(alloc) == {"A": "excellent", "B": "good"}


# ================================================================ downgrade and veto


def test_downgraded_unit_takes_no_quota_place():
    # n = 4, q = 2. P (97) has a downgrade: base excellent by threshold, final good, no place.
    # A (95) and B (92) take the two places; C (91) is eligible beyond the quota → good.
    alloc = allocate([unit("P", 97, levels=1), unit("A", 95), unit("B", 92), unit("C", 91)], ONE, P)
    c = alloc.cohorts["c"]
    assert ranks(alloc) == {"P": 1, "A": 2, "B": 3, "C": 4}
    assert base_grades(alloc) == {"P": "excellent", "A": "excellent", "B": "excellent", "C": "good"}
    assert grades(alloc) == {"P": "good", "A": "excellent", "B": "excellent", "C": "good"}
    assert {g.unit: g.quota_place for g in c.units} == {"P": None, "A": 1, "B": 2, "C": None}
    assert c.excellent_count == 2


def test_downgraded_unit_base_grade_excellent_even_without_quota():
    # n = 1 → q = 0; a downgraded 95 still has base grade excellent (thresholds alone) → good
    alloc = allocate([unit("A", 95, levels=1)], ONE, P)
    assert (alloc.unit("A").base_grade, alloc.unit("A").grade) == ("excellent", "good")


def test_downgrade_levels_and_veto():
    # all penalised, so nobody is eligible and no quota place is used
    # U5 99 veto        base excellent → poor
    # U1 95 2 levels    base excellent → average
    # U2 85 1 level     base good      → average
    # U3 85 5 levels    base good      → poor (never below poor)
    # U6 70 veto + 1    base average   → poor
    # U4 50 1 level     base poor      → poor
    facts = [
        unit("U1", 95, levels=2),
        unit("U2", 85, levels=1),
        unit("U3", 85, levels=5),
        unit("U4", 50, levels=1),
        unit("U5", 99, veto=True),
        unit("U6", 70, veto=True, levels=1),
    ]
    alloc = allocate(facts, ONE, P)
    assert ranks(alloc) == {"U5": 1, "U1": 2, "U2": 3, "U3": 3, "U6": 5, "U4": 6}
    assert base_grades(alloc) == {
        "U5": "excellent", "U1": "excellent", "U2": "good", "U3": "good", "U6": "average", "U4": "poor",
    }
    assert grades(alloc) == {"U5": "poor", "U1": "average", "U2": "average", "U3": "poor", "U6": "poor", "U4": "poor"}
    assert alloc.cohorts["c"].distribution() == {"excellent": 0, "good": 0, "average": 2, "poor": 4}
    assert alloc.cohorts["c"].tie is None
    assert alloc.approvable


def test_veto_takes_no_place_either():
    # n = 2, q = 1: V (98) vetoed → poor; A (91) takes the place
    alloc = allocate([unit("V", 98, veto=True), unit("A", 91)], ONE, P)
    assert grades(alloc) == {"V": "poor", "A": "excellent"}
    assert alloc.unit("V").base_grade == "excellent"


# ================================================================ ties at the quota boundary


def tied_cohort():
    # n = 4, q = 2: A 95 takes place 1; B and C (92, equal on F, D, W) compete for the last place
    return [unit("A", 95), unit("B", 92), unit("C", 92), unit("D", 80)]


def test_unresolved_tie_is_reported_and_blocks_approval():
    alloc = allocate(tied_cohort(), ONE, P)
    c = alloc.cohorts["c"]
    assert c.tie is not None
    assert set(c.tie.candidates) == {"B", "C"}
    assert c.tie.places == 1
    assert not c.tie.resolved
    assert ranks(alloc) == {"A": 1, "B": 2, "C": 2, "D": 4}
    assert grades(alloc) == {"A": "excellent", "B": None, "C": None, "D": "good"}
    assert base_grades(alloc) == {"A": "excellent", "B": None, "C": None, "D": "good"}
    assert c.problems() != []
    assert alloc.problems() != []
    assert not alloc.approvable
    assert c.excellent_count == 1
    doc = results_document("k", alloc)
    assert doc["units"]["B"]["grade"] is None and doc["units"]["B"]["base_grade"] is None


def test_tie_resolved_by_a_valid_choice():
    alloc = allocate(tied_cohort(), ONE, P, ties={"c": ["C"]})
    c = alloc.cohorts["c"]
    assert c.tie is not None and c.tie.resolved
    assert c.tie.chosen == ("C",)
    assert grades(alloc) == {"A": "excellent", "B": "good", "C": "excellent", "D": "good"}
    assert {g.unit: g.quota_place for g in c.units} == {"A": 1, "B": None, "C": 2, "D": None}
    assert alloc.approvable
    assert alloc.problems() == []


@pytest.mark.parametrize("choice", [["B", "C"], []])
def test_tie_choice_with_wrong_count(choice):
    with pytest.raises(InvalidInput) as e:
        allocate(tied_cohort(), ONE, P, ties={"c": choice})
    assert e.value.code == "wrong_tie_count"
    assert e.value.field == "ties"


@pytest.mark.parametrize("choice", [["A"], ["D"], ["Z"], ["B", "D"]])
def test_tie_choice_with_a_unit_not_in_the_tie(choice):
    with pytest.raises(InvalidInput) as e:
        allocate(tied_cohort(), ONE, P, ties={"c": choice})
    assert e.value.code == "not_in_tie"
    assert e.value.field == "ties"


def test_tie_choice_without_a_tie_is_a_conflict():
    # 95, 92, 91, 80: q = 2, no tie
    with pytest.raises(Conflict) as e:
        allocate([unit("A", 95), unit("B", 92), unit("C", 91), unit("D", 80)], ONE, P, ties={"c": ["B"]})
    assert e.value.code == "no_tie_to_resolve"
    # n = 1 → q = 0: nothing to resolve either
    with pytest.raises(Conflict):
        allocate([unit("A", 95)], ONE, P, ties={"c": ["A"]})


def test_tie_choice_for_unknown_cohort():
    with pytest.raises(InvalidInput) as e:
        allocate(tied_cohort(), ONE, P, ties={"nowhere": ["B"]})
    assert e.value.code == "unknown_cohort"


def test_three_tied_for_two_places():
    # A = B = C = 92, D 80; n = 4, q = 2: nobody above, 3 candidates for 2 places
    facts = [unit("A", 92), unit("B", 92), unit("C", 92), unit("D", 80)]
    alloc = allocate(facts, ONE, P)
    tie = alloc.cohorts["c"].tie
    assert set(tie.candidates) == {"A", "B", "C"} and tie.places == 2
    assert ranks(alloc) == {"A": 1, "B": 1, "C": 1, "D": 4}
    assert not alloc.approvable
    alloc = allocate(facts, ONE, P, ties={"c": ["C", "A"]})
    assert grades(alloc) == {"A": "excellent", "B": "good", "C": "excellent", "D": "good"}
    with pytest.raises(InvalidInput):
        allocate(facts, ONE, P, ties={"c": ["A"]})


def test_equal_units_that_all_fit_are_no_tie():
    # A = B = 92, q = 2: both fit
    alloc = allocate([unit("A", 92), unit("B", 92), unit("C", 85), unit("D", 70)], ONE, P)
    assert alloc.cohorts["c"].tie is None
    assert grades(alloc) == {"A": "excellent", "B": "excellent", "C": "good", "D": "average"}
    assert ranks(alloc) == {"A": 1, "B": 1, "C": 3, "D": 4}


def test_equal_units_below_the_threshold_are_no_tie():
    # B = C = 85 are not eligible: A takes one place, the other stays empty
    alloc = allocate([unit("A", 95), unit("B", 85), unit("C", 85), unit("D", 70)], ONE, P)
    assert alloc.cohorts["c"].tie is None
    assert grades(alloc) == {"A": "excellent", "B": "good", "C": "good", "D": "average"}


def test_equal_to_a_penalised_unit_is_no_tie():
    # C equals B but is vetoed: only A and B are eligible, both fit in q = 2
    alloc = allocate([unit("A", 95), unit("B", 92), unit("C", 92, veto=True), unit("D", 80)], ONE, P)
    assert alloc.cohorts["c"].tie is None
    assert grades(alloc) == {"A": "excellent", "B": "excellent", "C": "poor", "D": "good"}


def test_equal_f_but_different_d_is_no_tie():
    # n = 2, q = 1. Y: W = D = 90 → key (90, 90, 90); X: W 88, D 90 → C 88.60 + 1.4 → key (90, 90, 88)
    alloc = allocate([unit("X", w=88, d=90, bonus=["1.4"]), unit("Y", 90)], ONE, P)
    assert alloc.cohorts["c"].tie is None
    assert grades(alloc) == {"Y": "excellent", "X": "good"}


def test_tie_in_one_cohort_only():
    facts = tied_cohort() + [unit("Y1", 93, cohort="y"), unit("Y2", 91, cohort="y")]
    alloc = allocate(facts, ONE, P)
    assert alloc.cohorts["y"].problems() == []
    assert alloc.cohorts["c"].problems() != []
    assert len(alloc.problems()) == 1
    alloc = allocate(facts, ONE, P, ties={"c": ["B"]})
    assert alloc.approvable
    assert grades(alloc) == {"A": "excellent", "B": "excellent", "C": "good", "D": "good"}


# ================================================================ overrides


def override_cohort():
    # n = 4, q = 2. Ranks: A 95 (1), P 93 downgraded (2), B 92 (3), C 85 (4)
    # A excellent (place 1), P base excellent → good, B excellent (place 2), C good
    return [unit("A", 95), unit("P", 93, levels=1), unit("B", 92), unit("C", 85)]


def test_override_cohort_as_proposed():
    alloc = allocate(override_cohort(), ONE, P)
    assert grades(alloc) == {"A": "excellent", "P": "good", "B": "excellent", "C": "good"}


def test_override_down():
    alloc = allocate(override_cohort(), ONE, P, overrides={"B": Override("poor", "党委会研究决定")})
    b = alloc.unit("B")
    assert (b.base_grade, b.grade, b.overridden, b.override_reason) == ("excellent", "poor", True, "党委会研究决定")
    assert not alloc.unit("A").overridden
    assert alloc.cohorts["c"].distribution() == {"excellent": 1, "good": 2, "average": 0, "poor": 1}
    assert results_document("k", alloc)["units"]["B"]["overridden"] is True


def test_override_up_within_quota():
    # A → good and C → excellent together: still 2 excellent (C, B) ≤ q = 2
    alloc = allocate(
        override_cohort(), ONE, P, overrides={"A": Override("good", "理由一"), "C": Override("excellent", "理由二")}
    )
    assert grades(alloc) == {"A": "good", "P": "good", "B": "excellent", "C": "excellent"}
    assert alloc.unit("C").base_grade == "good"
    assert alloc.approvable


def test_override_beyond_quota():
    # C → excellent would make A, B, C = 3 > q = 2
    with pytest.raises(Conflict) as e:
        allocate(override_cohort(), ONE, P, overrides={"C": Override("excellent", "理由")})
    assert e.value.code == "override_beyond_quota"
    # q = 0 in a cohort of one
    with pytest.raises(Conflict) as e:
        allocate([unit("A", 95)], ONE, P, overrides={"A": Override("excellent", "理由")})
    assert e.value.code == "override_beyond_quota"


def test_override_never_excellent_for_a_penalised_unit():
    # room is made (A → good), still refused for the downgraded P
    with pytest.raises(Conflict) as e:
        allocate(
            override_cohort(), ONE, P, overrides={"A": Override("good", "理由"), "P": Override("excellent", "理由")}
        )
    assert e.value.code == "override_excellent_penalised"
    with pytest.raises(Conflict):
        allocate([unit("V", 95, veto=True), unit("A", 70)], ONE, P, overrides={"V": Override("excellent", "理由")})


def test_override_of_a_penalised_unit_to_another_grade_is_allowed():
    alloc = allocate(override_cohort(), ONE, P, overrides={"P": Override("average", "理由")})
    assert alloc.unit("P").grade == "average"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_override_needs_a_reason(reason):
    with pytest.raises(InvalidInput) as e:
        allocate(override_cohort(), ONE, P, overrides={"C": Override("average", reason)})
    assert e.value.code == "reason_required"
    assert e.value.field == "reason"


def test_override_unknown_grade_or_unit():
    with pytest.raises(InvalidInput) as e:
        allocate(override_cohort(), ONE, P, overrides={"C": Override("great", "理由")})
    assert e.value.code == "unknown_grade"
    with pytest.raises(InvalidInput) as e:
        allocate(override_cohort(), ONE, P, overrides={"Z": Override("good", "理由")})
    assert e.value.code == "unknown_unit"


# ================================================================ incomplete units


def test_incomplete_reasons():
    not_scored = UnitFacts("N", "c", {}, {}, {"representatives": [D(90)]}, scored=False)
    s = score_unit(not_scored, ONE, P)
    assert s.work_score is None and s.composite is None and s.final_score is None
    assert s.debrief_score == D("90.00")
    assert "indicator scoring not submitted" in s.incomplete

    all_na = UnitFacts("A", "c", {"a": None}, {"a": D(10)}, {"representatives": [D(90)]})
    assert "no applicable evaluation point" in score_unit(all_na, ONE, P).incomplete

    no_debrief = UnitFacts("B", "c", {"a": D(10)}, {"a": D(10)}, {})
    s = score_unit(no_debrief, ONE, P)
    assert s.work_score == D("100.00") and s.debrief_score is None and s.final_score is None
    assert "no debrief score" in s.incomplete

    both = UnitFacts("C", "c", {}, {}, {}, scored=False)
    why = score_unit(both, ONE, P).incomplete
    assert "indicator scoring not submitted" in why and "no debrief score" in why


def test_incomplete_units_are_not_graded_and_block_approval():
    facts = [
        unit("A", 95),
        unit("B", 85),
        UnitFacts("I", "c", {"p": D(99)}, {"p": D(100)}, {"representatives": [D(99)]}, scored=False),
        UnitFacts("J", "c", {"p": D(99)}, {"p": D(100)}, {}, downgrade_levels=1),
    ]
    alloc = allocate(facts, ONE, P)
    c = alloc.cohorts["c"]
    # A is excellent and B good whether q counts 2 or 4 units (q ≥ 1, B < 90)
    assert grades(alloc) == {"A": "excellent", "B": "good", "I": None, "J": None}
    assert ranks(alloc) == {"A": 1, "B": 2, "I": None, "J": None}
    assert base_grades(alloc)["I"] is None and base_grades(alloc)["J"] is None
    assert set(c.incomplete) == {"I", "J"}
    assert len(c.problems()) == 2
    assert not alloc.approvable
    doc = results_document("k", alloc)
    assert doc["units"]["I"] == {
        "cohort": "c",
        "work_score": None,
        "debrief_score": "99.00",
        "composite": None,
        "bonus": "0.00",
        "final_score": None,
        "rank": None,
        "base_grade": None,
        "downgrade_levels": 0,
        "vetoed": False,
        "overridden": False,
        "grade": None,
    }
    assert doc["units"]["J"]["work_score"] == "99.00"
    assert doc["units"]["J"]["debrief_score"] is None
    assert doc["distribution"]["c"] == {"excellent": 1, "good": 1, "average": 0, "poor": 0}


# ================================================================ the results document


def test_results_document_shape():
    # A: W = D = 91.5 → C 91.50, B 1 → F 92.50 ; n = 2, q = 1
    alloc = allocate([unit("B", 80), unit("A", "91.5", bonus=["1"])], ONE, P)
    doc = results_document("2026-annual", alloc)
    assert doc == {
        "cycle": "2026-annual",
        "units": {
            "A": {
                "cohort": "c",
                "work_score": "91.50",
                "debrief_score": "91.50",
                "composite": "91.50",
                "bonus": "1.00",
                "final_score": "92.50",
                "rank": 1,
                "base_grade": "excellent",
                "downgrade_levels": 0,
                "vetoed": False,
                "overridden": False,
                "grade": "excellent",
            },
            "B": {
                "cohort": "c",
                "work_score": "80.00",
                "debrief_score": "80.00",
                "composite": "80.00",
                "bonus": "0.00",
                "final_score": "80.00",
                "rank": 2,
                "base_grade": "good",
                "downgrade_levels": 0,
                "vetoed": False,
                "overridden": False,
                "grade": "good",
            },
        },
        "distribution": {"c": {"excellent": 1, "good": 1, "average": 0, "poor": 0}},
    }
    assert list(doc["units"]) == ["A", "B"]


# ================================================================ the worked example of SPEC §4–5


def _shared_examples():
    # the product contract's worked example, as the repository keeps it (examples/contract)
    return Path(__file__).resolve().parents[2] / "examples" / "contract"


def _facts_from_scenario(sc: dict):
    """UnitFacts from a SPEC §7 scenario, as the rules see it (approved adjustments only)."""
    schemes = {org: resolve_scheme(tree, f"schemes.{org}") for org, tree in sc["schemes"].items()}
    categories = parse_categories(sc.get("debrief", {}).get("categories"))
    default_category = next(iter(categories)) if len(categories) == 1 else None
    ballots: dict[str, dict[str, list]] = {}
    for sheet in sc["debrief"]["ballots"]:
        cat = sheet.get("category", default_category)
        for u, v in sheet["scores"].items():
            ballots.setdefault(u, {}).setdefault(cat, []).append(to_decimal(v, "score"))
    bonuses: dict[str, list] = {}
    levels: dict[str, int] = {}
    vetoed: set[str] = set()
    for adj in sc.get("adjustments", []):
        if adj.get("decision", "approve") != "approve":
            continue
        if adj["kind"] == "bonus":
            bonuses.setdefault(adj["unit"], []).append(to_decimal(adj["points"], "points"))
        elif adj["kind"] == "downgrade":
            levels[adj["unit"]] = levels.get(adj["unit"], 0) + int(adj["levels"])
        elif adj["kind"] == "veto":
            vetoed.add(adj["unit"])
    facts = []
    for u in sc["units"]:
        key, scheme = u["key"], schemes[u["org_type"]]
        raw = sc["scores"].get(key)
        facts.append(
            UnitFacts(
                unit=key,
                cohort=u["org_type"],
                point_scores={c: (None if v is None else to_decimal(v, c)) for c, v in (raw or {}).items()},
                point_max=scheme.point_max,
                ballots=ballots.get(key, {}),
                bonus_points=tuple(bonuses.get(key, [])),
                downgrade_levels=levels.get(key, 0),
                vetoed=key in vetoed,
                scored=raw is not None,
            )
        )
    allocation = sc.get("allocation", {})
    overrides = {u: Override(o["grade"], o["reason"]) for u, o in allocation.get("overrides", {}).items()}
    return facts, categories, parse_policy(sc["cycle"].get("policy")), allocation.get("ties", {}), overrides


def test_example_2026_matches_its_results():
    folder = _shared_examples()
    scenario_path = folder / "example-2026.json"
    results_path = folder / "example-2026.results.json"
    if not (scenario_path.exists() and results_path.exists()):
        pytest.skip(f"shared examples not found at {folder}")
    with scenario_path.open(encoding="utf-8") as fh:
        sc = json.load(fh, parse_float=Decimal)
    with results_path.open(encoding="utf-8") as fh:
        expected = json.load(fh, parse_float=Decimal)
    facts, categories, policy, ties, overrides = _facts_from_scenario(sc)
    alloc = allocate(facts, categories, policy, ties=ties, overrides=overrides)
    assert alloc.approvable
    doc = results_document(sc["cycle"]["key"], alloc)
    for key, want in expected["units"].items():
        assert doc["units"][key] == want, key
    assert doc == expected


def test_example_p02_by_hand():
    # README: P02 W 90.50, D 91.00, C 90.65, B 1.50, F 92.15, rank 3, excellent
    folder = _shared_examples()
    if not (folder / "example-2026.json").exists():
        pytest.skip(f"shared examples not found at {folder}")
    with (folder / "example-2026.json").open(encoding="utf-8") as fh:
        sc = json.load(fh, parse_float=Decimal)
    facts, categories, policy, ties, overrides = _facts_from_scenario(sc)
    g = allocate(facts, categories, policy, ties=ties, overrides=overrides).unit("P02")
    s = g.score
    assert (s.work_score, s.debrief_score, s.composite, s.bonus, s.final_score) == (
        D("90.50"), D("91.00"), D("90.65"), D("1.5"), D("92.15"),
    )
    assert (g.rank, g.base_grade, g.grade) == (3, "excellent", "excellent")
    p04 = allocate(facts, categories, policy, ties=ties, overrides=overrides).unit("P04")
    assert (p04.rank, p04.base_grade, p04.grade, p04.quota_place) == (1, "excellent", "good", None)
