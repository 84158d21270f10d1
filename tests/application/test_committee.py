"""The committee decides as a body (SPEC §1), on the POPO store: a decision is proposed at a
meeting, takes effect only when ``committee_quorum`` distinct members have confirmed it with no
objection; a member attached to a unit neither proposes nor confirms what concerns it; too few
eligible members is refused at once, naming the unit.

The small cycle (``tests.walk``): U1 F = 94.40 (excellent, the one place q = floor(0.5 × 2) = 1),
U2 F = 80.90 (good)."""

from __future__ import annotations

import pytest

from domain import rules
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.rules import Actor
from tests.walk import COHORT, COM, COM2, COM_U1, MEETING, ORG, cid, confirmed, create, head, names, propose, refused, small_cycle

COM3 = Actor("com3", "committee")
COM_U2 = Actor("com-u2", "committee", "U2")
ROSTER = {"com": None, "com2": None, "com-u1": "U1"}


def test_an_adjustment_takes_effect_only_when_the_second_member_confirms(app):
    key = small_cycle(app, "adjustments")
    adj = propose(app, key, "U1", "bonus", points="1", reason="获评先进")
    before = head(app)
    out = app.decide_adjustment(key, adj, "approve", "属实", COM, cid(), **MEETING, members=ROSTER)
    assert names(app, before) == ["Adjustment.DecisionProposed"]
    assert (out.data["effective"], out.data["confirmed_by"], out.data["quorum"]) == (False, ["com"], 2)
    assert app.adjustment(adj).status == "pending"
    p = app.proposals(key)[0]
    assert (p["meeting_date"], p["minute_number"], p["status"], p["missing"]) == ("2026-03-20", "党委会〔2026〕3号", "pending", 1)
    # the proposer's proposal was their confirmation: a second one by them is refused
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], COM, cid()), Conflict, "already_confirmed", "proposal")
    # a member attached to U1 cannot confirm U1's adjustment
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], COM_U1, cid()), Forbidden, "attached_to_unit")
    done = app.confirm_decision(key, out.data["proposal"], COM2, cid())
    assert done.data["effective"] and done.data["effect"] == "adjustment"
    assert names(app, before) == ["Adjustment.DecisionProposed", "Adjustment.DecisionConfirmed", "Adjustment.AdjustmentApproved"]
    assert app.adjustment(adj).status == "approved"
    # now it is not pending: another confirmation is refused
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], COM3, cid()), Conflict, "proposal_not_pending", "proposal")


def test_an_objection_ends_the_proposal_and_a_new_one_may_follow(app):
    key = small_cycle(app, "adjustments")
    adj = propose(app, key, "U2", "downgrade", levels=1, reason="巡视指出问题")
    first = app.decide_adjustment(key, adj, "approve", "属实", COM, cid(), **MEETING).data["proposal"]
    # a second proposal while one is pending is refused
    refused(app, lambda: app.decide_adjustment(key, adj, "reject", "不属实", COM2, cid(), **MEETING), Conflict, "proposal_pending", "proposal")
    refused(app, lambda: app.object_decision(key, first, " ", COM2, cid()), InvalidInput, "reason_required", "reason")
    app.object_decision(key, first, "证据不足", COM2, cid())
    assert app.adjustment(adj).status == "pending"
    refused(app, lambda: app.confirm_decision(key, first, COM3, cid()), Conflict, "proposal_not_pending", "proposal")
    second = app.decide_adjustment(key, adj, "reject", "证据不足", COM2, cid(), **MEETING)
    confirmed(app, key, second, COM3)
    assert app.adjustment(adj).status == "rejected"
    assert [p["status"] for p in app.proposals(key)] == ["objected", "adopted"]


