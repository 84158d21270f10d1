"""The organizer's reminders (``UnitAssessment.UnitReminded``) in the read models: one row per
unit and step with how many, the last one's who, when and note; the unit's inbox shows the
reminder until the unit takes the step."""

from __future__ import annotations

from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool

from adapters.accounts import User
from projections.models import ReminderRow
from projections.runner import ProjectionRunner
from services.inbox import inbox
from tests.projections.test_handlers import one, rows, snapshot
from tests.walk import ORG, SELF_REVIEW, U1, cid, head, small_cycle

import pytest

UNIT_USER = User("u1", "第一支部联络人", "unit", "U1", True)


@pytest.fixture
def runner(app) -> ProjectionRunner:
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    r = ProjectionRunner(app, engine)
    yield r
    engine.dispose()


def reminders_in_inbox(runner: ProjectionRunner) -> list[dict]:
    runner.catch_up()
    with runner.sessions() as db:
        return [t for t in inbox(db, UNIT_USER) if t["kind"].startswith("remind_")]


def test_a_reminder_is_counted_per_unit_and_step(app, runner):
    key = small_cycle(app, "self_review")
    app.remind_unit(key, "U1", "self_review", "", 0, ORG, cid())
    app.remind_unit(key, "U1", "self_review", "请本周提交", 0, ORG, cid())
    app.remind_unit(key, "U2", "self_review", "", 0, ORG, cid())
    r = one(runner, ReminderRow, cycle=key, unit="U1")
    assert (r.stage, r.count, r.last_by, r.note) == ("self_review", 2, "org", "请本周提交")
    assert r.last_at is not None
    assert one(runner, ReminderRow, cycle=key, unit="U2").count == 1
    before = snapshot(runner)
    assert runner.rebuild() == head(app)
    assert snapshot(runner) == before


def test_the_unit_sees_the_reminder_until_it_acts(app, runner):
    key = small_cycle(app, "self_review")
    assert reminders_in_inbox(runner) == []
    app.remind_unit(key, "U1", "self_review", "请本周提交", 0, ORG, cid())
    [task] = reminders_in_inbox(runner)
    assert task["kind"] == "remind_self_review" and task["unit"] == "U1" and task["cycle"] == key
    assert task["title"].startswith("组织部催办：") and task["reminded_by"] == "org" and task["note"] == "请本周提交"
    app.remind_unit(key, "U2", "self_review", "", 0, ORG, cid())  # another unit's reminder is not U1's task
    assert len(reminders_in_inbox(runner)) == 1
    app.submit_self_review(key, "U1", SELF_REVIEW, None, U1, cid())
    assert reminders_in_inbox(runner) == []
    assert len(rows(runner, ReminderRow, cycle=key)) == 2  # the record stays


def test_a_rectification_reminder_stays_until_the_unit_reports(app, runner):
    key = small_cycle(app, "published")
    item = app.create_rectification(key, "U1", None, "会议记录不全", None, ORG, cid()).data["items"][0]["id"]
    app.remind_unit(key, "U1", "rectification", "", 1, ORG, cid())
    assert [t["kind"] for t in reminders_in_inbox(runner)] == ["remind_rectification"]
    app.report_rectification(item, "已开始整改", None, U1, cid())
    assert reminders_in_inbox(runner) == []
