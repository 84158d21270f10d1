"""Evaluators are assigned (SPEC §1 "Evaluators"; ``domain.rules.check_assignment``,
``check_evaluator_for``): by default every evaluator scores every unit; once the organizer
assigns a unit's evaluators only they may score it; an evaluator never scores — and is never
assigned to — the unit they belong to. Each refusal names the evaluator and the unit and
stores nothing."""

from __future__ import annotations

from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.rules import Actor
from tests.walk import EVA, ORG, SCORES, cid, events, head, refused, small_cycle

EVB = Actor("evb", "evaluator")
EVA_U1 = Actor("eva-u1", "evaluator", "U1")  # an evaluator who belongs to unit U1
KNOWN = {"eva": None, "evb": None, "eva-u1": "U1"}


def assign(app, unit, evaluators, actor=ORG, key="c1"):
    return app.assign_evaluators(key, unit, evaluators, KNOWN, actor, cid("assign"))


def score(app, unit, actor, key="c1"):
    return app.submit_scoring(key, unit, SCORES[unit], None, None, actor, cid("score"))


def test_by_default_every_evaluator_scores_every_unit(app):
    small_cycle(app, "scoring")
    score(app, "U1", EVA)
    score(app, "U2", EVB)
    assert app.cycle("c1").evaluators_of("U1") is None


def test_an_assigned_unit_is_scored_by_its_evaluators_only(app):
    small_cycle(app, "scoring")
    out = assign(app, "U1", ["evb", "evb"])
    assert out.data == {"unit": "U1", "evaluators": ["evb"], "stages": out.data["stages"], "status": "open",
                        "deadlines": out.data["deadlines"]}
    (e,) = [x for x in events(app) if type(x).__qualname__ == "Cycle.EvaluatorsAssigned"]
    assert (e.unit, e.evaluators, e.previous, e.actor, e.role) == ("U1", ["evb"], None, "org", "organizer")
    err = refused(app, lambda: score(app, "U1", EVA), Forbidden, "not_assigned", "unit")
    assert "eva" in err.message and "U1" in err.message
    score(app, "U1", EVB)
    score(app, "U2", EVA)  # U2 has no assignment: anyone


def test_an_empty_list_gives_the_unit_back_to_every_evaluator(app):
    small_cycle(app, "scoring")
    assign(app, "U1", ["evb"])
    assign(app, "U1", [])
    (_, back) = [x for x in events(app) if type(x).__qualname__ == "Cycle.EvaluatorsAssigned"]
    assert back.previous == ["evb"] and back.evaluators == []
    score(app, "U1", EVA)


def test_an_evaluator_never_scores_their_own_unit(app):
    small_cycle(app, "scoring")
    err = refused(app, lambda: score(app, "U1", EVA_U1), Forbidden, "own_unit", "unit")
    assert "eva-u1" in err.message and "U1" in err.message
    score(app, "U2", EVA_U1)


def test_an_evaluator_is_not_assigned_to_their_own_unit(app):
    small_cycle(app, "self_review")
    err = refused(app, lambda: assign(app, "U1", ["eva", "eva-u1"]), Conflict, "own_unit", "evaluators[1]")
    assert "eva-u1" in err.message and "U1" in err.message
    assign(app, "U2", ["eva-u1"])


def test_an_unknown_evaluator_or_unit_is_refused(app):
    small_cycle(app, "self_review")
    err = refused(app, lambda: assign(app, "U1", ["eva", "nobody"]), InvalidInput, "unknown_evaluator", "evaluators[1]")
    assert "nobody" in err.message and "U1" in err.message
    err = refused(app, lambda: assign(app, "U9", ["eva"]), NotFound, "unit_not_found", "unit")
    assert "U9" in err.message
    refused(app, lambda: assign(app, "U1", "eva"), InvalidInput, "invalid_evaluators", "evaluators")


def test_assignments_stop_when_scoring_closes(app):
    small_cycle(app, "debrief")
    refused(app, lambda: assign(app, "U1", ["eva"]), Conflict, "stage_closed", "stage")


def test_a_retried_assignment_stores_nothing_twice(app):
    small_cycle(app, "self_review")
    first = app.assign_evaluators("c1", "U1", ["eva"], KNOWN, ORG, "test/assign/same")
    before = head(app)
    again = app.assign_evaluators("c1", "U1", ["eva"], KNOWN, ORG, "test/assign/same")
    assert first.position is not None and again.position is None and head(app) == before
