"""The projection handlers (``projections.handlers``) and their runner (``projections.runner``)
on in-memory SQLite, fed by the application on the POPO store: after each kind of event the
read-model rows say what they should; a rebuild from the log gives the same rows; an event is
applied exactly once, also when a batch fails half-way or a second runner shares the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from projections import handlers
from projections.models import (
    AccountChangeRow, AdjustmentRow, BallotRow, CycleRow, DistributionRow, NoticeRow, ReadModel, RectificationRow, ResultRow, SessionRow,
    UnitRow,
)
from projections.runner import ProjectionRunner
from tests.walk import (
    ADMIN, COHORT, COM, COM2, EVA, FUTURE, MEETING, ORG, R1, R2, R3, SELF_REVIEW, U1, U2, approve, cid, confirmed, decide, head, names,
    propose, small_cycle,
)


@pytest.fixture
def runner(app) -> ProjectionRunner:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    r = ProjectionRunner(app, engine)
    yield r
    engine.dispose()


def rows(runner: ProjectionRunner, model: Any, **where: Any) -> list[Any]:
    runner.catch_up()
    with runner.sessions() as db:
        q = select(model).filter_by(**where)
        return list(db.scalars(q))


def one(runner: ProjectionRunner, model: Any, **where: Any) -> Any:
    found = rows(runner, model, **where)
    assert len(found) == 1, found
    return found[0]


def snapshot(runner: ProjectionRunner) -> dict[str, list[tuple]]:
    """Every row of every read model, in primary-key order."""
    out = {}
    with runner.engine.connect() as conn:
        for table in ReadModel.metadata.sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(table.select().order_by(*table.primary_key.columns))]
    return out


def test_setup_and_the_stages(app, runner):
    key = small_cycle(app, "setup")
    c = one(runner, CycleRow, key=key)
    assert (c.status, c.year, c.org_types, c.created_by) == ("setup", 2026, [COHORT], "org")
    assert set(c.stages.values()) == {"pending"}
    assert [(u.unit, u.cohort, u.self_review, u.scored, u.feedback) for u in rows(runner, UnitRow, cycle=key)] == [
        ("U1", COHORT, "pending", False, "none"), ("U2", COHORT, "pending", False, "none"),
    ]
    app.open_cycle(key, ORG, cid())
    c = one(runner, CycleRow, key=key)
    assert c.status == "open" and c.stages["self_review"] == "open" and "self_review" in c.stage_changed_at
    app.set_deadline(key, "scoring", FUTURE, ORG, cid())
    assert one(runner, CycleRow, key=key).deadlines == {"scoring": "2099-01-01T00:00:00+08:00"}
    app.set_deadline(key, "scoring", None, ORG, cid())
    assert one(runner, CycleRow, key=key).deadlines == {}


def test_self_review_and_scoring(app, runner):
    key = small_cycle(app, "self_review")
    app.save_self_review_draft(key, "U1", {"1.1.1": "4"}, {"1.1.1": "草稿"}, U1, cid())
    u = one(runner, UnitRow, cycle=key, unit="U1")
    assert (u.draft["scores"], u.draft["evidence"], u.self_review) == ({"1.1.1": "4"}, {"1.1.1": "草稿"}, "pending")
    app.submit_self_review(key, "U1", SELF_REVIEW, {"1.1.1": "会议记录"}, U1, cid())
    u = one(runner, UnitRow, cycle=key, unit="U1")
    assert (u.self_review, u.self_scores, u.self_evidence, u.draft) == ("submitted", SELF_REVIEW, {"1.1.1": "会议记录"}, None)
    app.open_stage(key, "scoring", ORG, cid())
    app.close_stage(key, "self_review", ORG, cid())  # U2 never submitted: missed
    assert one(runner, UnitRow, cycle=key, unit="U2").self_review == "missed"
    app.submit_scoring(key, "U2", {"1.1.1": "5", "1.1.2": None}, {"1.1.2": "无此项"}, {"1.1.1": "扎实"}, EVA, cid())
    u = one(runner, UnitRow, cycle=key, unit="U2")
    assert (u.scored, u.scored_by, u.scores, u.na_reasons, u.comments) == (
        True, "eva", {"1.1.1": "5", "1.1.2": None}, {"1.1.2": "无此项"}, {"1.1.1": "扎实"})
    assert one(runner, UnitRow, cycle=key, unit="U1").scored is False


def test_the_debrief(app, runner):
    key = small_cycle(app, "debrief")
    s = one(runner, SessionRow, cycle=key, cohort=COHORT)
    assert (s.is_open, s.secretaries, s.ballots) == (True, ["U1", "U2"], 0)
    app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid())
    app.cast_ballot(key, COHORT, "R2", None, {"U1": "80", "U2": None}, R2, cid())
    assert one(runner, SessionRow, cycle=key, cohort=COHORT).ballots == 2
    assert [(b.representative, b.category) for b in rows(runner, BallotRow, cycle=key)] == [
        ("R1", "representatives"), ("R2", "representatives")]
    app.close_session(key, COHORT, ORG, cid())
    assert one(runner, SessionRow, cycle=key, cohort=COHORT).is_open is False


def test_adjustments_a_rejected_allocation_and_the_results(app, runner):
    key = small_cycle(app, "adjustments")
    bonus = propose(app, key, "U2", "bonus", points="2", reason="获评先进", evidence="表彰文件")
    veto = propose(app, key, "U1", "veto", reason="信访举报")
    a = one(runner, AdjustmentRow, id=bonus)
    assert (a.unit, a.kind, a.points, a.levels, a.reason, a.evidence, a.proposer, a.status) == (
        "U2", "bonus", "2", None, "获评先进", "表彰文件", "org", "pending")
    # Each decision proposed at MEETING by one member; it is decided by the other's confirmation
    # (the default committee_quorum 2), whose member the row names.
    approving = app.decide_adjustment(key, bonus, "approve", "属实", COM2, cid(), **MEETING)
    assert one(runner, AdjustmentRow, id=bonus).status == "pending"  # proposed, not yet in effect
    confirmed(app, key, approving, COM)
    confirmed(app, key, app.decide_adjustment(key, veto, "reject", "经核查不属实", COM, cid(), **MEETING), COM2)
    assert {r.id: (r.status, r.decided_by, r.decision_reason) for r in rows(runner, AdjustmentRow, cycle=key)} == {
        bonus: ("approved", "com", "属实"), veto: ("rejected", "com2", "经核查不属实")}
    app.close_stage(key, "adjustments", ORG, cid())
    assert one(runner, CycleRow, key=key).stages["allocation"] == "open"

    rejecting = app.reject_allocation(key, "请复核加分依据", COM, cid(), **MEETING)
    assert one(runner, CycleRow, key=key).stages["allocation"] == "open"  # proposed, not yet in effect
    confirmed(app, key, rejecting)
    c = one(runner, CycleRow, key=key)
    assert (c.stages["allocation"], c.stages["adjustments"]) == ("pending", "open")  # sent back
    n = one(runner, NoticeRow, cycle=key, kind="allocation_rejected")
    assert (n.stage, n.resolved, "请复核加分依据" in n.text) == ("adjustments", False, True)
    app.close_stage(key, "adjustments", ORG, cid())
    assert one(runner, NoticeRow, cycle=key, kind="allocation_rejected").resolved is True  # the stage it named closed

    results = approve(app, key).data["results"]
    c = one(runner, CycleRow, key=key)
    assert (c.status, c.stages["allocation"], c.stages["feedback"], c.published_at is not None) == ("published", "closed", "open", True)
    assert {r.unit: r.result for r in rows(runner, ResultRow, cycle=key)} == results["units"]
    assert one(runner, DistributionRow, cycle=key, cohort=COHORT).counts == results["distribution"][COHORT]
    # every unit got a feedback draft with the results
    assert all(u.feedback_draft and u.feedback_draft.get("text") for u in rows(runner, UnitRow, cycle=key))


def test_feedback_and_rectification(app, runner):
    key = small_cycle(app, "published")
    issued = app.issue_feedback(key, "U1", "U1：成绩与问题", ORG, cid())
    u = one(runner, UnitRow, cycle=key, unit="U1")
    assert (u.feedback, u.feedback_text) == ("issued", "U1：成绩与问题")
    app.acknowledge_feedback(key, "U1", U1, cid())
    assert one(runner, UnitRow, cycle=key, unit="U1").feedback == "acknowledged"
    from_feedback = {i["id"] for i in issued.data["items"]}
    assert {r.id for r in rows(runner, RectificationRow, cycle=key, source="feedback")} == from_feedback

    item = app.create_rectification(key, "U2", "1.1.2", "会议记录不全", FUTURE, ORG, cid()).data["items"][0]["id"]
    r = one(runner, RectificationRow, id=item)
    assert (r.unit, r.point, r.source, r.status, r.deadline, r.reports, r.overdue, r.reminders) == (
        "U2", "1.1.2", "manual", "open", "2099-01-01T00:00:00+08:00", [], False, 0)
    app.report_rectification(item, "正在整改", None, U2, cid())
    assert one(runner, RectificationRow, id=item).status == "in_progress"
    att = [{"sha256": "a" * 64, "size": 10, "name": "记录.pdf"}]
    app.submit_rectification(item, "已完成", att, U2, cid())
    r = one(runner, RectificationRow, id=item)
    assert r.status == "submitted" and [(x["kind"], x["text"], x["by"]) for x in r.reports] == [
        ("progress", "正在整改", "u2"), ("completion", "已完成", "u2")]
    assert r.reports[1]["attachments"][0]["sha256"] == "a" * 64
    app.verify_rectification(item, "reject", "佐证不足", ORG, cid())
    r = one(runner, RectificationRow, id=item)
    assert (r.status, r.last_reason) == ("in_progress", "佐证不足")
    app.remind_rectification(item, 7, cid())
    app.rectification_overdue(item, cid())
    r = one(runner, RectificationRow, id=item)
    assert (r.reminders, r.overdue) == (1, True)
    small_cycle(app, "setup", key="c2027")
    app.carry_over("c2027", [item], ORG, cid())
    assert one(runner, RectificationRow, id=item).carried_to == ["c2027"]
    app.submit_rectification(item, "补充佐证", None, U2, cid())
    app.verify_rectification(item, "approve", "", ORG, cid())
    assert one(runner, RectificationRow, id=item).status == "closed"
    app.close_cycle(key, "年度结束", ORG, cid())
    c = one(runner, CycleRow, key=key)
    assert (c.status, c.stages["feedback"]) == ("closed", "closed")


def test_a_missed_deadline_is_a_notice(app, runner):
    key = small_cycle(app, "self_review")
    app.open_stage(key, "scoring", ORG, cid())
    app.record_deadline_missed(key, "scoring", "2026-05-01T00:00:00+08:00", cid())
    n = one(runner, NoticeRow, cycle=key, kind="deadline_missed", stage="scoring")
    assert n.resolved is False  # scoring stays open: the organizer is told
    # a missed self-review deadline closes the stage itself: its notice is resolved at once
    app.record_deadline_missed(key, "self_review", "2026-04-01T00:00:00+08:00", cid())
    assert one(runner, NoticeRow, cycle=key, stage="self_review").resolved is True
    assert one(runner, CycleRow, key=key).stages["self_review"] == "closed"
    assert {u.self_review for u in rows(runner, UnitRow, cycle=key)} == {"missed"}
    app.close_stage(key, "scoring", ORG, cid())
    assert one(runner, NoticeRow, cycle=key, stage="scoring").resolved is True


def test_every_event_the_walk_stores_has_a_handler(app, runner):
    # A new event without a handler would leave the read models silent about it.
    key = small_cycle(app, "published")
    app.issue_feedback(key, "U1", "反馈", ORG, cid())
    # and what the walk to publication does not do: an assignment, and the committee's
    # proposals objected to, on an adjustment and on the allocation
    small_cycle(app, "setup", key="c-assign")
    app.assign_evaluators("c-assign", "U1", ["eva"], {"eva": None}, ORG, cid())
    other = small_cycle(app, "adjustments", key="c-object")
    adj = propose(app, other, "U1", "bonus", points="1", reason="获评先进")
    first = app.decide_adjustment(other, adj, "approve", "属实", COM, cid(), **MEETING)
    app.object_decision(other, first.data["proposal"], "证据不足", COM2, cid())
    decide(app, other, adj, "reject", "证据不足")
    app.close_stage(other, "adjustments", ORG, cid())
    sent_back = app.reject_allocation(other, "请复核", COM, cid(), **MEETING)
    app.object_decision(other, sent_back.data["proposal"], "无须复核", COM2, cid())
    stored = set(names(app))
    assert {f"{a}.Decision{s}" for a in ("Cycle", "Adjustment") for s in ("Proposed", "Confirmed", "Objected")} <= stored
    assert "Cycle.EvaluatorsAssigned" in stored
    _account_changes(app)
    stored = set(names(app))
    assert {f"Account.{n}" for n in ("AccountCreated", "AccessChanged", "PasswordReset", "AccountDeactivated", "AccountReactivated")} <= stored
    assert stored - set(handlers.HANDLERS) == set()


def _account_changes(app) -> None:
    """The admin creates u9, moves it to U2, resets its password, deactivates and reactivates it;
    and changes ``old``, an account older than account events, for the first time."""
    app.record_account_created("u9", "unit", "U1", "九号", "新任联络人", ADMIN, cid())
    app.record_account_change("u9", {"role": "unit", "unit": "U1", "active": True}, {"role": "unit", "unit": "U2", "active": True},
                              "调往第二支部", ADMIN, cid())
    app.record_account_change("u9", {"role": "unit", "unit": "U2", "active": True}, {"role": "unit", "unit": "U2", "active": True},
                              "忘记密码", ADMIN, cid(), password_reset=True)
    app.record_account_change("u9", {"role": "unit", "unit": "U2", "active": True}, {"role": "unit", "unit": "U2", "active": False},
                              "离职", ADMIN, cid())
    app.record_account_change("u9", {"role": "unit", "unit": "U2", "active": False}, {"role": "unit", "unit": "U2", "active": True},
                              "返岗", ADMIN, cid())
    app.record_account_change("old", {"role": "evaluator", "unit": None, "active": True},
                              {"role": "committee", "unit": None, "active": True}, "调入党委", ADMIN, cid())


def test_each_change_to_an_account_is_a_row_of_its_history(app, runner):
    _account_changes(app)
    history = rows(runner, AccountChangeRow, username="u9")
    assert [(r.event, r.account_role, r.unit, r.active, r.actor, r.reason) for r in sorted(history, key=lambda r: r.position)] == [
        ("AccountCreated", "unit", "U1", True, "admin", "新任联络人"),
        ("AccessChanged", "unit", "U2", True, "admin", "调往第二支部"),
        ("PasswordReset", "unit", "U2", True, "admin", "忘记密码"),
        ("AccountDeactivated", "unit", "U2", False, "admin", "离职"),
        ("AccountReactivated", "unit", "U2", True, "admin", "返岗"),
    ]
    old = sorted(rows(runner, AccountChangeRow, username="old"), key=lambda r: r.position)
    assert [(r.event, r.account_role, r.actor) for r in old] == [("AccountCreated", "evaluator", "system"), ("AccessChanged", "committee", "admin")]


def _busy_log(app) -> str:
    # A share of 0.95, so U1's points below it (SCORES) become rectification items to report on.
    key = small_cycle(app, "adjustments", policy={"rectification_share": "0.95"})
    adj = propose(app, key, "U1", "downgrade", levels=1, reason="巡视指出问题")
    decide(app, key, adj)
    app.close_stage(key, "adjustments", ORG, cid())
    confirmed(app, key, app.reject_allocation(key, "请复核", COM, cid(), **MEETING))
    app.close_stage(key, "adjustments", ORG, cid())
    approve(app, key)
    out = app.issue_feedback(key, "U1", "反馈", ORG, cid())
    for item in out.data["items"]:
        app.report_rectification(item["id"], "进展", None, U1, cid())
    return key


def test_a_rebuild_from_the_log_gives_the_same_rows(app, runner):
    _busy_log(app)
    runner.catch_up()
    before = snapshot(runner)
    assert before["proj_results"] and before["proj_notices"] and before["proj_rectifications"]
    assert runner.rebuild() == head(app)
    assert snapshot(runner) == before
    assert runner.position() == head(app)


def test_an_event_is_applied_exactly_once(app, runner, monkeypatch):
    key = small_cycle(app, "debrief")
    runner.catch_up()
    applied = runner.position()
    assert runner.run_once() == 0 and runner.position() == applied  # nothing new: nothing applied again

    # A batch that fails half-way (the second sheet's handler breaks) commits nothing: neither
    # the first sheet's row nor the tracking position.
    app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid())
    app.cast_ballot(key, COHORT, "R2", None, {"U1": "80", "U2": None}, R2, cid())
    real = handlers.HANDLERS["BallotSheet.BallotSheetCast"]
    calls = []

    def flaky(db, e, pos):
        calls.append(pos)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        real(db, e, pos)

    monkeypatch.setitem(handlers.HANDLERS, "BallotSheet.BallotSheetCast", flaky)
    with pytest.raises(RuntimeError):
        runner.run_once()
    assert runner.position() == applied
    with runner.sessions() as db:
        assert db.get(SessionRow, (key, COHORT)).ballots == 0
    # Run again: both sheets, each once.
    assert runner.run_once() == 2
    monkeypatch.setitem(handlers.HANDLERS, "BallotSheet.BallotSheetCast", real)
    app.cast_ballot(key, COHORT, "R3", None, {"U1": "70", "U2": None}, R3, cid())
    assert one(runner, SessionRow, cycle=key, cohort=COHORT).ballots == 3
    assert len(rows(runner, BallotRow, cycle=key)) == 3


def test_two_runners_on_one_database_apply_each_event_once(app, runner):
    key = small_cycle(app, "debrief")
    other = ProjectionRunner(app, runner.engine)  # another process sharing the read models
    runner.catch_up()
    assert other.run_once() == 0  # it learns the position from the tracking row
    assert other.applied == runner.position()
    app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid())
    assert other.run_once() == 1 and runner.run_once() == 0
    assert one(runner, SessionRow, cycle=key, cohort=COHORT).ballots == 1


def test_the_roster_and_turnout_on_the_session_row(app, runner):
    from projections.models import RosterRow
    from tests.walk import create, set_roster

    key = create(app, "ro")
    set_roster(app, key, ["R1", "R2"])  # before the session exists
    assert one(runner, RosterRow, cycle=key, cohort=COHORT).entries == [
        {"representative": "R1", "category": "representatives"}, {"representative": "R2", "category": "representatives"}]
    app.open_cycle(key, ORG, cid())
    app.open_stage(key, "debrief", ORG, cid())
    s = one(runner, SessionRow, cycle=key, cohort=COHORT)
    assert ([x["representative"] for x in s.roster], s.ballots) == (["R1", "R2"], 0)
    set_roster(app, key, ["R1", "R2", "R3", "R4"])  # while open
    app.cast_ballot(key, COHORT, "R1", None, {"U1": "90", "U2": None}, R1, cid())
    s = one(runner, SessionRow, cycle=key, cohort=COHORT)
    assert (len(s.roster), s.ballots) == (4, 1)  # turnout 1/4
    app.close_session(key, COHORT, ORG, cid(), "只到一人")
    assert one(runner, SessionRow, cycle=key, cohort=COHORT).close_reason == "只到一人"
