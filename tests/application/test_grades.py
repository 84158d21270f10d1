"""The grades of a small cycle, worked by hand from SPEC §4–§5 (not read off the code), driven
through the use cases only: self-review, scoring (with a not-applicable point), five ballots
(so the trim applies), bonuses over the cap, a downgrade, a veto, a rejected bonus, approval.

Cohort grassroots_branch, TINY_SCHEME (1.1.1 max 6, 1.1.2 max 4; Σ max 10), default policy:
work 0.7, debrief 0.3, excellent_share 0.5, thresholds 90/80/60, bonus_cap 3, trim_min_ballots 5.

    unit  scores       W                          ballots R1..R5          D (5 ≥ 5: drop 1 high, 1 low)
    A     6, 4         100 × 10/10 = 100.00       90 95 85 100 80         (90+95+85)/3 = 90.00
    B     5.5, 3.5     100 × 9/10  =  90.00       88 92 90 70 99          (88+92+90)/3 = 90.00
    C     6, 3.5       100 × 9.5/10 = 95.00       95 ×5                   95.00
    D     5, null      100 × 5/6 = 83.333… → 83.33 (1.1.2 not applicable) 80 ×5   80.00
    E     6, 4         100.00                     90.75 ×5                90.75

    C = round2(0.7 W + 0.3 D):  A 70 + 27 = 97.00        B 63 + 27 = 90.00      C 66.5 + 28.5 = 95.00
                                D 58.331 + 24 = 82.331 → 82.33                 E 70 + 27.225 = 97.225 → 97.23 (half up)
    Bonus: B has 2 + 2 approved = 4 → min(4, 3) = 3 → F = 93.00; D's bonus was rejected. Others F = C.
    Order by (F, D, W): E 97.23, A 97.00, C 95.00, B 93.00, D 82.33 → ranks 1..5.
    n = 5 → q = floor(0.5 × 5) = 2.
    Eligible (F ≥ 90, no downgrade/veto): E, A, B → E, A excellent; B beyond the quota → good.
    C: approved downgrade of 1; base by thresholds alone 95 ≥ 90 → excellent, one down → good.
    D: approved veto; base 82.33 ≥ 80 → good; vetoed → poor.
    Distribution: excellent 2, good 2, average 0, poor 1.
"""

from __future__ import annotations

from domain.errors import Conflict, InvalidInput
from domain.rules import Actor
from tests.helpers import TINY_SCHEME
from tests.walk import COHORT, COM, COM2, EVA, MEETING, ORG, cid, confirmed, propose, refused, set_roster, unit_actor

UNITS = "ABCDE"
SCORES = {"A": ("6", "4"), "B": ("5.5", "3.5"), "C": ("6", "3.5"), "D": ("5", None), "E": ("6", "4")}
BALLOTS = {  # unit -> the five representatives' scores
    "A": ("90", "95", "85", "100", "80"),
    "B": ("88", "92", "90", "70", "99"),
    "C": ("95",) * 5,
    "D": ("80",) * 5,
    "E": ("90.75",) * 5,
}


def walk(app) -> str:
    key = "hand"
    app.create_cycle(key, 2026, "手算周期", None, {COHORT: TINY_SCHEME}, None, None, ORG, cid())
    app.register_units(key, [{"key": u, "name": f"{u} 支部", "org_type": COHORT} for u in UNITS], ORG, cid())
    app.open_cycle(key, ORG, cid())
    for u in UNITS:
        app.submit_self_review(key, u, {"1.1.1": "5", "1.1.2": "3"}, None, unit_actor(u), cid())
    app.open_stage(key, "scoring", ORG, cid())
    app.close_stage(key, "self_review", ORG, cid())
    for u, (a, b) in SCORES.items():
        na = {"1.1.2": "本年度无此项工作"} if b is None else None
        app.submit_scoring(key, u, {"1.1.1": a, "1.1.2": b}, na, None, EVA, cid())
    app.close_stage(key, "scoring", ORG, cid())
    app.open_stage(key, "debrief", ORG, cid())
    set_roster(app, key, [f"R{i + 1}" for i in range(5)])
    for i in range(5):
        rep = Actor(f"R{i + 1}", "representative")
        app.cast_ballot(key, COHORT, rep.user, None, {u: BALLOTS[u][i] for u in UNITS}, rep, cid())
    app.close_stage(key, "debrief", ORG, cid())
    app.open_stage(key, "adjustments", ORG, cid())
    decide = [
        (propose(app, key, "B", "bonus", points="2", reason="获评先进"), "approve"),
        (propose(app, key, "B", "bonus", points="2", reason="经验被推广"), "approve"),
        (propose(app, key, "C", "downgrade", levels=1, reason="巡视指出问题"), "approve"),
        (propose(app, key, "D", "veto", reason="发生严重违纪"), "approve"),
        (propose(app, key, "D", "bonus", points="3", reason="获评先进"), "reject"),
    ]
    for adj, decision in decide:
        confirmed(app, key, app.decide_adjustment(key, adj, decision, "经核查不属实" if decision == "reject" else "属实", COM, cid(), **MEETING))
    app.close_stage(key, "adjustments", ORG, cid())
    return key