@pytest.mark.parametrize(
    ("meeting", "code", "field"),
    [
        ({}, "meeting_date_required", "meeting_date"),
        ({"meeting_date": "2026-02-30", "minute_number": "3"}, "invalid_meeting_date", "meeting_date"),
        ({"meeting_date": "20.3.2026", "minute_number": "3"}, "invalid_meeting_date", "meeting_date"),
        ({"meeting_date": 20260320, "minute_number": "3"}, "invalid_meeting_date", "meeting_date"),
        ({"meeting_date": "2026-03-20"}, "minute_number_required", "minute_number"),
        ({"meeting_date": "2026-03-20", "minute_number": "  "}, "minute_number_required", "minute_number"),
        ({"meeting_date": "2026-03-20", "minute_number": "x" * 41}, "invalid_minute_number", "minute_number"),
        ({"meeting_date": "2026-03-20", "minute_number": ["3"]}, "invalid_minute_number", "minute_number"),
    ],
)
def test_a_missing_or_malformed_meeting_is_refused(app, meeting, code, field):
    key = small_cycle(app, "allocation")
    adj_key = small_cycle(app, "adjustments", key="c2")
    adj = propose(app, adj_key, "U1", "bonus", points="1")
    for call in (
        lambda: app.decide_adjustment(adj_key, adj, "approve", "属实", COM, cid(), **meeting),
        lambda: app.override_grade(key, "U2", "average", "党委会研究", COM, cid(), **meeting),
        lambda: app.approve_allocation(key, "同意", COM, cid(), **meeting),
        lambda: app.reject_allocation(key, "请复核", COM, cid(), **meeting),
    ):
        refused(app, call, InvalidInput, code, field)


def test_a_minute_number_may_be_a_whole_number():
    assert rules.parse_meeting(" 2026-03-20 ", 7) == ("2026-03-20", "7")


def test_fewer_eligible_members_than_the_quorum_is_refused_at_once_naming_the_unit(app):
    key = small_cycle(app, "adjustments")
    adj = propose(app, key, "U1", "bonus", points="1")
    # com and com-u1 only: for U1's adjustment one member (com) may decide, the quorum is 2
    err = refused(app, lambda: app.decide_adjustment(key, adj, "approve", "属实", COM, cid(), **MEETING,
                                                     members={"com": None, "com-u1": "U1"}),
                  Conflict, "quorum_unreachable", "committee")
    assert "U1" in err.message and "1" in err.message and "2" in err.message
    # for U2's, both may: accepted
    other = propose(app, key, "U2", "bonus", points="1")
    app.decide_adjustment(key, other, "approve", "属实", COM, cid(), **MEETING, members={"com": None, "com-u1": "U1"})


def test_the_approval_of_the_allocation_concerns_every_cohort(app):
    key = small_cycle(app, "allocation")
    # the member attached to U1 may not propose or confirm the approval
    refused(app, lambda: app.approve_allocation(key, "同意", COM_U1, cid(), **MEETING), Forbidden, "attached_to_unit")
    refused(app, lambda: app.approve_allocation(key, "同意", COM, cid(), **MEETING, members={"com": None, "com-u1": "U1", "com-u2": "U2"}),
            Conflict, "quorum_unreachable", "committee")
    out = app.approve_allocation(key, "同意", COM, cid(), **MEETING, members=ROSTER)
    assert app.cycle(key).status == "open" and app.cycle(key).results is None  # not yet in effect
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], COM_U1, cid()), Forbidden, "attached_to_unit")
    refused(app, lambda: app.object_decision(key, out.data["proposal"], "不同意", COM_U1, cid()), Forbidden, "attached_to_unit")
    # while the approval is pending, no override may be proposed
    refused(app, lambda: app.override_grade(key, "U2", "average", "党委会研究", COM2, cid(), **MEETING), Conflict, "proposal_pending", "proposal")
    done = app.confirm_decision(key, out.data["proposal"], COM2, cid())
    assert done.data["effective"] and done.data["results"]["units"]["U1"]["grade"] == "excellent"
    assert app.cycle(key).status == "published"


