"""Use of results (issue 4 item 6): pay coefficients, the recognition bar, the HR export,
business-grade import, the 党建/业绩 cross-check and the trend — every expected value written
by hand, with the reasoning beside it. All numbers are ``Decimal``; none is a float.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.use_of_results import (
    BUSINESS_GRADES,
    ResultsUsePolicy,
    apply,
    cross_check,
    hr_export_json,
    parse_business_grades,
    parse_results_use_policy,
    trend,
)

D = Decimal


def refused(fn, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as e:
        fn(*args, **kwargs)
    return e.value


def unit(cohort, grade, final, rank):
    """One unit of a results document as grading.results_document writes it (only the keys
    this module reads matter; the others are there to keep the shape honest)."""
    return {
        "cohort": cohort,
        "work_score": final,
        "debrief_score": final,
        "composite": final,
        "bonus": "0.00",
        "final_score": final,
        "rank": rank,
        "base_grade": grade,
        "downgrade_levels": 0,
        "vetoed": False,
        "overridden": False,
        "grade": grade,
    }


# Four units, one per grade, plus one still ungraded (incomplete).
RESULTS = {
    "cycle": "2026-annual",
    "units": {
        "U04": unit("secondary_committee", "poor", "55.00", 4),
        "U01": unit("secondary_committee", "excellent", "93.25", 1),
        "U03": unit("secondary_committee", "average", "70.10", 3),
        "U02": unit("secondary_committee", "good", "85.00", 2),
        "U05": {**unit("grassroots_branch", None, None, None), "base_grade": None},
    },
    "distribution": {},
}
NAMES = {"U01": "第一分公司党委", "U02": "第二分公司党委", "U03": "第三分公司党委", "U04": "第四分公司党委", "U05": "机关第一党支部"}


# ================================================================ policy: defaults


def test_defaults():
    p = ResultsUsePolicy()
    assert p.pay == {"excellent": D("1.05"), "good": D("1.00"), "average": D("0.95"), "poor": D("0.90")}
    assert all(isinstance(v, Decimal) for v in p.pay.values())
    assert p.recognition_min_grade == "good"
    # absent, empty and all-default inputs read as the default policy
    assert parse_results_use_policy(None) == p
    assert parse_results_use_policy({}) == p
    assert parse_results_use_policy({"pay": {}}) == p


def test_to_dict_is_strings_and_round_trips():
    p = ResultsUsePolicy()
    d = p.to_dict()
    assert d == {
        "pay": {"excellent": "1.05", "good": "1.00", "average": "0.95", "poor": "0.90"},
        "recognition_min_grade": "good",
    }
    assert json.loads(json.dumps(d)) == d
    assert parse_results_use_policy(d) == p


def test_partial_pay_keeps_defaults_for_the_rest():
    # only excellent given (1.1); good/average/poor keep 1.00/0.95/0.90; 1.1 ≥ 1.00 keeps order
    p = parse_results_use_policy({"pay": {"excellent": "1.1"}, "recognition_min_grade": "average"})
    assert p.pay == {"excellent": D("1.10"), "good": D("1.00"), "average": D("0.95"), "poor": D("0.90")}
    assert p.recognition_min_grade == "average"


def test_coefficients_print_the_same_however_written():
    # "1" → 1.00 ; number 1 → 1.00 ; "0.9500" → 0.95 ; "0.8125" keeps its 4 places
    p = parse_results_use_policy({"pay": {"excellent": "1", "good": 1, "average": "0.9500", "poor": "0.8125"}})
    assert p.to_dict()["pay"] == {"excellent": "1.00", "good": "1.00", "average": "0.95", "poor": "0.8125"}


def test_bounds_are_inclusive_at_2_and_equal_neighbours_allowed():
    # 2 is the largest allowed; equal coefficients (1.00 = 1.00) do not "rise"
    p = parse_results_use_policy({"pay": {"excellent": "2", "good": "1.00", "average": "1.00", "poor": "0.0001"}})
    assert p.pay["excellent"] == D("2.00")
    assert p.pay["poor"] == D("0.0001")


# ================================================================ policy: refused


@pytest.mark.parametrize(
    "data, code, field",
    [
        ([], "invalid_results_use", "results_use"),
        ({"bonus": "1"}, "unknown_field", "results_use.bonus"),
        ({"pay": "1.05"}, "invalid_results_use", "results_use.pay"),
        ({"pay": {"outstanding": "1.2"}}, "unknown_grade", "results_use.pay.outstanding"),
        ({"pay": {"优秀": "1.05"}}, "unknown_grade", "results_use.pay.优秀"),
        # 0 is not > 0
        ({"pay": {"poor": "0"}}, "pay_out_of_range", "results_use.pay.poor"),
        ({"pay": {"poor": "-0.5"}}, "pay_out_of_range", "results_use.pay.poor"),
        # 2.0001 > 2
        ({"pay": {"excellent": "2.0001"}}, "pay_out_of_range", "results_use.pay.excellent"),
        # 1.05001 has 5 decimal places
        ({"pay": {"excellent": "1.05001"}}, "pay_too_precise", "results_use.pay.excellent"),
        ({"pay": {"good": "abc"}}, "not_a_number", "results_use.pay.good"),
        ({"pay": {"good": None}}, "not_a_number", "results_use.pay.good"),
        # good 1.06 > excellent default 1.05: the grade that rose is named
        ({"pay": {"good": "1.06"}}, "pay_not_monotonic", "results_use.pay.good"),
        # poor 0.96 > average default 0.95
        ({"pay": {"poor": "0.96"}}, "pay_not_monotonic", "results_use.pay.poor"),
        # average 0.90 < poor 0.91
        ({"pay": {"average": "0.90", "poor": "0.91"}}, "pay_not_monotonic", "results_use.pay.poor"),
        ({"recognition_min_grade": "outstanding"}, "unknown_grade", "results_use.recognition_min_grade"),
        ({"recognition_min_grade": None}, "unknown_grade", "results_use.recognition_min_grade"),
    ],
)
def test_policy_refused(data, code, field):
    e = refused(parse_results_use_policy, data)
    assert (e.code, e.field) == (code, field)
    assert e.message  # Chinese first, then English


def test_policy_field_prefix_is_the_callers():
    e = refused(parse_results_use_policy, {"pay": {"poor": "3"}}, field="cycle.results_use")
    assert (e.code, e.field) == ("pay_out_of_range", "cycle.results_use.pay.poor")


def test_messages_are_chinese_first():
    e = refused(parse_results_use_policy, {"pay": {"good": "1.06"}})
    # the Chinese (naming both grades and values) and the English, each whole; message joins them
    assert e.zh == "良好等次的薪酬系数（1.06）不能高于优秀等次（1.05）"
    assert e.en == "pay coefficients must not rise as the grade falls"
    assert e.message == f"{e.zh} / {e.en}"


# ================================================================ apply()


def test_apply_default_policy():
    rows = apply(RESULTS, NAMES, ResultsUsePolicy())
    # ordered by unit key U01…U05 whatever the document's order
    assert [r["unit"] for r in rows] == ["U01", "U02", "U03", "U04", "U05"]
    by = {r["unit"]: r for r in rows}
    # excellent → 1.05, good → 1.00; both at or above "good": eligible, no note
    assert by["U01"] == {
        "unit": "U01",
        "name": "第一分公司党委",
        "cohort": "secondary_committee",
        "grade": "excellent",
        "final_score": "93.25",
        "pay_coefficient": "1.05",
        "recognition_eligible": True,
        "recognition_note": None,
    }
    assert (by["U02"]["pay_coefficient"], by["U02"]["recognition_eligible"], by["U02"]["recognition_note"]) == (
        "1.00",
        True,
        None,
    )
    # average → 0.95, below good: barred; poor → 0.90, barred
    assert by["U03"]["pay_coefficient"] == "0.95"
    assert by["U03"]["recognition_eligible"] is False
    assert by["U03"]["recognition_note"] == "党建工作考核等次为“一般”，低于“良好”，当年不得参加评优评先"
    assert by["U04"]["pay_coefficient"] == "0.90"
    assert by["U04"]["recognition_eligible"] is False
    assert by["U04"]["recognition_note"] == "党建工作考核等次为“较差”，低于“良好”，当年不得参加评优评先"
    # ungraded: no coefficient, not eligible until graded
    assert by["U05"]["grade"] is None
    assert by["U05"]["final_score"] is None
    assert by["U05"]["pay_coefficient"] is None
    assert by["U05"]["recognition_eligible"] is False
    assert by["U05"]["recognition_note"] == "尚未评定党建工作考核等次，暂不能参加评优评先"


def test_apply_custom_policy_moves_the_bar():
    # bar at "average": average (U03) becomes eligible, poor (U04) still barred
    p = parse_results_use_policy(
        {"pay": {"excellent": "1.2", "good": "1.05", "average": "1", "poor": "0.8"}, "recognition_min_grade": "average"}
    )
    by = {r["unit"]: r for r in apply(RESULTS, NAMES, p)}
    assert {u: by[u]["pay_coefficient"] for u in ("U01", "U02", "U03", "U04")} == {
        "U01": "1.20",
        "U02": "1.05",
        "U03": "1.00",
        "U04": "0.80",
    }
    assert {u: by[u]["recognition_eligible"] for u in ("U01", "U02", "U03", "U04")} == {
        "U01": True,
        "U02": True,
        "U03": True,
        "U04": False,
    }
    assert by["U04"]["recognition_note"] == "党建工作考核等次为“较差”，低于“一般”，当年不得参加评优评先"
    # bar at "excellent": only U01
    p2 = parse_results_use_policy({"recognition_min_grade": "excellent"})
    assert [r["unit"] for r in apply(RESULTS, NAMES, p2) if r["recognition_eligible"]] == ["U01"]


def test_apply_name_missing_is_none_and_bad_document_refused():
    rows = apply(RESULTS, {}, ResultsUsePolicy())
    assert rows[0]["name"] is None
    e = refused(apply, {"cycle": "x"}, NAMES, ResultsUsePolicy())
    assert (e.code, e.field) == ("invalid_results", "results")


# ================================================================ HR export


def test_hr_export_shape():
    rows = apply(RESULTS, NAMES, ResultsUsePolicy())
    doc = hr_export_json("2026-annual", 2026, list(reversed(rows)))
    assert list(doc) == ["format", "cycle", "year", "units"]
    assert doc["format"] == "kaohe-hr-export/1"
    assert doc["cycle"] == "2026-annual"
    assert doc["year"] == 2026
    # units ordered by key even when handed in reverse
    assert [u["unit"] for u in doc["units"]] == ["U01", "U02", "U03", "U04", "U05"]
    assert doc["units"][0] == {
        "unit": "U01",
        "name": "第一分公司党委",
        "cohort": "secondary_committee",
        "grade": "excellent",
        "grade_name": "优秀",
        "final_score": "93.25",
        "pay_coefficient": "1.05",
        "recognition_eligible": True,
        "recognition_note": None,
    }
    assert doc["units"][3]["grade_name"] == "较差"
    assert doc["units"][4]["grade_name"] is None
    # plain JSON (no Decimal, no float inside), stable across a round trip
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    assert json.loads(text) == doc
    assert '"pay_coefficient": "0.90"' in text  # a string, trailing zero kept


def test_hr_export_refuses_bad_cycle_or_year():
    assert refused(hr_export_json, "", 2026, []).field == "cycle"
    assert refused(hr_export_json, "k", "2026", []).field == "year"
    assert refused(hr_export_json, "k", True, []).field == "year"


# ================================================================ business grades


KNOWN = {"U01", "U02", "U03", "U04", "U05"}


def test_business_grade_mapping_is_as_documented():
    assert BUSINESS_GRADES == {
        "A": 1, "优秀": 1, "excellent": 1,
        "B": 2, "良好": 2, "good": 2,
        "C": 3, "一般": 3, "称职": 3, "average": 3,
        "D": 4, "较差": 4, "不称职": 4, "poor": 4,
    }  # fmt: skip


def test_business_grades_from_rows():
    rows = [
        {"unit": "U01", "grade": "A"},
        {"unit": "U02", "grade": "良好"},
        {"unit": "U03", "grade": "称职"},  # 称职 → 3
        {"unit": "U04", "grade": " poor "},  # spaces ignored
    ]
    assert parse_business_grades(rows, KNOWN) == {"U01": 1, "U02": 2, "U03": 3, "U04": 4}


def test_business_grades_case_and_full_width():
    rows = [
        {"unit": "U01", "grade": "a"},  # lower-case letter
        {"unit": "U02", "grade": "Ｂ"},  # full-width B
        {"unit": "U03", "grade": "Average"},
        {"unit": "U04", "grade": "不称职"},
    ]
    assert parse_business_grades(rows, KNOWN) == {"U01": 1, "U02": 2, "U03": 3, "U04": 4}


def test_business_grades_from_csv_text_with_bom_extra_column_and_blank_line():
    text = "\ufeffunit,name,grade\r\nU01,第一分公司,优秀\r\n\r\nU02,第二分公司,B\r\nU05,机关第一党支部,一般\r\n"
    assert parse_business_grades(text, KNOWN) == {"U01": 1, "U02": 2, "U05": 3}


def test_business_grades_from_csv_with_chinese_header_and_bytes():
    text = "单位,等次\nU03,较差\nU04,D\n"
    assert parse_business_grades(text, KNOWN) == {"U03": 4, "U04": 4}
    assert parse_business_grades(text.encode("utf-8"), KNOWN) == {"U03": 4, "U04": 4}
    # Excel in China saves CSV as GB18030/GBK
    assert parse_business_grades(text.encode("gb18030"), KNOWN) == {"U03": 4, "U04": 4}


def test_business_grades_unknown_unit_names_the_row():
    rows = [
        {"unit": "U01", "grade": "A"},
        {"unit": "U02", "grade": "B"},
        {"unit": "U03", "grade": "C"},
        {"unit": "U99", "grade": "D"},  # row index 3
    ]
    e = refused(parse_business_grades, rows, KNOWN)
    assert (e.code, e.field) == ("unknown_unit", "business_grades[3].unit")
    assert "U99" in e.message


def test_business_grades_unknown_grade():
    e = refused(parse_business_grades, [{"unit": "U01", "grade": "A"}, {"unit": "U02", "grade": "基本称职"}], KNOWN)
    assert (e.code, e.field) == ("unknown_business_grade", "business_grades[1].grade")
    assert "基本称职" in e.message
    # a level number is not a grade word either
    e = refused(parse_business_grades, [{"unit": "U01", "grade": 1}], KNOWN)
    assert (e.code, e.field) == ("unknown_business_grade", "business_grades[0].grade")
    e = refused(parse_business_grades, [{"unit": "U01", "grade": "E"}], KNOWN)
    assert (e.code, e.field) == ("unknown_business_grade", "business_grades[0].grade")


def test_business_grades_duplicate():
    rows = [{"unit": "U01", "grade": "A"}, {"unit": "U02", "grade": "B"}, {"unit": "U01", "grade": "A"}]
    e = refused(parse_business_grades, rows, KNOWN)
    # refused even though the grade repeats the first one
    assert (e.code, e.field) == ("duplicate_unit", "business_grades[2].unit")
    assert "business_grades[0]" in e.message


def test_business_grades_csv_errors_name_row_and_line():
    # header is line 1, blank line 3 is skipped: U99 is data row [1] on line 4
    text = "unit,grade\nU01,A\n\nU99,B\n"
    e = refused(parse_business_grades, text, KNOWN)
    assert (e.code, e.field) == ("unknown_unit", "business_grades[1].unit")
    assert "第 4 行" in e.message
    e = refused(parse_business_grades, "unit,grade\nU01,A\nU01,B\n", KNOWN)
    assert (e.code, e.field) == ("duplicate_unit", "business_grades[1].unit")
    e = refused(parse_business_grades, "unit,grade\nU01,优\n", KNOWN)
    assert (e.code, e.field) == ("unknown_business_grade", "business_grades[0].grade")
    e = refused(parse_business_grades, "unit,grade\nU01,\n", KNOWN)
    assert (e.code, e.field) == ("missing_value", "business_grades[0].grade")
    e = refused(parse_business_grades, "unit,level\nU01,A\n", KNOWN)
    assert (e.code, e.field) == ("invalid_csv_header", "business_grades")


@pytest.mark.parametrize("empty", [[], "", "unit,grade\n", "\n\n", b""])
def test_business_grades_empty(empty):
    e = refused(parse_business_grades, empty, KNOWN)
    assert (e.code, e.field) == ("empty_business_grades", "business_grades")


def test_business_grades_other_refusals():
    assert refused(parse_business_grades, ["U01,A"], KNOWN).field == "business_grades[0]"
    e = refused(parse_business_grades, [{"grade": "A"}], KNOWN)
    assert (e.code, e.field) == ("missing_value", "business_grades[0].unit")
    e = refused(parse_business_grades, [{"unit": "U01", "grade": "Z"}], KNOWN, field="import")
    assert e.field == "import[0].grade"
    assert refused(parse_business_grades, 42, KNOWN).code == "invalid_business_grades"


# ================================================================ cross-check


def test_cross_check_flags_at_two_levels_not_at_one():
    # party levels: U01 excellent 1, U02 good 2, U03 average 3, U04 poor 4, U05 none
    business = {
        "U01": 3,  # 1 − 3 = −2 → flagged (party higher than business)
        "U02": 3,  # 2 − 3 = −1 → not flagged
        "U03": 3,  # 3 − 3 = 0 → not flagged
        # U04 has no business grade → missing
        "U05": 1,  # no party grade yet → missing_party_grade
    }
    rows = cross_check(RESULTS, business, NAMES)
    assert [r["unit"] for r in rows] == ["U01", "U02", "U03", "U04", "U05"]
    by = {r["unit"]: r for r in rows}
    assert by["U01"] == {
        "unit": "U01",
        "name": "第一分公司党委",
        "cohort": "secondary_committee",
        "party_grade": "excellent",
        "party_level": 1,
        "business_level": 3,
        "difference": -2,
        "flagged": True,
        "status": "compared",
        "note": "党建考核“优秀”比业绩考核“一般(C)”高 2 档：党建评价高而业绩弱，需核实党建工作成效是否转化为发展成效",
    }
    assert (by["U02"]["difference"], by["U02"]["flagged"]) == (-1, False)
    assert by["U02"]["note"] == "党建考核“良好”与业绩考核“一般(C)”相差一档，基本印证"
    assert (by["U03"]["difference"], by["U03"]["flagged"]) == (0, False)
    assert by["U03"]["note"] == "党建考核“一般”与业绩考核“一般(C)”一致"
    assert (by["U04"]["status"], by["U04"]["business_level"], by["U04"]["difference"], by["U04"]["flagged"]) == (
        "missing_business_grade",
        None,
        None,
        False,
    )
    assert by["U04"]["note"] == "未导入经营业绩考核等次，无法印证"
    assert (by["U05"]["status"], by["U05"]["flagged"]) == ("missing_party_grade", False)


def test_cross_check_positive_difference_and_three_levels():
    # U04 poor 4 vs business A 1: 4 − 1 = 3 → flagged, party lower
    # U03 average 3 vs business A 1: 3 − 1 = 2 → flagged (exactly the threshold)
    # U02 good 2 vs business A 1: 2 − 1 = 1 → not flagged
    by = {r["unit"]: r for r in cross_check(RESULTS, {"U02": 1, "U03": 1, "U04": 1}, NAMES)}
    assert (by["U04"]["difference"], by["U04"]["flagged"]) == (3, True)
    assert (by["U03"]["difference"], by["U03"]["flagged"]) == (2, True)
    assert (by["U02"]["difference"], by["U02"]["flagged"]) == (1, False)
    assert by["U03"]["note"] == (
        "党建考核“一般”比业绩考核“优秀(A)”低 2 档：业绩好而党建弱，需关注党建工作与生产经营是否“两张皮”"
    )


def test_cross_check_end_to_end_from_csv():
    business = parse_business_grades("unit,grade\nU01,D\nU02,良好\n", KNOWN)
    flagged = [r["unit"] for r in cross_check(RESULTS, business, NAMES) if r["flagged"]]
    # U01: 1 − 4 = −3 → flagged ; U02: 2 − 2 = 0
    assert flagged == ["U01"]


def test_cross_check_refuses_unit_not_in_results():
    e = refused(cross_check, RESULTS, {"U99": 1}, NAMES)
    assert (e.code, e.field) == ("unknown_unit", "business_grades")


# ================================================================ trend


def doc(units: dict) -> dict:
    return {"cycle": "x", "units": units, "distribution": {}}


def test_trend_ordered_by_year_then_cycle_key():
    history = [
        ("2026-annual", 2026, doc({"U01": unit("c", "excellent", "93.25", 1)})),
        ("2024-annual", 2024, doc({"U01": unit("c", "average", "72.00", 5)})),
        ("2025-midyear", 2025, doc({"U01": unit("c", "good", "84.00", 3)})),
        ("2025-annual", 2025, doc({"U01": unit("c", "good", "86.50", 2)})),
        # U01 not in this cycle: left out
        ("2023-annual", 2023, doc({"U02": unit("c", "poor", "50.00", 1)})),
    ]
    # 2024 ; then 2025 with "2025-annual" < "2025-midyear" ; then 2026
    assert trend(history, "U01") == [
        {"cycle": "2024-annual", "year": 2024, "grade": "average", "final_score": "72.00", "rank": 5},
        {"cycle": "2025-annual", "year": 2025, "grade": "good", "final_score": "86.50", "rank": 2},
        {"cycle": "2025-midyear", "year": 2025, "grade": "good", "final_score": "84.00", "rank": 3},
        {"cycle": "2026-annual", "year": 2026, "grade": "excellent", "final_score": "93.25", "rank": 1},
    ]
    assert trend(history, "U02") == [
        {"cycle": "2023-annual", "year": 2023, "grade": "poor", "final_score": "50.00", "rank": 1}
    ]
    assert trend(history, "U77") == []
    assert trend([], "U01") == []