def test_the_grades_are_as_worked_by_hand(app):
    key = walk(app)
    results = confirmed(app, key, app.approve_allocation(key, "同意", COM2, cid(), **MEETING), COM).data["results"]
    got = {u: (r["work_score"], r["debrief_score"], r["composite"], r["bonus"], r["final_score"], r["rank"],
               r["base_grade"], r["grade"]) for u, r in results["units"].items()}
    assert got == {
        "A": ("100.00", "90.00", "97.00", "0.00", "97.00", 2, "excellent", "excellent"),
        "B": ("90.00", "90.00", "90.00", "3.00", "93.00", 4, "good", "good"),
        "C": ("95.00", "95.00", "95.00", "0.00", "95.00", 3, "excellent", "good"),
        "D": ("83.33", "80.00", "82.33", "0.00", "82.33", 5, "good", "poor"),
        "E": ("100.00", "90.75", "97.23", "0.00", "97.23", 1, "excellent", "excellent"),
    }
    assert results["distribution"] == {COHORT: {"excellent": 2, "good": 2, "average": 0, "poor": 1}}
    assert app.cycle(key).status == "published" and app.cycle(key).results == results


def test_overrides_stay_within_the_rules(app):
    key = walk(app)
    # B (eligible, beyond the quota) made excellent: 3 excellent > q = 2.
    refused(app, lambda: app.override_grade(key, "B", "excellent", "党委会研究", COM, cid(), **MEETING), Conflict, "override_beyond_quota", "grade")
    # C is downgraded: never excellent, even with a place free after A is set to good.
    confirmed(app, key, app.override_grade(key, "A", "good", "党委会研究", COM, cid(), **MEETING))
    refused(app, lambda: app.override_grade(key, "C", "excellent", "党委会研究", COM, cid(), **MEETING), Conflict,
            "override_excellent_penalised", "grade")
    # B may take the place A left: E and B excellent (2 = q).
    confirmed(app, key, app.override_grade(key, "B", "excellent", "党委会研究", COM, cid(), **MEETING))
    grades = {u: r["grade"] for u, r in confirmed(app, key, app.approve_allocation(key, "同意", COM2, cid(), **MEETING), COM).data["results"]["units"].items()}
    assert grades == {"A": "good", "B": "excellent", "C": "good", "D": "poor", "E": "excellent"}


def test_a_unit_without_ballots_cannot_be_graded_and_blocks_approval(app):
    # SPEC §4: no debrief score → the unit cannot be graded; the allocation says which and why.
    key = "nob"
    app.create_cycle(key, 2026, "无评议", None, {COHORT: TINY_SCHEME}, None, None, ORG, cid())
    app.register_units(key, [{"key": u, "name": u, "org_type": COHORT} for u in ("X", "Y")], ORG, cid())
    app.open_cycle(key, ORG, cid())
    app.open_stage(key, "scoring", ORG, cid())
    app.close_stage(key, "self_review", ORG, cid())
    for u in ("X", "Y"):
        app.submit_scoring(key, u, {"1.1.1": "6", "1.1.2": "4"}, None, None, EVA, cid())
    app.close_stage(key, "scoring", ORG, cid())
    app.open_stage(key, "debrief", ORG, cid())
    set_roster(app, key, ["R1"])
    rep = Actor("R1", "representative")
    app.cast_ballot(key, COHORT, "R1", None, {"X": "90", "Y": None}, rep, cid())  # Y: an abstention, no score
    app.close_stage(key, "debrief", ORG, cid())
    app.open_stage(key, "adjustments", ORG, cid())
    app.close_stage(key, "adjustments", ORG, cid())
    cohort = app.allocation(key).cohorts[COHORT]
    assert list(cohort.incomplete) == ["Y"]
    refused(app, lambda: app.approve_allocation(key, "同意", COM, cid(), **MEETING), Conflict, "allocation_not_approvable", "allocation")


