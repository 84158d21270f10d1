"""The debrief's roster (SPEC §1 "Roster") and turnout, on the in-memory store: who may cast,
in which category, who registers the roster and when, and a close below ``min_turnout``."""

from __future__ import annotations

from domain.errors import Conflict, Forbidden, InvalidInput
from domain.rules import Actor
from tests.helpers import TINY_SCHEME
from tests.walk import COHORT, ORG, R1, R2, R3, cid, create, refused, set_roster, small_cycle

R4 = Actor("R4", "representative")


def to_debrief(app, key: str = "t", policy=None, categories=None) -> str:
    create(app, key, policy=policy, categories=categories)
    app.open_cycle(key, ORG, cid())
    app.open_stage(key, "debrief", ORG, cid())
    return key


def test_a_session_without_a_roster_admits_no_sheet(app):
    key = to_debrief(app)
    err = refused(app, lambda: app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid()), Forbidden, "not_on_roster", "representative")
    assert "R1" in err.message and err.message.index("R1") < err.message.index(" / ")  # named, Chinese first


def test_an_off_roster_representative_is_refused_naming_them(app):
    key = small_cycle(app, "debrief")  # R1..R3 rostered
    err = refused(app, lambda: app.cast_ballot(key, COHORT, "R4", None, {"U1": "90", "U2": None}, R4, cid()), Forbidden, "not_on_roster", "representative")
    assert "代表 R4" in err.message and "representative R4" in err.message
    assert app.sheet(key, COHORT, "R4") is None


def test_the_roster_can_be_set_before_the_session_opens_and_holds_after(app):
    key = create(app, "early")  # setup: no session yet
    set_roster(app, key, ["R1"])
    app.open_cycle(key, ORG, cid())
    app.open_stage(key, "debrief", ORG, cid())
    assert app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid()).data["category"] == "representatives"
    refused(app, lambda: app.cast_ballot(key, COHORT, "R2", None, {"U1": "90", "U2": None}, R2, cid()), Forbidden, "not_on_roster", "representative")


def test_a_roster_change_while_open_admits_the_newcomer(app):
    key = small_cycle(app, "debrief")
    set_roster(app, key, ["R1", "R2", "R3", "R4"])
    assert app.cast_ballot(key, COHORT, "R4", None, {"U1": "90", "U2": None}, R4, cid()).data["representative"] == "R4"


def test_bad_rosters_are_refused_and_store_nothing(app):
    key = to_debrief(app, categories={"leaders": "0.6", "staff": "0.4"})
    put = lambda rosters: lambda: app.set_rosters(key, rosters, ORG, cid())  # noqa: E731
    refused(app, put({"nonesuch": [{"representative": "R1", "category": "leaders"}]}), InvalidInput, "unknown_cohort", "cohort")
    refused(app, put({COHORT: [{"representative": "R1", "category": "heads"}]}), InvalidInput, "unknown_category", "roster[0].category")
    refused(app, put({COHORT: [{"representative": "R1", "category": "leaders"}, {"representative": "R1", "category": "staff"}]}),
            InvalidInput, "duplicate_representative", "roster[1].representative")
    refused(app, put({COHORT: [{"representative": "R1"}]}), InvalidInput, "category_required", "roster[0].category")
    # a good cohort beside an unknown one: nothing of either is stored
    refused(app, put({COHORT: [{"representative": "R1", "category": "leaders"}], "zz": []}), InvalidInput, "unknown_cohort", "cohort")
    assert app.roster(key, COHORT) is None
    refused(app, lambda: app.set_rosters(key, {COHORT: []}, R1, cid()), Forbidden, "wrong_role")


def test_a_representative_who_has_cast_stays_on_the_roster(app):
    key = small_cycle(app, "debrief")
    app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid())
    refused(app, lambda: set_roster(app, key, ["R2", "R3"]), Conflict, "representative_has_cast", "roster")
    assert sorted(app.roster_of(key, COHORT)) == ["R1", "R2", "R3"]


def test_the_roster_is_final_once_the_session_closed(app):
    key = small_cycle(app, "adjustments")
    refused(app, lambda: set_roster(app, key, ["R1", "R2", "R3", "R4"]), Conflict, "session_closed", "cohort")


def test_closing_below_the_minimum_turnout_needs_a_reason(app):
    # min_turnout 0.75; 4 rostered, 2 cast: turnout 2/4 = 0.5 < 0.75.
    key = to_debrief(app, policy={"min_turnout": "0.75"})
    set_roster(app, key, ["R1", "R2", "R3", "R4"])
    for rep in (R1, R2):
        app.cast_ballot(key, COHORT, rep.user, None, {"U1": "90", "U2": None}, rep, cid())
    err = refused(app, lambda: app.close_session(key, COHORT, ORG, cid()), InvalidInput, "turnout_below_minimum", "reason")
    assert "2/4" in err.message
    refused(app, lambda: app.close_session(key, COHORT, ORG, cid(), "  "), InvalidInput, "turnout_below_minimum", "reason")
    refused(app, lambda: app.close_stage(key, "debrief", ORG, cid()), InvalidInput, "turnout_below_minimum", "reason")
    assert app.session(key, COHORT).is_open
    out = app.close_session(key, COHORT, ORG, cid(), "两名代表因公出差 / two on business trips")
    assert (out.data["ballots"], out.data["rostered"]) == (2, 4)
    s = app.session(key, COHORT)
    assert (s.is_closed, s.rostered, s.close_reason) == (True, 4, "两名代表因公出差 / two on business trips")


def test_closing_at_the_minimum_turnout_needs_no_reason(app):
    # 3 of 4 cast: 3/4 = 0.75, not below 0.75.
    key = to_debrief(app, policy={"min_turnout": "0.75"})
    set_roster(app, key, ["R1", "R2", "R3", "R4"])
    for rep in (R1, R2, R3):
        app.cast_ballot(key, COHORT, rep.user, None, {"U1": "90", "U2": None}, rep, cid())
    out = app.close_session(key, COHORT, ORG, cid())
    assert (out.data["ballots"], out.data["rostered"], app.session(key, COHORT).close_reason) == (3, 4, None)


def test_closing_the_stage_closes_no_session_when_one_is_below_the_minimum(app):
    # Two cohorts, min_turnout 0.5. grassroots: 1 of 1 cast (1.0); organ: 0 of 2 cast (0.0 < 0.5).
    organ = "organ_committee"
    create(app, "two", policy={"min_turnout": "0.5"}, schemes={COHORT: TINY_SCHEME, organ: TINY_SCHEME},
           units={"U1": COHORT, "U2": organ})
    app.open_cycle("two", ORG, cid())
    app.open_stage("two", "debrief", ORG, cid())
    set_roster(app, "two", ["R1"])
    set_roster(app, "two", ["R2", "R3"], cohort=organ)
    app.cast_ballot("two", COHORT, "R1", None, {"U1": "90"}, R1, cid())
    err = refused(app, lambda: app.close_stage("two", "debrief", ORG, cid()), InvalidInput, "turnout_below_minimum", "reason")
    assert "机关党委" in err.zh and "0/2" in err.zh and organ not in err.zh  # the cohort by name (issue 11)
    assert app.session("two", COHORT).is_open  # not cut off either: all or none
