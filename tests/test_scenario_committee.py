"""The scenario's ``committee`` (SPEC §7): validated by ``simulation.scenario.check``; the runner
has each decision proposed and confirmed by as many eligible members as the quorum needs."""

from __future__ import annotations

import pytest

from simulation.runner import committee_of, deciders
from simulation.scenario import ScenarioError, check

BASE = {
    "cycle": {"key": "k", "year": 2026, "name": "n"}, "schemes": {"grassroots_branch": "default"},
    "units": [{"key": "U1", "name": "一", "org_type": "grassroots_branch"}, {"key": "U3", "name": "三", "org_type": "grassroots_branch"}],
    "scores": {"U1": {}, "U3": {}}, "debrief": {"ballots": [{"representative": "R1", "scores": {"U1": "90"}}]},
}


@pytest.mark.parametrize("committee", [[], [{"unit": "U1"}], [{"user": "C1", "unit": "U9"}], [{"user": "C1"}, {"user": "C1"}],
                                       [{"user": "C1", "role": "x"}], "C1"])
def test_a_malformed_committee_is_refused(committee):
    with pytest.raises(ScenarioError) as info:
        check({**BASE, "committee": committee})
    assert "committee" in str(info.value)


def test_the_members_who_decide_are_never_attached_to_a_unit_it_concerns():
    members = committee_of({**BASE, "committee": [{"user": "C01"}, {"user": "C02"}, {"user": "C03", "unit": "U3"}]})
    assert deciders(members, {"U3"}, 2) == ["C01", "C02"]
    assert deciders(members, {"U1"}, 3) == ["C01", "C02", "C03"]
    # too few: the first eligible one proposes, and the system's refusal (naming the unit) stands
    assert deciders(members, {"U3"}, 3) == ["C01"]


def test_no_committee_plays_as_many_unattached_members_as_the_quorum_needs():
    assert committee_of({**BASE, "cycle": {**BASE["cycle"], "policy": {"committee_quorum": 3}}}) == [
        {"user": "sim-committee", "unit": None}, {"user": "sim-committee-2", "unit": None}, {"user": "sim-committee-3", "unit": None},
    ]
    check({**BASE, "committee": [{"user": "C01"}, {"user": "C03", "unit": "U3"}]})  # a valid one passes
