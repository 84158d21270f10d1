"""Feedback drafts and the special report (issue 4 items 1 and 4), worked by hand.

A tiny scheme of 4 points (20 points in all) and five units in two cohorts. Every expected
literal is worked out in the comment beside it; nothing expected is computed by the code
under test. ``tests/test_documents.py`` builds the documents from the same data.

Scheme                        max    U1     U2     U3     U4     U5
1    政治建设                  10
 1.1 理论学习                  10
  1.1.1 党员集中学习            4     3      2      4      4      2
  1.1.2 主题党日                6     6      3      5.5    6      3
2    组织建设                  10
 2.1 组织生活                   6
  2.1.1 三会一课                6     3      6      4      6      3
 2.2 党员队伍                   4
  2.2.1 发展党员                4     N/A    1      4      2      N/A

U1–U3: secondary_committee (二级单位党委), U4–U5: grassroots_branch (基层党总支/党支部).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from domain.report import feedback_draft, percent, plain, round_fraction, special_report
from domain.scheme import parse_scheme

SC, GB = "secondary_committee", "grassroots_branch"

SCHEME = parse_scheme(
    {
        "key": "tiny-report",
        "name": "测试指标",
        "total": 20,
        "indicators": [
            {
                "code": "1", "name": "政治建设", "max": 10,
                "children": [
                    {"code": "1.1", "name": "理论学习", "max": 10, "points": [
                        {"code": "1.1.1", "name": "党员集中学习", "max": 4},
                        {"code": "1.1.2", "name": "主题党日", "max": 6},
                    ]},
                ],
            },
            {
                "code": "2", "name": "组织建设", "max": 10,
                "children": [
                    {"code": "2.1", "name": "组织生活", "max": 6, "points": [
                        {"code": "2.1.1", "name": "三会一课", "max": 6},
                    ]},
                    {"code": "2.2", "name": "党员队伍", "max": 4, "points": [
                        {"code": "2.2.1", "name": "发展党员", "max": 4},
                    ]},
                ],
            },
        ],
    }
)
SCHEMES = {SC: SCHEME, GB: SCHEME}

CYCLE = {"key": "2026-annual", "name": "2026年度党建工作考核", "year": 2026}

UNITS = [
    {"unit": "U1", "name": "第一分公司党委", "cohort": SC},
    {"unit": "U2", "name": "第二分公司党委", "cohort": SC},
    {"unit": "U3", "name": "第三分公司党委", "cohort": SC},
    {"unit": "U4", "name": "机关第一党支部", "cohort": GB},
    {"unit": "U5", "name": "机关第二党支部", "cohort": GB},
]
NAMES = {u["unit"]: u["name"] for u in UNITS}

SCORES = {
    "U1": {"1.1.1": "3", "1.1.2": "6", "2.1.1": "3", "2.2.1": None},
    "U2": {"1.1.1": "2", "1.1.2": "3", "2.1.1": "6", "2.2.1": "1"},
    "U3": {"1.1.1": "4", "1.1.2": "5.5", "2.1.1": "4", "2.2.1": "4"},
    "U4": {"1.1.1": "4", "1.1.2": "6", "2.1.1": "6", "2.2.1": "2"},
    "U5": {"1.1.1": "2", "1.1.2": "3", "2.1.1": "3", "2.2.1": None},
}
SELF_SCORES = {
    "U1": {"1.1.1": "4", "1.1.2": "6", "2.1.1": "5", "2.2.1": "4"},
    "U2": {"1.1.1": "3", "1.1.2": "5", "2.1.1": "6", "2.2.1": "3"},
    "U3": {"1.1.1": "4", "1.1.2": "5", "2.1.1": "4", "2.2.1": "4"},
    # U4 submitted no self-review
    "U5": {"1.1.1": "4", "1.1.2": "6", "2.1.1": "6", "2.2.1": "4"},
}
COMMENTS = {"U2": {"2.2.1": "发展党员程序不规范", "1.1.1": "集中学习次数不足"}}

ADJUSTMENTS = [
    {"unit": "U2", "kind": "bonus", "points": "2", "levels": None, "reason": "获评先进基层党组织", "status": "approved"},
    {"unit": "U2", "kind": "downgrade", "points": None, "levels": 1, "reason": "巡察指出重大问题", "status": "approved"},
    {"unit": "U3", "kind": "bonus", "points": "1", "levels": None, "reason": "党建品牌创建成效突出", "status": "approved"},
    {"unit": "U1", "kind": "veto", "points": None, "levels": None, "reason": "班子成员违纪", "status": "rejected"},
]

# The results, worked by hand with SPEC §4–5 (work 0.7, debrief 0.3, quota floor(0.5 n)):
#   U1 W = 100 × (3+6+3)/(4+6+6) = 75.00; D 90.00; C = 52.50 + 27.00 = 79.50; F 79.50 → average
#   U2 W = 100 × 12/20 = 60.00; D 80.00; C = 42.00 + 24.00 = 66.00; B 2 → F 68.00 → average,
#      downgraded 1 → poor
#   U3 W = 100 × 17.5/20 = 87.50; D 95.00; C = 61.25 + 28.50 = 89.75; B 1 → F 90.75 → excellent
#      (q = floor(1.5) = 1)
#   U4 W = 100 × 18/20 = 90.00; D 90.00; C = 90.00; F 90.00 → excellent (q = floor(1) = 1)
#   U5 W = 100 × 8/16 = 50.00; D 70.00; C = 35.00 + 21.00 = 56.00; F 56.00 → poor


def _r(cohort, w, d, c, b, f, rank, base, grade, levels=0):
    return {
        "cohort": cohort, "work_score": w, "debrief_score": d, "composite": c, "bonus": b,
        "final_score": f, "rank": rank, "base_grade": base, "downgrade_levels": levels,
        "vetoed": False, "overridden": False, "grade": grade,
    }


RESULTS = {
    "cycle": "2026-annual",
    "units": {
        "U1": _r(SC, "75.00", "90.00", "79.50", "0.00", "79.50", 2, "average", "average"),
        "U2": _r(SC, "60.00", "80.00", "66.00", "2.00", "68.00", 3, "average", "poor", levels=1),
        "U3": _r(SC, "87.50", "95.00", "89.75", "1.00", "90.75", 1, "excellent", "excellent"),
        "U4": _r(GB, "90.00", "90.00", "90.00", "0.00", "90.00", 1, "excellent", "excellent"),
        "U5": _r(GB, "50.00", "70.00", "56.00", "0.00", "56.00", 2, "poor", "poor"),
    },
    "distribution": {
        GB: {"excellent": 1, "good": 0, "average": 0, "poor": 1},
        SC: {"excellent": 1, "good": 0, "average": 1, "poor": 1},
    },
}

RECTIFICATION = {"open": 2, "in_progress": 2, "submitted": 1, "closed": 3}
SUGGESTIONS = "一、压实党建工作责任。\n二、规范发展党员程序。"


def draft_of(unit: str, **kw):
    return feedback_draft(
        "2026-annual", unit, NAMES[unit], RESULTS["units"][unit], SCHEME, SCORES[unit],
        COMMENTS.get(unit, {}), [a for a in ADJUSTMENTS if a["unit"] == unit],
        cycle_name="2026年度党建工作考核", **kw,
    )


def report(**kw):
    return special_report(
        CYCLE, RESULTS, UNITS, SCHEMES, SCORES, SELF_SCORES, ADJUSTMENTS, RECTIFICATION, SUGGESTIONS, **kw
    )


# ---------------------------------------------------------------- helpers


def test_exact_rounding_helpers():
    assert percent(Fraction(11, 12)) == "91.7%"  # 91.666… → 91.7
    assert percent(Fraction(1, 8)) == "12.5%"
    assert percent(Fraction(1, 2000)) == "0.1%"  # 0.05 → half up → 0.1
    assert round_fraction(Fraction(-1, 200), 2) == Decimal("-0.01")  # -0.005, half away from zero
    assert plain(Decimal("2.50")) == "2.5" and plain(Decimal("6.00")) == "6" and plain(Decimal("0.00")) == "0"


# ---------------------------------------------------------------- feedback drafts


def test_feedback_problems_lowest_share_first_ties_by_code_full_marks_left_out():
    d = draft_of("U2")
    # U2: 2.2.1 1/4 = 25.0%; 1.1.1 2/4 = 50.0%; 1.1.2 3/6 = 50.0% (tie: by code); 2.1.1 6/6 full → no problem
    assert [(p["code"], p["score"], p["max"], p["share"]) for p in d["problems"]] == [
        ("2.2.1", "1", "4", "25.0%"),
        ("1.1.1", "2", "4", "50.0%"),
        ("1.1.2", "3", "6", "50.0%"),
    ]
    first = d["problems"][0]
    assert first["name"] == "发展党员" and first["indicator"] == "2.2" and first["indicator_name"] == "党员队伍"
    assert first["comment"] == "发展党员程序不规范"
    assert d["problems"][1]["comment"] == "集中学习次数不足"
    assert d["problems"][2]["comment"] == ""
    assert [p["code"] for p in draft_of("U2", n_problems=2)["problems"]] == ["2.2.1", "1.1.1"]


def test_feedback_problems_are_the_points_below_the_policy_share_of_their_max():
    # U3: 1.1.1 4/4, 1.1.2 5.5/6 = 91.7%, 2.1.1 4/6 = 66.7%, 2.2.1 4/4. The five lowest would
    # include 1.1.2 at 91.7%; below the 80% share only 2.1.1 is a problem.
    d = draft_of("U3")
    assert [(p["code"], p["required"]) for p in d["problems"]] == [("2.1.1", "80%")]
    assert d["rectification_share"] == "80%"
    # 66.7% is not below a share of 0.66; exactly at the share is no problem either (4/4 vs 1)
    assert draft_of("U3", rectification_share=Decimal("0.66"))["problems"] == []
    assert [p["code"] for p in draft_of("U3", rectification_share=Decimal("1"))["problems"]] == ["2.1.1", "1.1.2"]
    # a unit with every point at or above the share: the letter says so with the share
    none = draft_of("U4", rectification_share=Decimal("0"))
    assert none["problems"] == [] and "未发现得分率低于0%的评价要点" in none["text"]


def test_a_problem_is_worded_as_what_was_found():
    from domain.report import problem_finding

    d = draft_of("U2")
    assert problem_finding(d["problems"][0]) == "「发展党员」得分 1.00/4（25.0%），低于 80% 的要求"
    assert problem_finding({"name": "x", "score": "6", "max": "10", "required": "80%"}) == "「x」得分 6.00/10（60.0%），低于 80% 的要求"


def test_feedback_not_applicable_points_are_no_problem_and_no_strength():
    d = draft_of("U1")
    # U1: 2.1.1 3/6 = 50.0%, 1.1.1 3/4 = 75.0%; 1.1.2 full; 2.2.1 N/A
    assert [(p["code"], p["share"]) for p in d["problems"]] == [("2.1.1", "50.0%"), ("1.1.1", "75.0%")]
    # strengths: 1.1 (3+6)/(4+6) = 90.0%, 2.1 3/6 = 50.0%; 2.2 has no applicable point
    assert [(s["code"], s["name"], s["score"], s["max"], s["share"]) for s in d["strengths"]] == [
        ("1.1", "理论学习", "9", "10", "90.0%"),
        ("2.1", "组织生活", "3", "6", "50.0%"),
    ]


def test_feedback_shares_round_half_up_in_decimal():
    d = draft_of("U3")
    # U3: 2.1.1 4/6 = 66.66…% → 66.7%; 1.1.2 5.5/6 = 91.66…% → 91.7%; 1.1.1 and 2.2.1 full
    # With a rectification share of 0.95 both are problems; by default (0.80) 1.1.2 is none.
    loose = draft_of("U3", rectification_share=Decimal("0.95"))
    assert [(p["code"], p["score"], p["share"]) for p in loose["problems"]] == [("2.1.1", "4", "66.7%"), ("1.1.2", "5.5", "91.7%")]
    assert [(p["code"], p["share"]) for p in d["problems"]] == [("2.1.1", "66.7%")]
    # strengths: 2.2 4/4 = 100.0%, 1.1 9.5/10 = 95.0%, 2.1 4/6 = 66.7%
    assert [(s["code"], s["share"]) for s in d["strengths"]] == [("2.2", "100.0%"), ("1.1", "95.0%"), ("2.1", "66.7%")]
    assert [s["code"] for s in draft_of("U3", n_strengths=1)["strengths"]] == ["2.2"]


def test_feedback_strengths_ties_by_code():
    # U5: 1.1 (2+3)/10 = 50.0%, 2.1 3/6 = 50.0% → tie, 1.1 first; 2.2 N/A
    assert [(s["code"], s["share"]) for s in draft_of("U5")["strengths"]] == [("1.1", "50.0%"), ("2.1", "50.0%")]


def test_feedback_strengths_above_the_units_own_average_are_praised():
    # U2 over all applicable points: 12/20 = 60%; 2.1 100% ≥ 60%, 1.1 50% and 2.2 25% below it
    d = draft_of("U2")
    assert [(s["code"], s["above_average"]) for s in d["strengths"]] == [("2.1", True), ("1.1", False), ("2.2", False)]
    praise = d["text"].split("二、主要优点")[1].split("三、存在问题")[0]
    assert "组织生活（2.1）" in praise and "理论学习" not in praise and "党员队伍" not in praise
    # U5: 8/16 = 50%; both 50.0% strengths equal the average and are praised
    assert [s["above_average"] for s in draft_of("U5")["strengths"]] == [True, True]


def test_feedback_grade_scores_and_adjustments():
    d = draft_of("U2")
    assert d["cycle"] == "2026-annual" and d["cycle_name"] == "2026年度党建工作考核"
    assert d["unit"] == "U2" and d["name"] == "第二分公司党委" and d["cohort_name"] == "二级单位党委"
    assert d["grade"]["code"] == "poor" and d["grade"]["name"] == "较差"
    assert d["grade"]["base_code"] == "average" and d["grade"]["base_name"] == "一般"
    assert d["grade"]["downgrade_levels"] == 1
    assert d["scores"] == {
        "work_score": "60.00", "debrief_score": "80.00", "composite": "66.00",
        "bonus": "2.00", "final_score": "68.00", "rank": 3,
    }
    assert [(a["kind"], a["kind_name"], a["points"], a["levels"], a["status"], a["status_name"]) for a in d["adjustments"]] == [
        ("bonus", "加分项", "2", None, "approved", "已批准"),
        ("downgrade", "降档项", None, 1, "approved", "已批准"),
    ]
    # a rejected adjustment is listed with its status; a pending one, or another unit's, is not
    u1 = feedback_draft(
        "2026-annual", "U1", NAMES["U1"], RESULTS["units"]["U1"], SCHEME, SCORES["U1"], {},
        ADJUSTMENTS + [{"unit": "U1", "kind": "bonus", "points": "1", "levels": None, "reason": "x", "status": "pending"}],
    )
    assert [(a["kind"], a["status"], a["status_name"]) for a in u1["adjustments"]] == [("veto", "rejected", "未批准")]
    assert u1["cycle_name"] == "2026-annual"  # no cycle name given: the key


def test_feedback_default_text():
    text = draft_of("U2")["text"]
    assert text.startswith("第二分公司党委：")
    for part in ("一、考核等次和得分", "二、主要优点", "三、存在问题", "四、整改要求"):
        assert part in text
    assert "考核等次为“较差”" in text
    assert "最终得分68.00分" in text and "排名第3位" in text
    assert "因获评先进基层党组织，加2分" in text and "考核等次降1档" in text
    assert "（一）发展党员（2.2.1，党员队伍）：得分1分（满分4分），得分率25.0%，低于80%的要求。评价意见：发展党员程序不规范。" in text
    assert "90日内完成整改" in text
    # the rejected veto of U1 is not told as a decision in its letter
    assert "一票否决" not in draft_of("U1")["text"]
    assert "60日内" in draft_of("U1", rectification_days=60)["text"]


# ---------------------------------------------------------------- special report


def test_report_distribution_by_cohort():
    r = report()
    assert r["cycle"] == CYCLE
    assert [c["cohort"] for c in r["cohorts"]] == [SC, GB]  # the order of ORG_TYPES
    sc, gb = r["distribution"]
    assert sc["cohort_name"] == "二级单位党委" and sc["units"] == 3
    assert sc["counts"] == {"excellent": 1, "good": 0, "average": 1, "poor": 1}
    assert sc["shares"] == {"excellent": "33.3%", "good": "0.0%", "average": "33.3%", "poor": "33.3%"}  # 1/3
    assert gb["units"] == 2 and gb["counts"] == {"excellent": 1, "good": 0, "average": 0, "poor": 1}
    assert gb["shares"]["excellent"] == "50.0%"
    t = r["distribution_total"]
    # 5 units: excellent 1+1 = 2 (40.0%), average 1 (20.0%), poor 1+1 = 2 (40.0%)
    assert t["units"] == 5 and t["counts"] == {"excellent": 2, "good": 0, "average": 1, "poor": 2}
    assert t["shares"] == {"excellent": "40.0%", "good": "0.0%", "average": "20.0%", "poor": "40.0%"}
    assert t["undecided"] == 0


def test_report_statistics_mean_median():
    sc, gb = report()["statistics"]
    # F: 68.00, 79.50, 90.75 → mean 238.25/3 = 79.4166… → 79.42; median 79.50
    assert sc["final_score"] == {"count": 3, "mean": "79.42", "median": "79.50", "min": "68.00", "max": "90.75"}
    # W: 60.00, 75.00, 87.50 → mean 222.50/3 = 74.1666… → 74.17; median 75.00
    assert sc["work_score"] == {"count": 3, "mean": "74.17", "median": "75.00", "min": "60.00", "max": "87.50"}
    # D: 80, 90, 95 → mean 265/3 = 88.333… → 88.33; median 90.00
    assert sc["debrief_score"] == {"count": 3, "mean": "88.33", "median": "90.00", "min": "80.00", "max": "95.00"}
    # an even count: the median is the mean of the middle two. F: 56.00, 90.00 → 73.00
    assert gb["final_score"] == {"count": 2, "mean": "73.00", "median": "73.00", "min": "56.00", "max": "90.00"}
    assert gb["work_score"]["median"] == "70.00"  # (50 + 90)/2
    assert gb["debrief_score"]["mean"] == "80.00"  # (70 + 90)/2


def test_report_statistics_even_median_differs_from_mean():
    results = {
        "units": {u: {**RESULTS["units"][u]} for u in ("U1", "U2", "U3")},
        "distribution": {SC: RESULTS["distribution"][SC]},
    }
    results["units"]["U4"] = _r(SC, "10.00", "10.00", "10.00", "0.00", "10.00", 4, "poor", "poor")
    units = UNITS[:3] + [{"unit": "U4", "name": "x", "cohort": SC}]
    r = special_report(CYCLE, results, units, SCHEMES, {}, {}, [], None)
    # F: 10.00, 68.00, 79.50, 90.75 → median (68.00 + 79.50)/2 = 73.75; mean 248.25/4 = 62.0625 → 62.06
    assert r["statistics"][0]["final_score"] == {"count": 4, "mean": "62.06", "median": "73.75", "min": "10.00", "max": "90.75"}
    assert r["rectification"] is None


def test_report_common_problems_per_cohort():
    sc, gb = report(n_common=3)["common_problems"]
    # secondary (U1, U2, U3), average share where applicable:
    #   2.2.1: U2 1/4, U3 4/4 (U1 N/A)  → (0.25 + 1)/2 = 0.625 → 62.5%
    #   2.1.1: 3/6, 6/6, 4/6           → (0.5 + 1 + 0.6667)/3 = 0.7222 → 72.2%
    #   1.1.1: 3/4, 2/4, 4/4           → (0.75 + 0.5 + 1)/3 = 0.75 → 75.0%
    #   1.1.2: 6/6, 3/6, 5.5/6         → (1 + 0.5 + 0.9167)/3 = 0.8056 → 80.6% (fourth: cut by n_common=3)
    assert [(p["code"], p["average_share"], p["applicable"], p["below_full"]) for p in sc["points"]] == [
        ("2.2.1", "62.5%", 2, 1),
        ("2.1.1", "72.2%", 3, 2),
        ("1.1.1", "75.0%", 3, 2),
    ]
    assert sc["points"][0]["name"] == "发展党员" and sc["points"][0]["indicator_name"] == "党员队伍"
    assert sc["points"][0]["max"] == "4"
    # grassroots (U4, U5): 2.2.1 2/4 = 50.0% (U5 N/A); 1.1.1 (1 + 0.5)/2, 1.1.2 (1 + 0.5)/2,
    # 2.1.1 (1 + 0.5)/2 all 75.0% → ties by code
    assert [(p["code"], p["average_share"]) for p in gb["points"]] == [
        ("2.2.1", "50.0%"), ("1.1.1", "75.0%"), ("1.1.2", "75.0%"),
    ]
    full = report()["common_problems"][0]["points"]
    assert [(p["code"], p["average_share"]) for p in full][-1] == ("1.1.2", "80.6%")


def test_report_gaps_between_self_review_and_evaluators():
    r = report(n_gaps=3)
    # over points both scored (self − evaluators):
    #   U1: 1.1.1, 1.1.2, 2.1.1 (2.2.1 N/A) → (4+6+5) − (3+6+3) = 15 − 12 = 3.00
    #   U2: all four → (3+5+6+3) − (2+3+6+1) = 17 − 12 = 5.00
    #   U3: all four → (4+5+4+4) − (4+5.5+4+4) = 17 − 17.5 = −0.50
    #   U5: 1.1.1, 1.1.2, 2.1.1 → (4+6+6) − (2+3+3) = 16 − 8 = 8.00
    assert [(g["unit"], g["points"], g["self_total"], g["evaluator_total"], g["gap"]) for g in r["gaps"]] == [
        ("U5", 3, "16.00", "8.00", "8.00"),
        ("U2", 4, "17.00", "12.00", "5.00"),
        ("U1", 3, "15.00", "12.00", "3.00"),
    ]
    assert r["gaps"][0]["name"] == "机关第二党支部" and r["gaps"][0]["cohort_name"] == "基层党总支/党支部"
    assert [g["gap"] for g in report()["gaps"]] == ["8.00", "5.00", "3.00", "-0.50"]
    assert [(m["unit"], m["status"]) for m in r["no_self_review"]] == [("U4", "未提交自评")]


def test_report_adjustments_rectification_suggestions():
    r = report()
    assert [(a["unit"], a["name"], a["kind_name"], a["status_name"]) for a in r["adjustments"]] == [
        ("U1", "第一分公司党委", "一票否决", "未批准"),
        ("U2", "第二分公司党委", "加分项", "已批准"),
        ("U2", "第二分公司党委", "降档项", "已批准"),
        ("U3", "第三分公司党委", "加分项", "已批准"),
    ]
    assert r["adjustment_summary"] == {
        "veto": {"approved": 0, "rejected": 1, "pending": 0},
        "bonus": {"approved": 2, "rejected": 0, "pending": 0},
        "downgrade": {"approved": 1, "rejected": 0, "pending": 0},
    }
    rect = r["rectification"]
    # 2 + 2 + 1 + 3 = 8 items, 3 closed → 37.5%
    assert rect["counts"] == {"open": 2, "in_progress": 2, "submitted": 1, "closed": 3}
    assert rect["total"] == 8 and rect["closed"] == 3 and rect["closed_share"] == "37.5%"
    assert rect["names"]["closed"] == "已验收销号"
    assert r["suggestions"] == SUGGESTIONS