def abstention_cycle(app) -> str:
    """Units X, Y (TINY_SCHEME, both scored 6 + 4 → W = 100.00), three representatives, debrief open."""
    key = "abstain"
    app.create_cycle(key, 2026, "弃权", None, {COHORT: TINY_SCHEME}, None, None, ORG, cid())
    app.register_units(key, [{"key": u, "name": u, "org_type": COHORT} for u in ("X", "Y")], ORG, cid())
    app.open_cycle(key, ORG, cid())
    app.open_stage(key, "scoring", ORG, cid())
    app.close_stage(key, "self_review", ORG, cid())
    for u in ("X", "Y"):
        app.submit_scoring(key, u, {"1.1.1": "6", "1.1.2": "4"}, None, None, EVA, cid())
    app.close_stage(key, "scoring", ORG, cid())
    app.open_stage(key, "debrief", ORG, cid())
    set_roster(app, key, ["R1", "R2", "R3"])
    return key


def test_a_sheet_must_score_or_abstain_for_every_secretary(app):
    key = abstention_cycle(app)
    r1 = Actor("R1", "representative")
    # Y left blank: refused, naming Y's row, and nothing is stored (refused() checks the log's head).
    err = refused(app, lambda: app.cast_ballot(key, COHORT, "R1", None, {"X": "90"}, r1, cid()),
                  InvalidInput, "ballot_incomplete", "scores.Y")
    assert "Y" in err.message and "弃权" in err.message
    # Every row abstained is no sheet at all.
    refused(app, lambda: app.cast_ballot(key, COHORT, "R1", None, {"X": None, "Y": None}, r1, cid()),
            InvalidInput, "invalid_scores", "scores")
    # A bad value is named before the missing row.
    refused(app, lambda: app.cast_ballot(key, COHORT, "R1", None, {"X": "120"}, r1, cid()),
            InvalidInput, "score_out_of_range", "scores.X")
    assert app.cast_ballot(key, COHORT, "R1", None, {"X": "90", "Y": None}, r1, cid()).data["status"] == "accepted"


def test_an_abstention_counts_in_no_mean(app):
    # SPEC §4: m_c is the mean of "the unit's scores from that category's ballots"; an abstention
    # is not a score. Three sheets, fewer than trim_min_ballots (5): no trim.
    #   X: 90, 70, 80          → (90 + 70 + 80) / 3 = 80.00    C = 0.7 × 100 + 0.3 × 80.00 = 94.00
    #   Y: 80, abstain, 95     → (80 + 95) / 2      = 87.50    C = 70 + 26.25 = 96.25
    #   (were the abstention a 0: 175 / 3 = 58.33, C = 87.50)
    key = abstention_cycle(app)
    for rep, sheet in (("R1", {"X": "90", "Y": "80"}), ("R2", {"X": "70", "Y": None}), ("R3", {"X": "80", "Y": "95"})):
        app.cast_ballot(key, COHORT, rep, None, sheet, Actor(rep, "representative"), cid())
    app.close_stage(key, "debrief", ORG, cid())
    app.open_stage(key, "adjustments", ORG, cid())
    app.close_stage(key, "adjustments", ORG, cid())
    results = confirmed(app, key, app.approve_allocation(key, "同意", COM2, cid(), **MEETING), COM).data["results"]
    got = {u: (r["debrief_score"], r["composite"]) for u, r in results["units"].items()}
    assert got == {"X": ("80.00", "94.00"), "Y": ("87.50", "96.25")}


def test_a_second_sheet_is_refused_as_already_cast_whatever_it_holds(app):
    key = abstention_cycle(app)
    r1 = Actor("R1", "representative")
    app.cast_ballot(key, COHORT, "R1", None, {"X": "90", "Y": None}, r1, cid())
    # Incomplete, but it is the second: "already cast" is what the representative needs to hear.
    refused(app, lambda: app.cast_ballot(key, COHORT, "R1", None, {"X": "80"}, r1, cid()),
            Conflict, "ballot_already_cast", "representative")
