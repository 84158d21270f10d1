"""The scheme tree (SPEC §2) and the cycle policy (SPEC §4–5): what is valid, what is refused.

Every expected value here is written by hand; nothing is computed by the code under test.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from domain.errors import InvalidInput
from domain.policy import Policy, Thresholds, parse_categories, parse_policy, validate_policy
from domain.scheme import CRITERIA_MAX, default_scheme, parse_scheme, resolve_scheme

D = Decimal


# ---------------------------------------------------------------- the default scheme


def test_default_scheme_has_8_level1_21_level2_43_points_and_100_total():
    s = default_scheme()
    level1 = [i for i in s.indicators if i.level == 1]
    level2 = [i for i in s.indicators if i.level == 2]
    assert len(level1) == 8
    assert len(level2) == 21
    assert len(s.points) == 43
    assert s.total == D(100)
    assert isinstance(s.total, Decimal)


def test_default_scheme_maxima_are_consistent_and_codes_unique():
    s = default_scheme()
    # level-1 maxima as shipped: 14 + 14 + 16 + 16 + 10 + 10 + 6 + 14 = 100
    assert [i.max for i in s.indicators if i.level == 1] == [D(m) for m in (14, 14, 16, 16, 10, 10, 6, 14)]
    assert sum((p.max for p in s.points), D(0)) == D(100)
    for ind in s.indicators:
        if ind.level == 2:
            assert sum((s.point(c).max for c in ind.children), D(0)) == ind.max
    codes = [i.code for i in s.indicators] + [p.code for p in s.points]
    assert len(codes) == len(set(codes)) == 8 + 21 + 43
    assert all(isinstance(m, Decimal) and m > 0 for m in s.point_max.values())


def test_default_scheme_point_lookup_and_resolve():
    s = default_scheme()
    p = s.point("1.1.1")
    assert p.max == D(3)
    assert p.indicator == "1.1"
    assert p.level1 == "1"
    with pytest.raises(KeyError):
        s.point("9.9.9")
    assert len(resolve_scheme("default", "schemes.x").points) == 43


def test_default_scheme_carries_a_criterion_per_point_in_both_languages_with_the_shared_maxima():
    s = default_scheme()
    assert all(p.criteria and p.criteria_en for p in s.points)
    assert s.point("4.3.3").criteria.startswith("党费按标准足额按时收缴")
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "default-scheme.json"
    if shared.exists():  # the contract's scheme: same codes, names and maxima (criteria added)
        theirs = parse_scheme(json.loads(shared.read_text("utf-8")))
        assert [(p.code, p.name, p.max) for p in theirs.points] == [(p.code, p.name, p.max) for p in s.points]
        assert [(i.code, i.max) for i in theirs.indicators] == [(i.code, i.max) for i in s.indicators]


def test_a_points_criteria_is_optional_text_of_bounded_length():
    tree = small_tree()
    leaf = tree["indicators"][0]["children"][0]["points"][0]
    assert parse_scheme(tree).points[0].criteria == ""  # optional
    leaf["criteria"] = "  有记录  "
    assert parse_scheme(tree).points[0].criteria == "有记录"
    for bad, code in ((3, "invalid_scheme"), (["x"], "invalid_scheme"), ("问" * (CRITERIA_MAX + 1), "too_long")):
        leaf["criteria"] = bad
        with pytest.raises(InvalidInput) as e:
            parse_scheme(tree)
        assert e.value.field == "scheme.indicators[0].children[0].points[0].criteria" and e.value.code == code
    leaf["criteria"] = "问" * CRITERIA_MAX
    assert len(parse_scheme(tree).points[0].criteria) == CRITERIA_MAX


# ---------------------------------------------------------------- custom schemes


def small_tree() -> dict:
    """A valid two-level-1 tree, 100 points: 1 (40) = 1.1 (20: 10 + 10) + 1.2 (20: 20);
    2 (60) = 2.1 (30: 30) + 2.2 (30: 20 + 10)."""
    return {
        "key": "small",
        "name": "小方案",
        "total": 100,
        "indicators": [
            {
                "code": "1",
                "name": "一",
                "max": 40,
                "children": [
                    {
                        "code": "1.1",
                        "name": "一.一",
                        "max": 20,
                        "points": [
                            {"code": "1.1.1", "name": "a", "max": 10},
                            {"code": "1.1.2", "name": "b", "max": 10},
                        ],
                    },
                    {"code": "1.2", "name": "一.二", "max": 20, "points": [{"code": "1.2.1", "name": "c", "max": 20}]},
                ],
            },
            {
                "code": "2",
                "name": "二",
                "max": 60,
                "children": [
                    {"code": "2.1", "name": "二.一", "max": 30, "points": [{"code": "2.1.1", "name": "d", "max": 30}]},
                    {
                        "code": "2.2",
                        "name": "二.二",
                        "max": 30,
                        "points": [
                            {"code": "2.2.1", "name": "e", "max": 20},
                            {"code": "2.2.2", "name": "f", "max": 10},
                        ],
                    },
                ],
            },
        ],
    }


def refused(tree) -> InvalidInput:
    with pytest.raises(InvalidInput) as e:
        parse_scheme(tree)
    return e.value


def test_small_scheme_is_valid():
    s = parse_scheme(small_tree())
    assert s.total == D(100)
    assert [p.code for p in s.points] == ["1.1.1", "1.1.2", "1.2.1", "2.1.1", "2.2.1", "2.2.2"]
    assert s.point_max == {
        "1.1.1": D(10), "1.1.2": D(10), "1.2.1": D(20), "2.1.1": D(30), "2.2.1": D(20), "2.2.2": D(10),
    }


def test_total_may_be_left_out():
    tree = small_tree()
    del tree["total"]
    assert parse_scheme(tree).total == D(100)  # 40 + 60


def test_maxima_given_as_strings_and_json_decimals_are_exact():
    # 0.1 + 0.2 == 0.3 exactly in decimal (it is not in binary floating point).
    tree = small_tree()
    leaf = tree["indicators"][0]["children"][0]
    leaf["max"] = "0.3"
    leaf["points"] = [{"code": "1.1.1", "name": "a", "max": "0.1"}, {"code": "1.1.2", "name": "b", "max": "0.2"}]
    tree["indicators"][0]["max"] = "20.3"  # 0.3 + 20
    tree["total"] = "80.3"  # 20.3 + 60
    s = parse_scheme(tree)
    assert s.point("1.1.1").max == D("0.1")
    assert s.total == D("80.3")
    # the same from JSON numbers read as decimals
    s2 = parse_scheme(json.loads(json.dumps(tree).replace('"0.1"', "0.1").replace('"0.2"', "0.2"), parse_float=Decimal))
    assert s2.point("1.1.2").max == D("0.2")


@pytest.mark.parametrize("bad", [0, -1, "0", "-0.5"])
def test_point_max_must_be_positive(bad):
    tree = small_tree()
    tree["indicators"][0]["children"][0]["points"][0]["max"] = bad
    e = refused(tree)
    assert e.field == "scheme.indicators[0].children[0].points[0].max"
    assert e.code == "invalid_scheme"


def test_level1_max_must_be_positive():
    tree = small_tree()
    tree["indicators"][1]["max"] = 0
    e = refused(tree)
    assert e.field == "scheme.indicators[1].max"


def test_max_must_be_a_number():
    tree = small_tree()
    tree["indicators"][0]["children"][1]["points"][0]["max"] = "twenty"
    e = refused(tree)
    assert e.code == "not_a_number"
    assert e.field == "scheme.indicators[0].children[1].points[0].max"


def test_points_not_summing_to_level2_max():
    tree = small_tree()
    # 1.1 says 20 but its points are 10 + 9 = 19
    tree["indicators"][0]["children"][0]["points"][1]["max"] = 9
    e = refused(tree)
    assert e.code == "maxima_mismatch"
    assert e.field == "scheme.indicators[0].children[0].max"


def test_level2_not_summing_to_level1_max():
    tree = small_tree()
    # 2 says 60 but 2.1 + 2.2 = 30 + 30; make it say 61
    tree["indicators"][1]["max"] = 61
    e = refused(tree)
    assert e.code == "maxima_mismatch"
    assert e.field == "scheme.indicators[1].max"


def test_total_mismatch():
    tree = small_tree()
    tree["total"] = 99  # 40 + 60 = 100
    e = refused(tree)
    assert e.code == "maxima_mismatch"
    assert e.field == "scheme.total"


def test_duplicate_point_code():
    tree = small_tree()
    tree["indicators"][1]["children"][1]["points"][1]["code"] = "2.2.1"
    e = refused(tree)
    assert e.code == "duplicate_code"
    assert e.field == "scheme.indicators[1].children[1].points[1].code"


def test_duplicate_code_across_levels():
    tree = small_tree()
    tree["indicators"][1]["children"][0]["points"][0]["code"] = "1.1"  # a level-2 code
    e = refused(tree)
    assert e.code == "duplicate_code"


def test_duplicate_level1_code():
    tree = small_tree()
    tree["indicators"][1]["code"] = "1"
    assert refused(tree).code == "duplicate_code"


@pytest.mark.parametrize(
    "path, key, field",
    [
        ((), "key", "scheme.key"),
        ((), "name", "scheme.name"),
        ((), "indicators", "scheme.indicators"),
        ((0,), "code", "scheme.indicators[0].code"),
        ((0,), "max", "scheme.indicators[0].max"),
        ((0,), "children", "scheme.indicators[0].children"),
        ((0, 1), "max", "scheme.indicators[0].children[1].max"),
        ((0, 1), "points", "scheme.indicators[0].children[1].points"),
        ((1, 1, 0), "name", "scheme.indicators[1].children[1].points[0].name"),
        ((1, 1, 0), "max", "scheme.indicators[1].children[1].points[0].max"),
        ((1, 1, 0), "code", "scheme.indicators[1].children[1].points[0].code"),
    ],
)
def test_missing_field_is_named(path, key, field):
    tree = small_tree()
    node = tree
    if len(path) >= 1:
        node = node["indicators"][path[0]]
    if len(path) >= 2:
        node = node["children"][path[1]]
    if len(path) >= 3:
        node = node["points"][path[2]]
    del node[key]
    e = refused(tree)
    assert e.field == field


def test_empty_lists_refused():
    tree = small_tree()
    tree["indicators"] = []
    assert refused(tree).field == "scheme.indicators"
    tree = small_tree()
    tree["indicators"][0]["children"][0]["points"] = []
    assert refused(tree).field == "scheme.indicators[0].children[0].points"


def test_not_an_object():
    assert refused([1, 2]).field == "scheme"
    assert refused("default").field == "scheme"
    with pytest.raises(InvalidInput):
        resolve_scheme({"key": "x"}, "schemes.grassroots_branch")


def test_parse_scheme_does_not_change_its_input():
    tree = small_tree()
    before = copy.deepcopy(tree)
    parse_scheme(tree)
    assert tree == before


# ---------------------------------------------------------------- policy


def policy_refused(data) -> InvalidInput:
    with pytest.raises(InvalidInput) as e:
        parse_policy(data)
    return e.value


def test_policy_defaults():
    for data in (None, {}):
        p = parse_policy(data)
        assert p.work_weight == D("0.7")
        assert p.debrief_weight == D("0.3")
        assert p.excellent_share == D("0.5")
        assert p.thresholds == Thresholds(D(90), D(80), D(60))
        assert p.bonus_cap == D(3)
        assert p.trim_min_ballots == 5
        assert p.committee_quorum == 2  # SPEC §1: two members confirm each committee decision
        assert p.min_turnout == D(0)
        assert p.secret_ballot is True
        assert p.rectification_share == D("0.80")  # a cycle created before the field reads 0.80
        assert p == Policy()
    assert Policy().to_dict() == {
        "work_weight": "0.7",
        "debrief_weight": "0.3",
        "excellent_share": "0.5",
        "thresholds": {"excellent": "90", "good": "80", "average": "60"},
        "bonus_cap": "3",
        "trim_min_ballots": 5,
        "committee_quorum": 2,
        "min_turnout": "0",
        "secret_ballot": True,
        "rectification_share": "0.80",
    }


def test_policy_single_field_keeps_other_defaults():
    p = parse_policy({"bonus_cap": "5"})
    assert p.bonus_cap == D(5)
    assert p.work_weight == D("0.7")
    p = parse_policy({"thresholds": {"excellent": 95}})
    assert p.thresholds == Thresholds(D(95), D(80), D(60))


def test_policy_strings_and_numbers_are_exact_decimals():
    as_strings = parse_policy(
        {
            "work_weight": "0.6",
            "debrief_weight": "0.4",
            "excellent_share": "0.35",
            "thresholds": {"excellent": "92.5", "good": "81", "average": "61"},
            "bonus_cap": "2.5",
            "trim_min_ballots": "7",
        }
    )
    as_numbers = parse_policy(
        json.loads(
            '{"work_weight": 0.6, "debrief_weight": 0.4, "excellent_share": 0.35,'
            ' "thresholds": {"excellent": 92.5, "good": 81, "average": 61},'
            ' "bonus_cap": 2.5, "trim_min_ballots": 7}',
            parse_float=Decimal,
        )
    )
    assert as_strings == as_numbers
    p = as_numbers
    for v in (p.work_weight, p.debrief_weight, p.excellent_share, p.bonus_cap, *vars(p.thresholds).values()):
        assert isinstance(v, Decimal)
    assert p.work_weight == D("0.6") and p.debrief_weight == D("0.4")
    assert p.excellent_share == D("0.35")
    assert p.thresholds.excellent == D("92.5")
    assert p.trim_min_ballots == 7


def test_weights_summing_to_one_exactly_in_decimal():
    # 0.1 + 0.9 and "0.3" + "0.7": exact; and 1 + 0 is allowed.
    assert parse_policy({"work_weight": "0.1", "debrief_weight": "0.9"}).debrief_weight == D("0.9")
    assert parse_policy({"work_weight": 1, "debrief_weight": 0}).work_weight == D(1)


@pytest.mark.parametrize(
    "data",
    [
        {"work_weight": "0.6"},  # 0.6 + 0.3 = 0.9
        {"work_weight": "0.7", "debrief_weight": "0.31"},  # 1.01
        {"work_weight": "0.5", "debrief_weight": "0.49"},  # 0.99
        {"work_weight": 1, "debrief_weight": 1},  # 2
    ],
)
def test_weights_not_summing_to_one(data):
    e = policy_refused(data)
    assert e.code == "weights_do_not_sum_to_one"
    assert e.field == "policy.work_weight"


def test_negative_weight_refused():
    e = policy_refused({"work_weight": "1.2", "debrief_weight": "-0.2"})
    assert e.field == "policy.work_weight"


@pytest.mark.parametrize("share", ["-0.01", "1.01", "2", -1])
def test_excellent_share_outside_0_1(share):
    e = policy_refused({"excellent_share": share})
    assert e.field == "policy.excellent_share"
    assert e.code == "invalid_policy"


@pytest.mark.parametrize("share", ["0", "1", "0.15"])
def test_excellent_share_bounds_allowed(share):
    assert parse_policy({"excellent_share": share}).excellent_share == D(share)


@pytest.mark.parametrize(
    "thresholds",
    [
        {"excellent": 80},  # 80 = good
        {"good": 90},  # = excellent
        {"average": 80},  # = good
        {"good": 50},  # below average 60
        {"excellent": 70, "good": 80, "average": 90},  # rising
    ],
)
def test_thresholds_must_fall_strictly(thresholds):
    e = policy_refused({"thresholds": thresholds})
    assert e.field == "policy.thresholds"


def test_unknown_threshold_key():
    e = policy_refused({"thresholds": {"great": 99}})
    assert e.field == "policy.thresholds.great"


def test_bonus_cap_negative():
    e = policy_refused({"bonus_cap": "-0.5"})
    assert e.field == "policy.bonus_cap"
    assert parse_policy({"bonus_cap": 0}).bonus_cap == D(0)


@pytest.mark.parametrize("trim", [2, 0, -5, "2"])
def test_trim_min_ballots_below_3(trim):
    e = policy_refused({"trim_min_ballots": trim})
    assert e.field == "policy.trim_min_ballots"


@pytest.mark.parametrize("trim", [True, "five", "4.5", None])
def test_trim_min_ballots_not_an_integer(trim):
    e = policy_refused({"trim_min_ballots": trim})
    assert e.field == "policy.trim_min_ballots"


@pytest.mark.parametrize("quorum", [0, -1, "0", True, "two", 1.5])
def test_committee_quorum_below_1_or_not_an_integer(quorum):
    assert policy_refused({"committee_quorum": quorum}).field == "policy.committee_quorum"


@pytest.mark.parametrize("turnout", ["-0.01", "1.01", 2])
def test_min_turnout_outside_0_to_1(turnout):
    assert policy_refused({"min_turnout": turnout}).field == "policy.min_turnout"


@pytest.mark.parametrize("secret", ["yes", 1, None])
def test_secret_ballot_must_be_true_or_false(secret):
    assert policy_refused({"secret_ballot": secret}).field == "policy.secret_ballot"


@pytest.mark.parametrize("share", ["-0.01", "1.01", 2, "eighty"])
def test_rectification_share_outside_0_to_1(share):
    assert policy_refused({"rectification_share": share}).field == "policy.rectification_share"


@pytest.mark.parametrize("share", ["0", "1", "0.75"])
def test_rectification_share_within_0_to_1(share):
    assert parse_policy({"rectification_share": share}).rectification_share == D(share)


def test_the_meeting_fields_keep_what_is_given():
    p = parse_policy({"committee_quorum": 3, "min_turnout": "0.8", "secret_ballot": False})
    assert (p.committee_quorum, p.min_turnout, p.secret_ballot) == (3, D("0.8"), False)


def test_trim_min_ballots_3_allowed():
    assert parse_policy({"trim_min_ballots": 3}).trim_min_ballots == 3


def test_unknown_policy_field():
    e = policy_refused({"quota": "0.5"})
    assert e.field == "policy.quota"
    assert e.code == "invalid_policy"


def test_policy_not_an_object():
    assert policy_refused(["0.7"]).field == "policy"
    assert policy_refused({"thresholds": [90, 80, 60]}).field == "policy.thresholds"


def test_policy_value_not_a_number():
    e = policy_refused({"bonus_cap": "three"})
    assert e.code == "not_a_number"
    assert e.field == "policy.bonus_cap"
    e = policy_refused({"bonus_cap": None})
    assert e.code == "not_a_number"


def test_policy_field_prefix():
    with pytest.raises(InvalidInput) as e:
        parse_policy({"bonus_cap": -1}, field="cycle.policy")
    assert e.value.field == "cycle.policy.bonus_cap"


def test_validate_policy_directly():
    validate_policy(Policy())
    with pytest.raises(InvalidInput) as e:
        validate_policy(Policy(trim_min_ballots=2))
    assert e.value.field == "policy.trim_min_ballots"


# ---------------------------------------------------------------- ballot categories


def test_categories_default_is_one_category_of_weight_1():
    assert parse_categories(None) == {"representatives": D(1)}
    assert parse_categories({}) == {"representatives": D(1)}


def test_categories_as_strings_and_numbers():
    cats = parse_categories({"leaders": "0.4", "heads": "0.3", "staff": "0.3"})
    assert cats == {"leaders": D("0.4"), "heads": D("0.3"), "staff": D("0.3")}
    cats = parse_categories(json.loads('{"leaders": 0.5, "staff": 0.5}', parse_float=Decimal))
    assert cats == {"leaders": D("0.5"), "staff": D("0.5")}
    assert all(isinstance(w, Decimal) for w in cats.values())
    assert parse_categories({"only": 1}) == {"only": D(1)}


@pytest.mark.parametrize(
    "cats",
    [
        {"leaders": "0.5", "staff": "0.6"},  # 1.1
        {"leaders": "0.4", "staff": "0.3"},  # 0.7
        {"leaders": 2},  # 2
    ],
)
def test_categories_not_summing_to_one(cats):
    with pytest.raises(InvalidInput) as e:
        parse_categories(cats)
    assert e.value.code == "weights_do_not_sum_to_one"
    assert e.value.field == "categories"


@pytest.mark.parametrize("cats", [{"leaders": 0, "staff": 1}, {"leaders": "-0.5", "staff": "1.5"}])
def test_category_weight_must_be_positive(cats):
    with pytest.raises(InvalidInput) as e:
        parse_categories(cats)
    assert e.value.code == "invalid_categories"


def test_categories_not_an_object():
    with pytest.raises(InvalidInput) as e:
        parse_categories(["leaders"])
    assert e.value.field == "categories"


def test_a_scheme_read_from_spreadsheet_rows():
    from domain.scheme import parse_scheme, tree_from_rows

    # Two level-1 indicators of 6 and 4 points: 1 → 1.1 (3 + 3), 2 → 2.1 (4); blanks repeat the level above.
    rows = [
        ["1", "政治建设", "6", "1.1", "理论武装", "6", "1.1.1", "第一议题", "3"],
        [None, None, None, None, None, None, "1.1.2", "中心组学习", "3"],
        ["2", "组织建设", "4", "2.1", "支部建设", "4", "2.1.1", "三会一课", "4"],
    ]
    scheme = parse_scheme(tree_from_rows(rows, "x", "表格指标"))
    assert [p.code for p in scheme.points] == ["1.1.1", "1.1.2", "2.1.1"]
    assert scheme.total == Decimal("10")
    # A level-2 max that its points do not fill is refused by the usual validation.
    rows[0][5] = "5"
    with pytest.raises(InvalidInput) as err:
        parse_scheme(tree_from_rows(rows, "x", "表格指标"))
    assert err.value.code == "maxima_mismatch"
    with pytest.raises(InvalidInput) as err:
        tree_from_rows([[None, None, None, None, None, None, "1.1.1", "x", "3"]], "x", "y")
    assert "一级编码" in err.value.message