def test_an_override_needs_the_quorum_and_abstains_the_attached_member(app):
    key = small_cycle(app, "allocation")
    refused(app, lambda: app.override_grade(key, "U1", "good", "党委会研究", COM_U1, cid(), **MEETING), Forbidden, "attached_to_unit")
    out = app.override_grade(key, "U1", "good", "党委会研究", COM, cid(), **MEETING)
    assert app.cycle(key).overrides == {}
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], COM_U1, cid()), Forbidden, "attached_to_unit")
    confirmed(app, key, out)
    assert app.cycle(key).overrides == {"U1": {"grade": "good", "reason": "党委会研究"}}


def test_a_tie_concerns_every_unit_in_it(app):
    same, ninety = {"1.1.1": "6", "1.1.2": "4"}, {"U1": "90", "U2": "90"}
    key = small_cycle(app, "allocation", scores={"U1": same, "U2": same}, ballots={r: ninety for r in ("R1", "R2", "R3")})
    # the member attached to U1 may not resolve the tie even in favour of U2: U1 is part of it
    refused(app, lambda: app.resolve_tie(key, COHORT, ["U2"], "党委会研究", COM_U1, cid(), **MEETING), Forbidden, "attached_to_unit")
    out = app.resolve_tie(key, COHORT, ["U2"], "党委会研究", COM, cid(), **MEETING)
    assert app.cycle(key).ties == {}
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], COM_U2, cid()), Forbidden, "attached_to_unit")
    confirmed(app, key, out)
    assert app.cycle(key).ties == {COHORT: ["U2"]}


def test_rejecting_the_allocation_takes_effect_with_the_quorum(app):
    key = small_cycle(app, "allocation")
    out = app.reject_allocation(key, "请复核", COM, cid(), **MEETING)
    assert app.cycle(key).stages["allocation"] == "open"
    confirmed(app, key, out)
    assert app.cycle(key).stages["allocation"] != "open"


def test_the_quorum_is_the_policys(app):
    create(app, "q3", policy={"committee_quorum": 3})
    create(app, "q1", policy={"committee_quorum": 1})
    assert (rules.committee_quorum(app.cycle("q3").policy), rules.committee_quorum(app.cycle("q1").policy)) == (3, 1)
    assert not rules.quorum_reached(["a", "b"], 3) and rules.quorum_reached(["a"], 1)


def test_confirming_something_unknown_is_not_found(app):
    key = small_cycle(app, "allocation")
    refused(app, lambda: app.confirm_decision(key, "no-such-proposal", COM, cid()), NotFound, "proposal_not_found", "proposal")
    refused(app, lambda: app.object_decision(key, "no-such-proposal", "x", COM, cid()), NotFound, "proposal_not_found", "proposal")


def test_only_the_committee_confirms(app):
    key = small_cycle(app, "allocation")
    out = app.approve_allocation(key, "同意", COM, cid(), **MEETING)
    refused(app, lambda: app.confirm_decision(key, out.data["proposal"], ORG, cid()), Forbidden, "wrong_role")


def test_a_retried_confirmation_stores_nothing_twice(app):
    key = small_cycle(app, "allocation")
    out = app.override_grade(key, "U2", "average", "党委会研究", COM, cid(), **MEETING)
    command = cid()
    first = app.confirm_decision(key, out.data["proposal"], COM2, command)
    position = head(app)
    again = app.confirm_decision(key, out.data["proposal"], COM2, command)
    assert head(app) == position and again.position is None and again.data["effective"] == first.data["effective"] is True


def test_the_rules_are_pure():
    p = {"status": "pending", "concerns": ["U1"], "confirmed_by": ["com"]}
    assert rules.may_confirm(COM2, p) and not rules.may_confirm(COM, p) and not rules.may_confirm(COM_U1, p)
    assert rules.eligible_members({"a": None, "b": "U1", "c": "U2"}, ["U1"]) == ["a", "c"]
    assert not rules.quorum_reached(["a", "a"], 2) and rules.quorum_reached(["a", "b"], 2)
