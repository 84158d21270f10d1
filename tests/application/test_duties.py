"""Who may do what, as the domain states it (``domain.rules``; SPEC §1): the role each use case
needs, the unit scope of a unit's user and of a representative's sheet, and the separation of
duties — the proposer does not decide, a committee member attached to a unit abstains on it,
an auditor writes nothing. Each refusal stores nothing.

The role checks of the HTTP routers (403 ``forbidden``, before the domain is asked) stay
end-to-end in ``tests/test_security.py``; these are the domain's own, which hold whatever door
a command comes in by (a workflow activity, the CLI, a script).
"""

from __future__ import annotations

import pytest

from domain.errors import Forbidden
from domain.rules import ROLES, Actor
from tests.application.cases import CASES, Case
from tests.walk import (
    AUD, COHORT, COM, COM2, COM_U1, EVA, MEETING, ORG, R1, ROLES_ACTORS, SELF_REVIEW, U1, U2, cid, confirmed, head, propose,
    refused, small_cycle,
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_use_case_refuses_every_other_role(app, case: Case):
    run = case.ready(app)
    for role in ROLES:
        if role == case.role:
            continue
        actor = ROLES_ACTORS[role]
        refused(app, lambda: run(actor, cid()), Forbidden, "wrong_role")
    # ... and the role it names may: the state was right, it was the role that refused.
    before = head(app)
    run(ROLES_ACTORS[case.role], cid())
    assert head(app) > before


@pytest.mark.parametrize("case", [c for c in CASES if c.unit_scoped], ids=lambda c: c.name)
def test_a_unit_user_acts_for_its_own_unit_only(app, case: Case):
    run = case.ready(app)
    refused(app, lambda: run(U2, cid()), Forbidden, "not_your_unit")
    refused(app, lambda: run(Actor("nobody", "unit", None), cid()), Forbidden, "not_your_unit")


def test_an_auditor_writes_nothing(app):
    # SPEC §1 "an auditor can write nothing": every write use case, each where it would be allowed.
    for case in CASES:
        fresh = type(app)(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        run = case.ready(fresh)
        refused(fresh, lambda: run(AUD, cid()), Forbidden, "wrong_role")


def test_a_representative_casts_only_their_own_sheet(app):
    key = small_cycle(app, "debrief")
    call = lambda: app.cast_ballot(key, COHORT, "R2", None, {"U1": "90"}, R1, cid())  # noqa: E731
    refused(app, call, Forbidden, "not_your_ballot")
    assert app.sheet(key, COHORT, "R2") is None


def test_the_proposer_cannot_decide_their_own_adjustment(app):
    # Only organizers propose and only the committee decides; a proposer who later becomes a
    # committee member (same user, new role) is the case the product can express.
    key = small_cycle(app, "adjustments")
    adj = propose(app, key, "U2", "bonus", points="1", reason="获评先进")
    refused(app, lambda: app.decide_adjustment(key, adj, "approve", "", Actor("org", "committee"), cid(), **MEETING),
            Forbidden, "proposer_cannot_decide")
    confirmed(app, key, app.decide_adjustment(key, adj, "approve", "", COM, cid(), **MEETING))  # other members may
    assert app.adjustment(adj).status == "approved"


def test_a_committee_member_attached_to_a_unit_abstains_on_its_adjustments(app):
    key = small_cycle(app, "adjustments")
    mine = propose(app, key, "U1", "bonus", points="1", reason="获评先进")
    other = propose(app, key, "U2", "downgrade", levels=1, reason="巡视指出问题")
    for decision, reason in (("approve", ""), ("reject", "不属实")):
        refused(app, lambda: app.decide_adjustment(key, mine, decision, reason, COM_U1, cid(), **MEETING), Forbidden, "attached_to_unit")
    # the attachment refuses, not the role: the same member decides U2's item
    confirmed(app, key, app.decide_adjustment(key, other, "approve", "属实", COM_U1, cid(), **MEETING))
    assert (app.adjustment(mine).status, app.adjustment(other).status) == ("pending", "approved")


def test_a_committee_member_attached_to_a_unit_cannot_override_its_grade(app):
    # U1 F = 94.40 excellent, U2 F = 80.90 good (worked in test_grades / test_refusals).
    key = small_cycle(app, "allocation")
    refused(app, lambda: app.override_grade(key, "U1", "good", "党委会研究", COM_U1, cid(), **MEETING), Forbidden, "attached_to_unit")
    assert app.cycle(key).overrides == {}
    confirmed(app, key, app.override_grade(key, "U2", "average", "党委会研究", COM_U1, cid(), **MEETING))
    assert app.allocation(key).unit("U2").grade == "average"


def test_organizers_cannot_decide_the_allocation(app):
    key = small_cycle(app, "allocation")
    for call in (
        lambda: app.approve_allocation(key, "同意", ORG, cid(), **MEETING),
        lambda: app.reject_allocation(key, "退回", ORG, cid(), **MEETING),
        lambda: app.resolve_tie(key, COHORT, ["U1"], "x", ORG, cid(), **MEETING),
        lambda: app.override_grade(key, "U2", "average", "x", ORG, cid(), **MEETING),
    ):
        refused(app, call, Forbidden, "wrong_role")
    assert app.cycle(key).status == "open"


def test_evaluators_cannot_propose_and_units_cannot_score(app):
    key = small_cycle(app, "adjustments")
    refused(app, lambda: app.propose_adjustment(key, "U1", "bonus", "1", None, "评分时发现亮点", "", EVA, cid()), Forbidden, "wrong_role")
    key = small_cycle(app, "scoring", key="c2")
    refused(app, lambda: app.submit_scoring(key, "U1", SELF_REVIEW, None, None, U1, cid()), Forbidden, "wrong_role")


def test_carrying_items_over_needs_the_organizer(app):
    key = small_cycle(app, "published")
    item = app.create_rectification(key, "U1", None, "问题", None, ORG, cid()).data["items"][0]["id"]
    small_cycle(app, "setup", key="c2027")
    refused(app, lambda: app.carry_over("c2027", [item], AUD, cid()), Forbidden, "wrong_role")
