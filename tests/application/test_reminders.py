"""The organizer's reminder (催办) of a unit: an event on the unit (who, which unit, which step,
when), only for a step the unit has not taken, once per command id."""

from __future__ import annotations

from domain.errors import Conflict, Forbidden, InvalidInput
from tests.walk import EVA, ORG, SELF_REVIEW, U1, cid, events, head, names, refused, small_cycle


def test_a_reminder_records_who_which_unit_which_step_and_when(app):
    key = small_cycle(app, "self_review")
    before = head(app)
    out = app.remind_unit(key, "U1", "self_review", "  请于本周五前提交  ", 0, ORG, "org/batch-1:U1")
    assert names(app, before) == ["UnitAssessment.UnitReminded"]
    e = events(app, before)[0]
    assert (e.stage, e.note, e.actor, e.role, e.command_id) == ("self_review", "请于本周五前提交", "org", "organizer", "org/batch-1:U1")
    assert e.timestamp is not None and out.position == head(app)
    assert out.data == {"unit": "U1", "stage": "self_review"}


def test_the_same_reminder_sent_again_is_stored_once(app):
    key = small_cycle(app, "self_review")
    app.remind_unit(key, "U1", "self_review", "", 0, ORG, "org/batch-1:U1")
    middle = head(app)
    again = app.remind_unit(key, "U1", "self_review", "", 0, ORG, "org/batch-1:U1")
    assert head(app) == middle and again.position is None
    app.remind_unit(key, "U1", "self_review", "", 0, ORG, "org/batch-2:U1")  # a new reminder is a new event
    assert names(app, middle) == ["UnitAssessment.UnitReminded"]


def test_only_a_step_the_unit_has_not_taken_is_reminded(app):
    key = small_cycle(app, "self_review")
    app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, cid())
    refused(app, lambda: app.remind_unit(key, "U1", "self_review", "", 0, ORG, cid()), Conflict, "nothing_to_remind", "unit")
    refused(app, lambda: app.remind_unit(key, "U2", "feedback", "", 0, ORG, cid()), Conflict, "nothing_to_remind", "unit")
    refused(app, lambda: app.remind_unit(key, "U2", "rectification", "", 0, ORG, cid()), Conflict, "nothing_to_remind", "unit")
    refused(app, lambda: app.remind_unit(key, "U2", "scoring", "", 0, ORG, cid()), InvalidInput, "stage_not_remindable", "stage")
    refused(app, lambda: app.remind_unit(key, "U2", "self_review", "", 0, EVA, cid()), Forbidden, "wrong_role")
    app.remind_unit(key, "U2", "self_review", "", 0, ORG, cid())  # U2 has not submitted


def test_feedback_and_rectification_are_reminded_while_the_unit_owes_them(app):
    key = small_cycle(app, "published")
    refused(app, lambda: app.remind_unit(key, "U1", "self_review", "", 0, ORG, cid()), Conflict, "stage_not_open", "stage")
    app.issue_feedback(key, "U1", "反馈", ORG, cid())
    app.remind_unit(key, "U1", "feedback", "", 0, ORG, cid())
    app.remind_unit(key, "U1", "rectification", "", 2, ORG, cid())  # two items wait for the unit
    app.acknowledge_feedback(key, "U1", U1, cid())
    refused(app, lambda: app.remind_unit(key, "U1", "feedback", "", 0, ORG, cid()), Conflict, "nothing_to_remind", "unit")
