"""Every refusal of bad input by the use cases of ``Assessments`` (SPEC §3–§5): the error's kind
(→ 422/409/403/404 at the HTTP door), its ``code`` and ``field``, and that nothing was stored —
the log's max notification id does not move. Most of these cases were end-to-end copies in
``tests/test_bad_input.py``; the HTTP door keeps one per error kind.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.helpers import TINY_SCHEME
from tests.walk import (
    COHORT, COM, COM2, EVA, FUTURE, MEETING, ORG, PAST, R1, R2, SELF_REVIEW, U1, U2, cid, confirmed, create, head, names, propose,
    refused, set_roster, small_cycle,
)
from domain.rules import Actor

F = f"schemes.{COHORT}"


def make(app, **changes: Any):
    body = {"key": "bad", "year": 2026, "name": "坏输入", "policy": None, "schemes": {COHORT: TINY_SCHEME},
            "categories": None, "deadlines": None}
    body.update(changes)
    return lambda: app.create_cycle(**body, actor=ORG, command_id=cid("create"))


# ================================================================ cycle creation


def test_weights_that_do_not_sum_to_one_are_refused(app):
    # 0.6 + 0.3 = 0.9 ≠ 1 (SPEC §4: the two weights must sum to 1).
    refused(app, make(app, policy={"work_weight": "0.6", "debrief_weight": "0.3"}), InvalidInput,
            "weights_do_not_sum_to_one", "policy.work_weight")
    assert not app.has_cycle("bad")


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"excellent_share": "1.5"}, "policy.excellent_share"),  # not within 0..1
        ({"excellent_share": "-0.1"}, "policy.excellent_share"),
        ({"thresholds": {"excellent": "80", "good": "80"}}, "policy.thresholds"),  # 80 > 80 is false
        ({"bonus_cap": "-1"}, "policy.bonus_cap"),  # bonus_cap ≥ 0
        ({"trim_min_ballots": 2}, "policy.trim_min_ballots"),  # trim_min_ballots ≥ 3
        ({"colour": "red"}, "policy.colour"),  # no such policy field
    ],
    ids=["share-above-1", "share-below-0", "thresholds-not-falling", "negative-cap", "trim-below-3", "unknown-field"],
)
def test_an_invalid_policy_is_refused(app, policy, field):
    refused(app, make(app, policy=policy), InvalidInput, "invalid_policy", field)
    assert not app.has_cycle("bad")


def test_category_weights_that_do_not_sum_to_one_are_refused(app):
    # 0.5 + 0.4 = 0.9 ≠ 1
    refused(app, make(app, categories={"leaders": "0.5", "staff": "0.4"}), InvalidInput, "weights_do_not_sum_to_one", "categories")


def _set(path: list, value: Any):
    def mutate(tree: dict) -> None:
        node = tree
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


L2 = ["indicators", 0, "children", 0]  # indicator 1.1
PTS = L2 + ["points"]


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        # 1.1.1 max 6 → 5: points of 1.1 sum to 5 + 4 = 9 ≠ its max 10
        (_set(PTS + [0, "max"], 5), "maxima_mismatch", f"{F}.indicators[0].children[0].max"),
        # 1.1 max 10 → 9 and 1.1.1 6 → 5 (5 + 4 = 9 fits 1.1), but level-1 "1" has max 10 ≠ 9
        (lambda t: (_set(L2 + ["max"], 9)(t), _set(PTS + [0, "max"], 5)(t)), "maxima_mismatch", f"{F}.indicators[0].max"),
        # total 10 → 12: level-1 maxima sum to 10 ≠ 12
        (_set(["total"], 12), "maxima_mismatch", f"{F}.total"),
        (_set(PTS + [1, "code"], "1.1.1"), "duplicate_code", f"{F}.indicators[0].children[0].points[1].code"),
        (_set(PTS + [1, "code"], "1"), "duplicate_code", f"{F}.indicators[0].children[0].points[1].code"),
        (_set(PTS + [1, "max"], 0), "invalid_scheme", f"{F}.indicators[0].children[0].points[1].max"),  # max > 0
    ],
    ids=["points-vs-level2", "level2-vs-level1", "level1-vs-total", "duplicate-point", "point-reuses-indicator-code", "zero-max"],
)
def test_an_invalid_scheme_is_refused(app, mutate, code, field):
    tree = copy.deepcopy(TINY_SCHEME)
    mutate(tree)
    refused(app, make(app, schemes={COHORT: tree}), InvalidInput, code, field)
    assert not app.has_cycle("bad")


def test_an_unknown_org_type_is_refused(app):
    refused(app, make(app, schemes={"party_group": "default"}), InvalidInput, "unknown_org_type", "schemes.party_group")


def test_no_scheme_at_all_is_refused(app):
    refused(app, make(app, schemes={}), InvalidInput, "schemes_required", "schemes")


@pytest.mark.parametrize(
    ("deadline", "code"),
    [(PAST, "deadline_in_past"), ("2099-01-01T00:00:00", "invalid_deadline"), ("next friday", "invalid_deadline")],
    ids=["in-the-past", "no-time-zone", "not-a-time"],
)
def test_a_bad_deadline_at_creation_is_refused(app, deadline, code):
    refused(app, make(app, deadlines={"self_review": deadline}), InvalidInput, code, "deadlines.self_review")


def test_a_deadline_for_an_unknown_stage_is_refused(app):
    refused(app, make(app, deadlines={"tea_break": FUTURE}), InvalidInput, "unknown_stage", "deadlines.tea_break")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"key": "a/b"}, "invalid_key", "key"),  # keys appear in URLs and ids: no '/'
        ({"key": " c1"}, "invalid_key", "key"),
        ({"key": "k" * 65}, "invalid_key", "key"),  # 1..64 characters
        ({"year": 1999}, "invalid_year", "year"),
        ({"year": True}, "invalid_year", "year"),
        ({"year": "2026"}, "invalid_year", "year"),
        ({"name": "   "}, "name_required", "name"),
        ({"name": "名" * 201}, "too_long", "name"),  # at most 200 (what the read model holds)
    ],
    ids=["slash", "leading-space", "65-chars", "year-1999", "year-bool", "year-text", "blank-name", "201-char-name"],
)
def test_a_bad_key_year_or_name_is_refused(app, changes, code, field):
    refused(app, make(app, **changes), InvalidInput, code, field)


def test_a_second_cycle_with_the_same_key_is_refused(app):
    create(app, "c1")
    refused(app, make(app, key="c1"), Conflict, "cycle_exists", "key")


# ================================================================ units


def register(app, key: str, *units: dict):
    return lambda: app.register_units(key, list(units), ORG, cid("units"))


def test_registering_a_unit_twice_is_refused(app):
    key = small_cycle(app, "setup")
    refused(app, register(app, key, {"key": "U1", "name": "重复", "org_type": COHORT}), Conflict, "unit_exists", "units[0].key")
    # twice in one request: the second names its own index
    twice = register(app, key, {"key": "U8", "name": "甲", "org_type": COHORT}, {"key": "U8", "name": "乙", "org_type": COHORT})
    refused(app, twice, Conflict, "unit_exists", "units[1].key")
    assert sorted(app.cycle(key).units) == ["U1", "U2"]


@pytest.mark.parametrize(
    ("unit", "kind", "code", "field"),
    [
        # The cycle has a scheme for grassroots_branch only.
        ({"key": "U9", "name": "机关", "org_type": "organ_committee"}, InvalidInput, "no_scheme_for_org_type", "units[0].org_type"),
        ({"key": "U9", "name": "?", "org_type": "party_group"}, InvalidInput, "unknown_org_type", "units[0].org_type"),
        ({"key": "U/9", "name": "?", "org_type": COHORT}, InvalidInput, "invalid_unit_key", "units[0].key"),
        ({"key": "U9", "name": " ", "org_type": COHORT}, InvalidInput, "name_required", "units[0].name"),
        ({"key": "U9", "name": "名" * 201, "org_type": COHORT}, InvalidInput, "too_long", "units[0].name"),
        ("U9", InvalidInput, "invalid_unit", "units[0]"),
    ],
    ids=["no-scheme", "unknown-org-type", "slash-key", "blank-name", "201-char-name", "not-an-object"],
)
def test_a_bad_unit_is_refused(app, unit, kind, code, field):
    key = small_cycle(app, "setup")
    refused(app, register(app, key, unit), kind, code, field)


def test_no_units_is_refused(app):
    key = small_cycle(app, "setup")
    refused(app, lambda: app.register_units(key, [], ORG, cid()), InvalidInput, "units_required", "units")


def test_registering_units_after_opening_is_refused(app):
    key = small_cycle(app, "self_review")
    refused(app, register(app, key, {"key": "U9", "name": "迟到", "org_type": COHORT}), Conflict, "cycle_not_in_setup", "cycle")


def test_opening_a_cycle_without_units_or_twice_is_refused(app):
    app.create_cycle("empty", 2026, "空", None, {COHORT: TINY_SCHEME}, None, None, ORG, cid())
    refused(app, lambda: app.open_cycle("empty", ORG, cid()), Conflict, "no_units", "units")
    key = small_cycle(app, "self_review")
    refused(app, lambda: app.open_cycle(key, ORG, cid()), Conflict, "cycle_already_open", "cycle")


def test_an_unknown_cycle_is_not_found(app):
    refused(app, lambda: app.open_cycle("nope", ORG, cid()), NotFound, "cycle_not_found", "cycle")
    refused(app, lambda: app.submit_self_review("nope", "U1", SELF_REVIEW, None, U1, cid()), NotFound, "unit_not_found", "unit")


# ================================================================ stages and deadlines


def test_stage_transitions_out_of_order_are_refused(app):
    key = small_cycle(app, "self_review")
    stage = lambda verb, s: (lambda: getattr(app, f"{verb}_stage")(key, s, ORG, cid()))  # noqa: E731
    refused(app, stage("open", "adjustments"), Conflict, "earlier_stage_open", "stage")
    refused(app, stage("close", "scoring"), Conflict, "stage_not_open", "stage")
    refused(app, stage("open", "self_review"), InvalidInput, "stage_not_openable", "stage")  # opens with the cycle
    refused(app, stage("open", "tea_break"), InvalidInput, "stage_not_openable", "stage")
    refused(app, stage("close", "allocation"), InvalidInput, "stage_not_closable", "stage")  # closes by approval
    app.open_stage(key, "scoring", ORG, cid())
    refused(app, stage("open", "scoring"), Conflict, "stage_already_opened", "stage")
    # scoring closes only once self-review has
    refused(app, stage("close", "scoring"), Conflict, "earlier_stage_open", "stage")


@pytest.mark.parametrize(
    ("stage", "deadline", "kind", "code", "field"),
    [
        ("self_review", PAST, InvalidInput, "deadline_in_past", "deadline"),
        ("self_review", "2099-01-01T00:00:00", InvalidInput, "invalid_deadline", "deadline"),
        ("self_review", 20990101, InvalidInput, "invalid_deadline", "deadline"),
        ("tea_break", FUTURE, InvalidInput, "unknown_stage", "stage"),
    ],
    ids=["in-the-past", "no-time-zone", "a-number", "unknown-stage"],
)
def test_setting_a_bad_deadline_is_refused(app, stage, deadline, kind, code, field):
    key = small_cycle(app, "self_review")
    refused(app, lambda: app.set_deadline(key, stage, deadline, ORG, cid()), kind, code, field)
    assert app.cycle(key).deadlines == {}


def test_a_deadline_on_a_closed_stage_is_refused(app):
    key = small_cycle(app, "scoring")  # self-review closed
    refused(app, lambda: app.set_deadline(key, "self_review", FUTURE, ORG, cid()), Conflict, "stage_closed", "stage")


# ================================================================ self-review


@pytest.mark.parametrize(
    ("scores", "code", "field"),
    [
        ({"1.1.1": "6.5", "1.1.2": "3"}, "score_out_of_range", "scores.1.1.1"),  # 6.5 > max 6
        ({"1.1.1": 7, "1.1.2": 3}, "score_out_of_range", "scores.1.1.1"),  # JSON numbers too
        ({"1.1.1": "5", "1.1.2": "-0.01"}, "score_out_of_range", "scores.1.1.2"),  # below 0
        ({"1.1.1": "5", "1.1.2": "3", "9.9.9": "1"}, "unknown_point", "scores.9.9.9"),
        ({"1.1.1": "5"}, "missing_points", "scores.1.1.2"),  # a self-review covers every point
        ({"1.1.1": None, "1.1.2": "3"}, "score_required", "scores.1.1.1"),  # null is for evaluators only
        ({"1.1.1": "five", "1.1.2": "3"}, "not_a_number", "scores.1.1.1"),
        ({"1.1.1": True, "1.1.2": "3"}, "not_a_number", "scores.1.1.1"),
        (["5", "3"], "invalid_scores", "scores"),
    ],
    ids=["above-max", "above-max-number", "below-zero", "unknown-point", "missing-point", "null", "text", "boolean", "a-list"],
)
def test_a_bad_self_review_is_refused_naming_the_point(app, scores, code, field):
    key = small_cycle(app, "self_review")
    refused(app, lambda: app.submit_self_review(key, "U1", scores, None, U1, cid()), InvalidInput, code, field)
    assert app.unit(key, "U1").self_review_status == "pending"


def test_a_bad_self_review_draft_is_refused(app):
    key = small_cycle(app, "self_review")
    draft = lambda scores, evidence=None: (lambda: app.save_self_review_draft(key, "U1", scores, evidence, U1, cid()))  # noqa: E731
    refused(app, draft({"1.1.2": "4.5"}), InvalidInput, "score_out_of_range", "scores.1.1.2")  # 4.5 > max 4
    refused(app, draft({"1.1.2": "4"}, {"7.7.7": "记录"}), InvalidInput, "unknown_point", "evidence.7.7.7")
    refused(app, draft({"1.1.2": "4"}, {"1.1.2": 5}), InvalidInput, "invalid_text", "evidence.1.1.2")
    # a draft may be partial and hold nulls: this one is stored
    before = head(app)
    app.save_self_review_draft(key, "U1", {"1.1.1": None}, None, U1, cid())
    assert head(app) == before + 1


def test_a_self_review_twice_or_after_its_stage_is_refused(app):
    key = small_cycle(app, "self_review")
    app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, cid())
    refused(app, lambda: app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, cid()), Conflict, "already_submitted", "unit")
    key = small_cycle(app, "scoring", key="c2")  # self-review closed
    refused(app, lambda: app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, cid()), Conflict, "stage_not_open", "stage")
    refused(app, lambda: app.save_self_review_draft(key, "U1", SELF_REVIEW, None, U1, cid()), Conflict, "stage_not_open", "stage")


# ================================================================ scoring


def score(app, key: str, scores: Any, na: Any = None, comments: Any = None, unit: str = "U1", actor=EVA):
    return lambda: app.submit_scoring(key, unit, scores, na, comments, actor, cid("score"))


def test_scoring_before_the_scoring_stage_opens_is_refused(app):
    key = small_cycle(app, "self_review")
    refused(app, score(app, key, SELF_REVIEW), Conflict, "stage_not_open", "stage")


def test_scoring_a_unit_that_has_not_self_reviewed_waits_for_the_stage_to_close(app):
    # SPEC §3: self-scores are visible to evaluators; scoring a unit whose self-review is still
    # pending while the self-review stage runs is refused; once the stage closes it is allowed.
    key = small_cycle(app, "self_review")
    app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, cid())
    app.open_stage(key, "scoring", ORG, cid())
    refused(app, score(app, key, SELF_REVIEW, unit="U2"), Conflict, "self_review_pending", "unit")
    app.submit_scoring(key, "U1", SELF_REVIEW, None, None, EVA, cid())  # U1 has self-reviewed
    app.close_stage(key, "self_review", ORG, cid())
    app.submit_scoring(key, "U2", SELF_REVIEW, None, None, EVA, cid())
    assert app.unit(key, "U2").self_review_status == "missed"


@pytest.mark.parametrize(
    ("scores", "code", "field"),
    [
        ({"1.1.1": "6.01", "1.1.2": "3"}, "score_out_of_range", "scores.1.1.1"),  # 6.01 > max 6
        ({"1.1.1": "5", "1.1.2": "-1"}, "score_out_of_range", "scores.1.1.2"),  # below 0
        ({"1.1.1": "5", "1.1.2": "3", "1.1.3": "1"}, "unknown_point", "scores.1.1.3"),
        ({"1.1.1": "5"}, "missing_points", "scores.1.1.2"),  # a unit's scoring covers every point
        ({"1.1.2": "3"}, "missing_points", "scores.1.1.1"),
    ],
    ids=["above-max", "below-zero", "unknown-point", "misses-1.1.2", "misses-1.1.1"],
)
def test_bad_scoring_is_refused_naming_the_point(app, scores, code, field):
    key = small_cycle(app, "scoring")
    refused(app, score(app, key, scores), InvalidInput, code, field)
    assert app.unit(key, "U1").scores is None


def test_a_not_applicable_point_needs_a_reason_and_comments_a_known_point(app):
    key = small_cycle(app, "scoring")
    refused(app, score(app, key, {"1.1.1": None, "1.1.2": "3"}), InvalidInput, "na_reason_required", "na_reasons.1.1.1")
    refused(app, score(app, key, {"1.1.1": None, "1.1.2": "3"}, {"1.1.1": "  "}), InvalidInput, "na_reason_required", "na_reasons.1.1.1")
    refused(app, score(app, key, SELF_REVIEW, comments={"7.7.7": "好"}), InvalidInput, "unknown_point", "comments.7.7.7")
    refused(app, score(app, key, SELF_REVIEW, comments="好"), InvalidInput, "invalid_text", "comments")
    app.submit_scoring(key, "U1", {"1.1.1": None, "1.1.2": "3"}, {"1.1.1": "本年度无此项工作"}, None, EVA, cid())
    refused(app, score(app, key, SELF_REVIEW), Conflict, "already_submitted", "unit")


# ================================================================ debrief


def ballot(app, key: str, rep: Actor, scores: Any, category: Any = None):
    return lambda: app.cast_ballot(key, COHORT, rep.user, category, scores, rep, cid("ballot"))


def test_a_ballot_before_the_debrief_opens_is_refused(app):
    key = small_cycle(app, "self_review")
    refused(app, ballot(app, key, R1, {"U1": "90"}), NotFound, "not_open", "cohort")  # names the session


@pytest.mark.parametrize(
    ("scores", "code", "field"),
    [
        ({"U1": "100.01", "U2": "80"}, "score_out_of_range", "scores.U1"),  # above 100
        ({"U1": "90", "U2": -1}, "score_out_of_range", "scores.U2"),  # below 0
        ({"U1": "90", "U9": "80"}, "unknown_unit", "scores.U9"),  # not a secretary of this session
        ({}, "invalid_scores", "scores"),  # a sheet scores at least one secretary
        ({"U1": "ninety"}, "not_a_number", "scores.U1"),
    ],
    ids=["above-100", "below-0", "unknown-unit", "empty", "text"],
)
def test_a_bad_ballot_is_refused(app, scores, code, field):
    key = small_cycle(app, "debrief")
    refused(app, ballot(app, key, R2, scores), InvalidInput, code, field)
    assert app.sheet(key, COHORT, "R2") is None


def test_a_ballot_in_another_category_than_the_rostered_one_is_refused(app):
    key = small_cycle(app, "debrief")  # the one default category "representatives"; R1..R3 rostered in it
    refused(app, ballot(app, key, R2, {"U1": "90"}, "leaders"), Conflict, "wrong_category", "category")
    app.create_cycle("c2", 2026, "两类代表", None, {COHORT: TINY_SCHEME}, {"leaders": "0.6", "staff": "0.4"}, None, ORG, cid())
    app.register_units("c2", [{"key": "U1", "name": "一", "org_type": COHORT}], ORG, cid())
    app.open_cycle("c2", ORG, cid())
    app.open_stage("c2", "debrief", ORG, cid())
    set_roster(app, "c2", {"R2": "leaders"})
    err = refused(app, ballot(app, "c2", R2, {"U1": "90"}, "staff"), Conflict, "wrong_category", "category")
    assert "R2" in err.message and "leaders" in err.message
    # a sheet naming no category is cast in the rostered one
    assert app.cast_ballot("c2", COHORT, "R2", None, {"U1": "90"}, R2, cid()).data["category"] == "leaders"


def test_a_second_sheet_by_the_same_representative_is_refused(app):
    key = small_cycle(app, "debrief")
    app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": "80"}, R1, cid())
    refused(app, ballot(app, key, R1, {"U1": "70", "U2": "70"}), Conflict, "ballot_already_cast", "representative")
    assert app.sheet(key, COHORT, "R1").scores == {"U1": "90", "U2": "80"}


def test_a_ballot_after_the_session_closed_is_refused(app):
    key = small_cycle(app, "allocation")
    refused(app, ballot(app, key, R1, {"U1": "90"}), Conflict, "session_closed", "session")
    refused(app, lambda: app.close_session(key, COHORT, ORG, cid()), Conflict, "session_closed", "cohort")


# ================================================================ adjustments


def test_proposing_an_adjustment_before_its_stage_is_refused(app):
    key = small_cycle(app, "self_review")
    refused(app, lambda: propose(app, key, "U1", "bonus", points="1"), Conflict, "stage_not_open", "stage")


@pytest.mark.parametrize(
    ("unit", "kind", "points", "levels", "reason", "code", "field"),
    [
        ("U1", "bonus", "0", None, "x", "invalid_points", "points"),  # must be > 0
        ("U1", "bonus", "-2", None, "x", "invalid_points", "points"),
        ("U1", "bonus", "100.01", None, "x", "invalid_points", "points"),  # ≤ 100
        ("U1", "bonus", "1.005", None, "x", "invalid_points", "points"),  # at most 2 decimals
        ("U1", "bonus", None, None, "x", "not_a_number", "points"),
        ("U1", "downgrade", None, 4, "x", "invalid_levels", "levels"),  # 1..3
        ("U1", "downgrade", None, 0, "x", "invalid_levels", "levels"),
        ("U1", "downgrade", None, True, "x", "invalid_levels", "levels"),
        ("U1", "veto", None, None, "   ", "reason_required", "reason"),
        ("U1", "medal", None, None, "x", "unknown_kind", "kind"),
        ("U9", "bonus", "1", None, "x", "unknown_unit", "unit"),
    ],
    ids=["zero-points", "negative-points", "over-100", "three-decimals", "no-points", "levels-4", "levels-0", "levels-bool",
         "blank-reason", "unknown-kind", "unknown-unit"],
)
def test_a_bad_adjustment_is_refused(app, unit, kind, points, levels, reason, code, field):
    key = small_cycle(app, "adjustments")
    call = lambda: app.propose_adjustment(key, unit, kind, points, levels, reason, "", ORG, cid())  # noqa: E731
    refused(app, call, InvalidInput, code, field)
    assert app.cycle(key).adjustments == []


@pytest.fixture
def pending(app) -> tuple[str, str]:
    """Cycle c1 in the adjustments stage with one pending downgrade of U1, proposed by org."""
    key = small_cycle(app, "adjustments")
    return key, propose(app, key, "U1", "downgrade", levels=1, reason="巡视指出问题")


@pytest.mark.parametrize(
    ("decision", "reason", "code", "field"),
    [("maybe", "", "invalid_decision", "decision"), ("reject", "  ", "reason_required", "reason")],
    ids=["unknown-decision", "reject-without-reason"],
)
def test_a_bad_decision_is_refused(app, pending, decision, reason, code, field):
    key, adj = pending
    refused(app, lambda: app.decide_adjustment(key, adj, decision, reason, COM, cid(), **MEETING), InvalidInput, code, field)
    assert app.adjustment(adj).status == "pending"


def test_deciding_an_unknown_or_foreign_adjustment_is_not_found(app, pending):
    key, adj = pending
    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        refused(app, lambda: app.decide_adjustment(key, bad, "approve", "", COM, cid(), **MEETING), NotFound, "adjustment_not_found", "adjustment")
    small_cycle(app, "setup", key="other")
    refused(app, lambda: app.decide_adjustment("other", adj, "approve", "", COM, cid(), **MEETING), NotFound, "adjustment_not_found", "adjustment")


def test_an_adjustment_is_decided_once(app, pending):
    key, adj = pending
    confirmed(app, key, app.decide_adjustment(key, adj, "approve", "", COM, cid(), **MEETING))
    refused(app, lambda: app.decide_adjustment(key, adj, "reject", "改变主意", COM2, cid(), **MEETING), Conflict, "already_decided", "adjustment")


def test_closing_adjustments_with_one_undecided_is_refused(app, pending):
    key, _ = pending
    refused(app, lambda: app.close_stage(key, "adjustments", ORG, cid()), Conflict, "adjustments_pending", "stage")


# ================================================================ allocation


@pytest.fixture
def tie_cycle(app) -> str:
    """U1 and U2 tied at the quota boundary.

    Both units: scores 6 + 4 → W = round2(100 × 10 / 10) = 100.00; three ballots of 90 each
    (3 < trim_min_ballots 5: no trim) → D = 90.00; C = round2(0.7 × 100 + 0.3 × 90) = 70 + 27
    = 97.00; no bonus → F = 97.00. Equal on (F, D, W), both ≥ 90, not downgraded → both
    eligible. n = 2 → q = floor(0.5 × 2) = 1 place for two equal units: a tie over 1 place.
    """
    same = {"1.1.1": "6", "1.1.2": "4"}
    ninety = {"U1": "90", "U2": "90"}
    return small_cycle(app, "allocation", scores={"U1": same, "U2": same}, ballots={"R1": ninety, "R2": ninety, "R3": ninety})


def test_the_tie_at_the_quota_boundary_must_be_resolved_before_approval(app, tie_cycle):
    key = tie_cycle
    alloc = app.allocation(key).cohorts[COHORT]
    assert (alloc.n, alloc.quota) == (2, 1)
    assert (alloc.tie.candidates, alloc.tie.places) == (("U1", "U2"), 1)
    assert [(g.unit, g.rank, g.grade) for g in alloc.units] == [("U1", 1, None), ("U2", 1, None)]
    refused(app, lambda: app.approve_allocation(key, "同意", COM, cid(), **MEETING), Conflict, "allocation_not_approvable", "allocation")
    tie = lambda cohort, units: (lambda: app.resolve_tie(key, cohort, units, "党委会研究", COM, cid(), **MEETING))  # noqa: E731
    for units in (["U1", "U2"], []):  # one place: exactly one unit
        refused(app, tie(COHORT, units), InvalidInput, "wrong_tie_count", "ties")
    refused(app, tie(COHORT, ["U3"]), InvalidInput, "not_in_tie", "ties")
    refused(app, tie("organ_committee", ["U1"]), InvalidInput, "unknown_cohort", "ties")
    refused(app, tie(COHORT, "U1"), InvalidInput, "invalid_units", "units")

    before = head(app)
    assert confirmed(app, key, app.resolve_tie(key, COHORT, ["U1"], "党委会研究", COM, cid(), **MEETING)).data["problems"] == []
    assert names(app, before) == ["Cycle.DecisionProposed", "Cycle.DecisionConfirmed", "Cycle.TieResolved"]
    # U1 holds the one place (q = 1); U2 (97.00 ≥ 90, beyond the quota → good) cannot be made
    # excellent as well: 2 excellent > q = 1.
    refused(app, lambda: app.override_grade(key, "U2", "excellent", "党委会研究", COM, cid(), **MEETING), Conflict, "override_beyond_quota", "grade")
    results = confirmed(app, key, app.approve_allocation(key, "同意", COM, cid(), **MEETING)).data["results"]
    assert {u: (r["final_score"], r["rank"], r["grade"]) for u, r in results["units"].items()} == {
        "U1": ("97.00", 1, "excellent"), "U2": ("97.00", 1, "good"),
    }


@pytest.fixture
def downgraded(app) -> str:
    """Allocation stage; U1 has an approved one-level downgrade.

    U1: W = 100 × (6 + 3.5) / 10 = 95.00, D = mean(95, 93, 91) = 93.00, F = 66.50 + 27.90 =
    94.40 ≥ 90 → base excellent by thresholds alone (no quota place), one level down → good.
    U2: W = 80.00, D = mean(85, 83, 81) = 83.00, F = 56.00 + 24.90 = 80.90 → good. No tie.
    """
    key = small_cycle(app, "adjustments")
    adj = propose(app, key, "U1", "downgrade", levels=1, reason="巡视指出问题")
    confirmed(app, key, app.decide_adjustment(key, adj, "approve", "", COM, cid(), **MEETING))
    app.close_stage(key, "adjustments", ORG, cid())
    return key


def test_the_downgraded_allocation_is_as_worked_by_hand(app, downgraded):
    g = {x.unit: (x.base_grade, x.grade, str(x.score.final_score)) for x in app.allocation(downgraded).cohorts[COHORT].units}
    assert g == {"U1": ("excellent", "good", "94.40"), "U2": ("good", "good", "80.90")}


def test_an_override_to_excellent_for_a_downgraded_unit_is_refused(app, downgraded):
    # Nobody is excellent, so the quota (1) is not what stops it: a downgraded unit is never excellent (§5.7).
    refused(app, lambda: app.override_grade(downgraded, "U1", "excellent", "党委会研究", COM, cid(), **MEETING), Conflict,
            "override_excellent_penalised", "grade")


def test_resolving_a_tie_where_there_is_none_is_refused(app, downgraded):
    refused(app, lambda: app.resolve_tie(downgraded, COHORT, ["U1"], "党委会研究", COM, cid(), **MEETING), Conflict, "no_tie_to_resolve", "ties")


@pytest.mark.parametrize(
    ("unit", "grade", "reason", "code", "field"),
    [
        ("U2", "outstanding", "x", "unknown_grade", "grade"),
        ("U2", "average", " ", "reason_required", "reason"),
        ("U9", "average", "x", "unknown_unit", "unit"),
    ],
    ids=["unknown-grade", "blank-reason", "unknown-unit"],
)
def test_a_bad_override_is_refused(app, downgraded, unit, grade, reason, code, field):
    refused(app, lambda: app.override_grade(downgraded, unit, grade, reason, COM, cid(), **MEETING), InvalidInput, code, field)


def test_rejecting_the_allocation_needs_a_reason(app, downgraded):
    for reason in ("", "   ", None):
        refused(app, lambda: app.reject_allocation(downgraded, reason, COM, cid(), **MEETING), InvalidInput, "reason_required", "reason")


def test_allocation_decisions_before_their_stage_are_refused(app):
    key = small_cycle(app, "self_review")
    for call in (
        lambda: app.approve_allocation(key, "同意", COM, cid(), **MEETING),
        lambda: app.reject_allocation(key, "退回", COM, cid(), **MEETING),
        lambda: app.resolve_tie(key, COHORT, ["U1"], "x", COM, cid(), **MEETING),
        lambda: app.override_grade(key, "U1", "good", "x", COM, cid(), **MEETING),
    ):
        refused(app, call, Conflict, "stage_not_open", "stage")


# ================================================================ feedback, the end, rectification


def test_feedback_before_its_stage_is_refused(app):
    key = small_cycle(app, "self_review")
    refused(app, lambda: app.issue_feedback(key, "U1", "反馈", ORG, cid()), Conflict, "stage_not_open", "stage")
    refused(app, lambda: app.edit_feedback_draft(key, "U1", "反馈", ORG, cid()), Conflict, "stage_not_open", "stage")
    refused(app, lambda: app.acknowledge_feedback(key, "U1", U1, cid()), Conflict, "feedback_not_issued", "unit")
    refused(app, lambda: app.close_cycle(key, "", ORG, cid()), Conflict, "stage_not_open", "stage")


def test_feedback_is_issued_and_acknowledged_once(app):
    key = small_cycle(app, "published")
    app.issue_feedback(key, "U1", "U1：成绩与问题", ORG, cid())
    refused(app, lambda: app.issue_feedback(key, "U1", "再发一次", ORG, cid()), Conflict, "feedback_already_issued", "unit")
    app.acknowledge_feedback(key, "U1", U1, cid())
    refused(app, lambda: app.acknowledge_feedback(key, "U1", U1, cid()), Conflict, "already_acknowledged", "unit")


def test_the_special_report_waits_for_published_results(app):
    key = small_cycle(app, "allocation")
    refused(app, lambda: app.set_report_suggestions(key, "建议", ORG, cid()), Conflict, "results_not_published", "cycle")
    refused(app, lambda: app.create_rectification(key, "U1", None, "问题", None, ORG, cid()), Conflict, "results_not_published", "cycle")


@pytest.fixture
def item(app) -> tuple[str, str]:
    key = small_cycle(app, "published")
    out = app.create_rectification(key, "U1", "1.1.2", "会议记录不全", None, ORG, cid())
    return key, out.data["items"][0]["id"]


@pytest.mark.parametrize(
    ("unit", "point", "description", "deadline", "code", "field"),
    [
        ("U9", None, "问题", None, "unknown_unit", "unit"),
        ("U1", "9.9.9", "问题", None, "unknown_point", "point"),
        ("U1", None, "  ", None, "name_required", "description"),
        ("U1", None, "问" * 2001, None, "too_long", "description"),
        ("U1", None, "问题", PAST, "deadline_in_past", "deadline"),
    ],
    ids=["unknown-unit", "unknown-point", "blank", "2001-chars", "past-deadline"],
)
def test_a_bad_rectification_item_is_refused(app, unit, point, description, deadline, code, field):
    key = small_cycle(app, "published")
    refused(app, lambda: app.create_rectification(key, unit, point, description, deadline, ORG, cid()), InvalidInput, code, field)


def test_reports_on_an_item_are_checked(app, item):
    _, it = item
    report = lambda text, att=None, final=False, actor=U1: (  # noqa: E731
        lambda: app.report_rectification(it, text, att, actor, cid(), final=final))
    refused(app, report(" "), InvalidInput, "name_required", "text")
    refused(app, report("进展", "file"), InvalidInput, "invalid_attachments", "attachments")
    refused(app, report("进展", [{"sha256": "xyz", "size": 1}]), InvalidInput, "invalid_attachment_hash", "attachments[0].sha256")
    refused(app, report("进展", [{"sha256": "a" * 64, "size": -1}]), InvalidInput, "invalid_attachments", "attachments[0].size")
    refused(app, lambda: app.verify_rectification(it, "approve", "", ORG, cid()), Conflict, "item_not_submitted", "item")
    refused(app, lambda: app.report_rectification(str(uuid.uuid4()), "x", None, U1, cid()), NotFound, "item_not_found", "item")
    app.submit_rectification(it, "已完成", [{"sha256": "a" * 64, "size": 10, "name": "记录.pdf"}], U1, cid())
    refused(app, report("还有进展"), Conflict, "item_not_open", "item")
    refused(app, lambda: app.verify_rectification(it, "maybe", "", ORG, cid()), InvalidInput, "invalid_decision", "decision")
    refused(app, lambda: app.verify_rectification(it, "reject", "", ORG, cid()), InvalidInput, "reason_required", "reason")
    app.verify_rectification(it, "approve", "", ORG, cid())
    assert app.rectification(it).status == "closed"


# ================================================================ every bad point at once


def test_a_sheet_with_several_bad_points_names_every_one_of_them(app):
    """Three bad values (and the rest missing) in one self-review: one refusal naming the first,
    with every bad or missing point in ``errors`` (the page shows each beside its field)."""
    key = small_cycle(app, "self_review")
    err = refused(app, lambda: app.submit_self_review(key, "U1", {"1.1.1": "abc", "1.1.2": "-1"}, None, U1, cid()),
                  InvalidInput, "not_a_number", "scores.1.1.1")
    assert [(e.code, e.field) for e in err.errors] == [("not_a_number", "scores.1.1.1"), ("score_out_of_range", "scores.1.1.2")]
    assert err.to_dict()["errors"][1] == {"code": "score_out_of_range", "field": "scores.1.1.2",
                                          "message": "要点 1.1.2 得分 -1 超出范围 0–4 / score must be within 0..4",
                                          "message_zh": "要点 1.1.2 得分 -1 超出范围 0–4", "message_en": "score must be within 0..4"}
    # A missing point is named beside itself too; the summary stays the first message.
    err = refused(app, lambda: app.submit_self_review(key, "U1", {"1.1.2": "9"}, None, U1, cid()),
                  InvalidInput, "score_out_of_range", "scores.1.1.2")
    assert [(e.code, e.field) for e in err.errors] == [("score_out_of_range", "scores.1.1.2"), ("missing_points", "scores.1.1.1")]
    # SPEC §4 reads inputs as exact decimals: three places are a score like any other.
    app.submit_self_review(key, "U1", {"1.1.1": "3.255", "1.1.2": "3"}, None, U1, cid())


def test_a_scoring_sheet_names_bad_scores_and_missing_reasons_at_once(app):
    key = small_cycle(app, "scoring")
    err = refused(app, lambda: app.submit_scoring(key, "U1", {"1.1.1": "7", "1.1.2": None}, None, None, EVA, cid()),
                  InvalidInput, "score_out_of_range", "scores.1.1.1")
    assert [(e.code, e.field) for e in err.errors] == [("score_out_of_range", "scores.1.1.1"), ("na_reason_required", "na_reasons.1.1.2")]
