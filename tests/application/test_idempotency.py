"""SPEC §6 "a retried command stores nothing twice": every write use case called twice with one
command id stores its events once and answers the retry without an error — also when the state
has moved on since, so that an activity or an HTTP client may retry at any time."""

from __future__ import annotations

import pytest

from tests.application.cases import CASES, Case
from tests.walk import COHORT, ORG, R1, ROLES_ACTORS, SELF_REVIEW, U1, cid, head, names, small_cycle


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_same_command_id_twice_stores_once(app, case: Case):
    run = case.ready(app)
    actor = ROLES_ACTORS[case.role]
    before = head(app)
    key = cid(case.name)
    first = run(actor, key)
    stored = names(app, before)
    assert stored, "the first call stored nothing"
    middle = head(app)
    again = run(actor, key)
    assert head(app) == middle, f"the retry stored {names(app, middle)}"
    assert again.position is None or again.position <= middle
    for k in ("adjustment", "items", "sheet", "cycle"):  # what the caller needs back is the first answer
        if k in first.data:
            assert again.data.get(k) == first.data[k], k


def test_a_retry_after_the_stage_closed_still_succeeds(app):
    key = small_cycle(app, "self_review")
    app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, "sr-1")
    app.open_stage(key, "scoring", ORG, cid())
    app.close_stage(key, "self_review", ORG, cid())
    before = head(app)
    app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, "sr-1")  # not refused: it was applied
    assert head(app) == before


def test_a_sheet_retried_after_the_session_closed_gets_its_first_answer(app):
    key = small_cycle(app, "debrief")
    first = app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, "sheet-1")
    app.close_stage(key, "debrief", ORG, cid())
    before = head(app)
    again = app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, "sheet-1")
    assert head(app) == before
    assert (again.data["status"], again.data["sheet"]) == ("accepted", first.data["sheet"])


def test_two_proposals_with_two_ids_are_two_adjustments(app):
    # The id is the command's, not the content's: the same proposal sent twice on purpose is two items.
    key = small_cycle(app, "adjustments")
    a = app.propose_adjustment(key, "U1", "bonus", "1", None, "获评先进", "", ORG, "p-1").data["adjustment"]
    b = app.propose_adjustment(key, "U1", "bonus", "1", None, "获评先进", "", ORG, "p-2").data["adjustment"]
    assert a != b and app.cycle(key).adjustments == [a, b]
