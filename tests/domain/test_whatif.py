"""What-if replay (issue 13 §7) on the contract's worked example (shared/examples), worked by hand.

The facts are the example's own: each unit's W and D as its results give them (SPEC §4; P02's
are worked in shared/examples/README.md), its approved bonus, downgrade and veto, and the
committee's override of P05. Each unit is given one evaluation point of max 100 scored W (so
W = round2(100 × W / 100) = W) and one ballot category of weight 1 holding the single score D
(so D = D): the recomputation under another policy then rests on exactly the example's W and D.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.grading import Override, UnitFacts
from domain.whatif import what_if
from tests.conftest import CONTRACT

RESULTS = json.loads((CONTRACT / "example-2026.results.json").read_text("utf-8"))
POLICY = json.loads((CONTRACT / "example-2026.json").read_text("utf-8"))["cycle"]["policy"]
BONUS = {"P02": [Decimal("1.5")]}  # Q03's bonus of 2 was rejected
DOWNGRADE = {"P04": 1}
VETO = {"Q02"}
OVERRIDES = {"P05": Override("poor", "党委会研究决定")}


def facts() -> list[UnitFacts]:
    out = []
    for unit, r in RESULTS["units"].items():
        out.append(UnitFacts(
            unit=unit, cohort=r["cohort"],
            point_scores={"w": Decimal(r["work_score"])}, point_max={"w": Decimal(100)},
            ballots={"all": [Decimal(r["debrief_score"])]},
            bonus_points=BONUS.get(unit, ()), downgrade_levels=DOWNGRADE.get(unit, 0), vetoed=unit in VETO,
        ))
    return out


def run(change):
    return what_if(facts(), {"all": Decimal(1)}, POLICY, change, {}, OVERRIDES)


def by_unit(out):
    return {u["unit"]: u for u in out["units"]}


def test_before_is_the_published_result_of_the_example():
    units = by_unit(run({}))
    for unit, r in RESULTS["units"].items():
        b = units[unit]["before"]
        assert (b["composite"], b["final_score"], b["rank"], b["grade"]) == (r["composite"], r["final_score"], r["rank"], r["grade"]), unit
        assert units[unit]["after"] == b
    assert run({})["changed"] == []


def test_debrief_weight_0_4_moves_every_composite_but_no_rank_or_grade():
    # C = round2(0.6 × W + 0.4 × D), half up; F = C + B (SPEC §4):
    #   P01 0.6×96.50 + 0.4×97.38 = 57.900 + 38.952 = 96.852 → 96.85
    #   P02 0.6×90.50 + 0.4×91.00 = 54.300 + 36.400 = 90.700 → 90.70, + 1.50 = 92.20
    #   P03 0.6×85.50 + 0.4×87.96 = 51.300 + 35.184 = 86.484 → 86.48
    #   P04 0.6×98.00 + 0.4×95.50 = 58.800 + 38.200 = 97.000 → 97.00
    #   P05 0.6×75.00 + 0.4×75.00 = 75.00
    #   Q01 0.6×93.50 + 0.4×92.83 = 56.100 + 37.132 = 93.232 → 93.23
    #   Q02 0.6×80.00 + 0.4×82.04 = 48.000 + 32.816 = 80.816 → 80.82
    #   Q03 0.6×90.50 + 0.4×92.88 = 54.300 + 37.152 = 91.452 → 91.45
    #   Q04 0.6×67.00 + 0.4×66.21 = 40.200 + 26.484 = 66.684 → 66.68
    # Order by (F, D, W): secondary P04 97.00 > P01 96.85 > P02 92.20 > P03 86.48 > P05 75.00,
    # grassroots Q01 93.23 > Q03 91.45 > Q02 80.82 > Q04 66.68 — the published order (P04, P01,
    # P02, P03, P05; Q01, Q03, Q02, Q04). q = floor(0.5 × 5) = 2 and floor(0.5 × 4) = 2 as before;
    # the eligible (≥ 90, not downgraded or vetoed) are P01, P02 and Q01, Q03 — excellent as
    # before; P04 base excellent, downgraded to good; P03 good (80 ≤ 86.48 < 90); Q02 vetoed,
    # poor; Q04 average; P05 base average, overridden to poor. No rank and no grade changes.
    out = run({"work_weight": "0.6", "debrief_weight": "0.4"})
    expected = {"P01": "96.85", "P02": "90.70", "P03": "86.48", "P04": "97.00", "P05": "75.00",
                "Q01": "93.23", "Q02": "80.82", "Q03": "91.45", "Q04": "66.68"}
    units = by_unit(out)
    assert {u: units[u]["after"]["composite"] for u in expected} == expected
    assert units["P02"]["after"]["final_score"] == "92.20"
    assert out["changed"] == []
    assert {u: units[u]["after"]["rank"] for u in units} == {u: r["rank"] for u, r in RESULTS["units"].items()}
    assert {u: units[u]["after"]["grade"] for u in units} == {u: r["grade"] for u, r in RESULTS["units"].items()}
    assert units["P01"]["why"]["zh"] == "工作实绩权重 0.70→0.60，述职评议权重 0.30→0.40：综合得分 96.76→96.85"
    assert out["policy_changes"] == [{"field": "work_weight", "before": "0.70", "after": "0.60"},
                                     {"field": "debrief_weight", "before": "0.30", "after": "0.40"}]
    # The committee's decisions are kept as recorded, and said so.
    assert [d["kind"] for d in units["P05"]["decisions"]] == ["override"] and units["P05"]["after"]["grade"] == "poor"
    assert [d["kind"] for d in units["P04"]["decisions"]] == ["downgrade"]
    assert [d["kind"] for d in units["Q02"]["decisions"]] == ["veto"]
    assert out["written"] is False


def test_debrief_weight_0_5_swaps_p01_and_p04():
    # C = round2(0.5 × W + 0.5 × D):
    #   P01 48.250 + 48.690 = 96.94;  P04 49.000 + 47.750 = 96.75 → P01 now first, P04 second.
    #   P02 45.250 + 45.500 = 90.75 (+1.50 = 92.25); P03 42.750 + 43.980 = 86.73; P05 75.00.
    #   Q01 46.750 + 46.415 = 93.165 → 93.17; Q03 45.250 + 46.440 = 91.69; Q02 40.000 + 41.020 = 81.02;
    #   Q04 33.500 + 33.105 = 66.605 → 66.61 (half up): grassroots order unchanged.
    # Grades: P01 and P02 still the eligible two (q = 2) → excellent; P04 base excellent, downgraded, good.
    out = run({"work_weight": "0.5", "debrief_weight": "0.5"})
    units = by_unit(out)
    assert out["changed"] == ["P01", "P04"]
    assert (units["P01"]["before"]["rank"], units["P01"]["after"]["rank"]) == (2, 1)
    assert (units["P04"]["before"]["rank"], units["P04"]["after"]["rank"]) == (1, 2)
    assert units["P01"]["after"]["grade"] == "excellent" and units["P04"]["after"]["grade"] == "good"
    assert units["P01"]["why"]["zh"] == "工作实绩权重 0.70→0.50，述职评议权重 0.30→0.50：综合得分 96.76→96.94，名次 2→1"
    assert units["P04"]["why"]["zh"] == "工作实绩权重 0.70→0.50，述职评议权重 0.30→0.50：综合得分 97.25→96.75，名次 1→2"
    assert {u: units[u]["after"]["composite"] for u in ("P02", "P03", "Q01", "Q02", "Q03", "Q04")} == {
        "P02": "90.75", "P03": "86.73", "Q01": "93.17", "Q02": "81.02", "Q03": "91.69", "Q04": "66.61"}


def test_a_smaller_excellent_share_takes_q03_out_of_the_quota():
    # Weights 0.6/0.4 as above, excellent share 0.4: q = floor(0.4 × 5) = 2 (secondary, unchanged),
    # floor(0.4 × 4) = 1 (grassroots): Q01 (93.23) keeps the one place, Q03 (91.45) falls to good.
    out = run({"work_weight": "0.6", "debrief_weight": "0.4", "excellent_share": "0.4"})
    units = by_unit(out)
    assert out["changed"] == ["Q03"]
    assert (units["Q03"]["before"]["grade"], units["Q03"]["after"]["grade"]) == ("excellent", "good")
    assert units["Q03"]["why"]["zh"].endswith("综合得分 91.21→91.45，等次 优秀→良好，未进入优秀名额（q = 1）")
    assert out["cohorts"]["grassroots_branch"]["quota_after"] == 1
    assert out["cohorts"]["grassroots_branch"]["distribution_after"] == {"excellent": 1, "good": 1, "average": 1, "poor": 1}


@pytest.mark.parametrize(("change", "field"), [
    ({"debrief_weight": "0.4"}, "policy.work_weight"),  # 0.7 + 0.4 = 1.1
    ({"work_weight": "0.5", "debrief_weight": "0.4"}, "policy.work_weight"),
    ({"excellent_share": "1.5"}, "policy.excellent_share"),
    ({"thresholds": {"excellent": "70"}}, "policy.thresholds"),  # 70 > good 80 no longer
    ({"colour": "red"}, "policy.colour"),
    ({"trim_min_ballots": "many"}, "policy.trim_min_ballots"),
])
def test_a_bad_policy_is_refused_naming_the_field(change, field):
    with pytest.raises(InvalidInput) as err:
        run(change)
    assert err.value.field == field


def test_a_tie_decision_that_no_longer_applies_is_set_aside_and_said_so():
    # Four units, q = floor(0.5 × 4) = 2: A (95) first; B and C equal on (F, D, W) = (92, 92, 92)
    # tie for the one place left; the committee chose B. With the excellent share 0.75,
    # q = floor(0.75 × 4) = 3: no tie at the boundary, A, B and C all excellent — C good → excellent.
    def unit(key, w, d):
        return UnitFacts(unit=key, cohort="grassroots_branch", point_scores={"w": Decimal(w)}, point_max={"w": Decimal(100)},
                         ballots={"all": [Decimal(d)]})
    facts = [unit("A", "95", "95"), unit("B", "92", "92"), unit("C", "92", "92"), unit("D", "70", "70")]
    out = what_if(facts, {"all": Decimal(1)}, {}, {"excellent_share": "0.75"}, {"grassroots_branch": ["B"]}, {})
    units = by_unit(out)
    assert [units[u]["before"]["grade"] for u in "ABCD"] == ["excellent", "excellent", "good", "average"]
    assert out["changed"] == ["C"]
    assert units["C"]["after"]["grade"] == "excellent"
    assert "优秀比例 0.50→0.75" in units["C"]["why"]["zh"] and "进入优秀名额（q = 3，第 3 个）" in units["C"]["why"]["zh"]
    for u in "BC":
        assert [d["kind"] for d in units[u]["decisions"]] == ["tie"] and "不再适用" in units[u]["decisions"][0]["zh"]
    assert "不再适用" in out["cohorts"]["grassroots_branch"]["notes"][0]["zh"]
