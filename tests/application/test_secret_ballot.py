"""The secret ballot (SPEC §1; ``domain.ballots``): what each role reads of the ballots when a
grade is explained. Under ``secret_ballot`` (the default) only the auditor's explanation names
the representatives — and says so; the organizer's and the committee's give the scores without
names, their count, mean, trimming and the turnout, and cite no sheet. With ``secret_ballot``
false the named view is everyone's. The stored events keep the names either way.

Worked by hand (SPEC §4, one category ``default``, ``trim_min_ballots`` 5): U1's five scores
95, 93, 91, 89, 70 drop 95 and 70, m = (93 + 91 + 89) / 3 = 91, D = 91.00."""

from __future__ import annotations

import json

import pytest

from domain.audit import explain, replay
from domain.errors import Forbidden
from services.audit import Auditor
from tests.walk import events, small_cycle

FIVE = {
    "R1": {"U1": "95", "U2": "85"}, "R2": {"U1": "93", "U2": "83"}, "R3": {"U1": "91", "U2": "81"},
    "R4": {"U1": "89", "U2": "80"}, "R5": {"U1": "70", "U2": "60"},
}
REPS = set(FIVE)


def _explained(app, role: str) -> dict:
    return explain(replay(app), "c1", "U1", role=role)


def _names_in(value) -> set[str]:
    text = json.dumps(value, ensure_ascii=False)
    return {r for r in REPS if f'"{r}"' in text}


def test_the_auditor_reads_the_ballots_named_and_is_told_so(app):
    small_cycle(app, "allocation", ballots=FIVE)
    ex = _explained(app, "auditor")
    d = ex["debrief_score"]
    assert d["value"] == "91.00"
    assert d["ballot_view"] == {"view": "named", "secret_ballot": True, "note": "记名：仅审计可见 / named: auditor only",
                                "turnout": {"cast": 5, "rostered": 5}}  # the walk rosters the five who cast
    (cat,) = d["categories"]
    assert {b["representative"]: b["score"] for b in cat["ballots"]} == {r: s["U1"] for r, s in FIVE.items()}
    assert {b["representative"]: b["trimmed"] for b in cat["ballots"] if b["trimmed"]} == {"R1": "highest", "R5": "lowest"}
    assert all(b["cited"]["event"] == "BallotSheetCast" and b["cited"]["actor"] == b["representative"] for b in cat["ballots"])


@pytest.mark.parametrize("role", ["organizer", "committee"])
def test_organizer_and_committee_read_no_names_under_a_secret_ballot(app, role):
    small_cycle(app, "allocation", ballots=FIVE)
    ex = _explained(app, role)
    d = ex["debrief_score"]
    assert _names_in(ex) == set()  # nowhere in the explanation, not even as a cited event's actor
    assert d["value"] == "91.00"
    assert d["ballot_view"]["view"] == "anonymous" and d["ballot_view"]["secret_ballot"] is True
    assert d["ballot_view"]["note"].startswith("无记名")
    assert d["ballot_view"]["turnout"] == {"cast": 5, "rostered": 5}
    (cat,) = d["categories"]
    assert cat["count"] == 5 and cat["mean"] == "91" and cat["trimmed"] is True
    # highest first, not in the order cast: the log's order cannot put a name to a score
    assert cat["ballots"] == [
        {"score": "95", "trimmed": "highest"}, {"score": "93", "trimmed": None}, {"score": "91", "trimmed": None},
        {"score": "89", "trimmed": None}, {"score": "70", "trimmed": "lowest"},
    ]
    assert {c["event"] for c in d["cited"]} <= {"DebriefSessionOpened", "BallotBoxClosed", "DebriefSessionClosed"}
    assert {c["event"] for c in d["cited"]} >= {"DebriefSessionOpened", "DebriefSessionClosed"}
    # everything but the ballots reads as the auditor's does
    auditor = _explained(app, "auditor")
    assert {k: v for k, v in ex.items() if k != "debrief_score"} == {k: v for k, v in auditor.items() if k != "debrief_score"}


def test_the_events_keep_who_cast_each_sheet(app):
    small_cycle(app, "allocation", ballots=FIVE)
    cast = [e for e in events(app) if type(e).__qualname__.endswith("BallotSheetCast")]
    assert {e.representative: e.scores["U1"] for e in cast} == {r: s["U1"] for r, s in FIVE.items()}


@pytest.mark.parametrize("role", ["organizer", "committee", "auditor"])
def test_without_a_secret_ballot_the_named_view_is_everyones(app, role):
    small_cycle(app, "allocation", ballots=FIVE, policy={"secret_ballot": False})
    d = _explained(app, role)["debrief_score"]
    assert d["ballot_view"]["view"] == "named" and d["ballot_view"]["secret_ballot"] is False
    assert d["ballot_view"]["note"] == "记名：本周期不实行无记名评议 / named: this cycle's ballot is not secret"
    assert {b["representative"] for b in d["categories"][0]["ballots"]} == REPS


@pytest.fixture
def chained(settings):
    """The application on the real store (SQLite or PostgreSQL): the ``Auditor`` reads its chain."""
    from domain.application import Assessments

    return Assessments(env=settings.event_store_env())


def test_the_auditor_service_explains_as_the_role_it_is_given(chained):
    small_cycle(chained, "allocation", ballots=FIVE)
    auditor = Auditor(chained)
    assert auditor.explain("c1", "U1")["debrief_score"]["ballot_view"]["view"] == "named"  # the CLI's: the auditor's
    assert auditor.explain("c1", "U1", role="committee")["debrief_score"]["ballot_view"]["view"] == "anonymous"


def test_the_audit_bundle_is_the_auditors_under_a_secret_ballot(chained, tmp_path):
    small_cycle(chained, "allocation", ballots=FIVE)
    with pytest.raises(Forbidden) as refused:
        Auditor(chained).export("c1", tmp_path / "b.zip", role="organizer")
    assert refused.value.code == "secret_ballot" and "审计包" in refused.value.message
    assert not (tmp_path / "b.zip").exists()
    assert Auditor(chained).export("c1", tmp_path / "b.zip", role="auditor")["cycle"] == "c1"


def test_without_a_secret_ballot_the_organizer_may_take_the_bundle(chained, tmp_path):
    small_cycle(chained, "allocation", ballots=FIVE, policy={"secret_ballot": False})
    assert Auditor(chained).export("c1", tmp_path / "b.zip", role="organizer")["cycle"] == "c1"
