"""Every write use case of ``Assessments``, each with: the role the domain lets do it, the stage
of ``tests.walk.small_cycle`` it needs, and a way to call it as a given actor with a given
command id. ``test_roles`` calls each as every other role; ``test_idempotency`` calls each
twice with one command id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from domain.application import Assessments
from domain.rules import Actor
from tests.walk import COHORT, FUTURE, MEETING, ORG, U1, SELF_REVIEW, cid, propose, small_cycle
from tests.helpers import TINY_SCHEME

KEY = "c1"


@dataclass
class Case:
    name: str
    role: str  # the one role that may
    stage: str  # where small_cycle leaves the cycle before ``prepare``
    call: Callable[[Assessments, Any, Actor, str], Any]  # (app, prepared, actor, command_id)
    prepare: Callable[[Assessments], Any] = lambda app: None
    unit_scoped: bool = False  # aimed at U1: another unit's user is refused too

    def ready(self, app: Assessments) -> Callable[[Actor, str], Any]:
        small_cycle(app, self.stage, key=KEY)
        prepared = self.prepare(app)
        return lambda actor, command_id: self.call(app, prepared, actor, command_id)


def _pending(app: Assessments) -> str:
    return propose(app, KEY, "U1", "bonus", points="1", reason="获评先进")


def _item(app: Assessments, submitted: bool = False) -> str:
    item = app.create_rectification(KEY, "U1", None, "会议记录不全", None, ORG, cid()).data["items"][0]["id"]
    if submitted:
        app.submit_rectification(item, "已完成", None, U1, cid())
    return item


def _tie(app: Assessments) -> None:
    """Like ``tie_cycle`` in test_refusals: U1 and U2 at F = 97.00 for one place."""
    same, ninety = {"1.1.1": "6", "1.1.2": "4"}, {"U1": "90", "U2": "90"}
    small_cycle(app, "allocation", key="tie", scores={"U1": same, "U2": same}, ballots={r: ninety for r in ("R1", "R2", "R3")})


#: The committee's cases propose (the proposal is the proposer's confirmation; the quorum's
#: confirmations are ``test_committee``'s): one member may propose, no other role.
CASES = [
    Case("create_cycle", "organizer", "setup",
         lambda app, _, a, c: app.create_cycle("c9", 2026, "新周期", None, {COHORT: TINY_SCHEME}, None, None, a, c)),
    Case("register_units", "organizer", "setup",
         lambda app, _, a, c: app.register_units(KEY, [{"key": "U3", "name": "三", "org_type": COHORT}], a, c)),
    Case("open_cycle", "organizer", "setup", lambda app, _, a, c: app.open_cycle(KEY, a, c)),
    Case("open_stage", "organizer", "self_review", lambda app, _, a, c: app.open_stage(KEY, "scoring", a, c)),
    Case("close_stage", "organizer", "self_review", lambda app, _, a, c: app.close_stage(KEY, "self_review", a, c)),
    Case("set_deadline", "organizer", "self_review", lambda app, _, a, c: app.set_deadline(KEY, "self_review", FUTURE, a, c)),
    Case("save_self_review_draft", "unit", "self_review",
         lambda app, _, a, c: app.save_self_review_draft(KEY, "U1", {"1.1.1": "5"}, None, a, c), unit_scoped=True),
    Case("submit_self_review", "unit", "self_review",
         lambda app, _, a, c: app.submit_self_review(KEY, "U1", SELF_REVIEW, {"1.1.1": "会议记录"}, a, c), unit_scoped=True),
    Case("remind_unit", "organizer", "self_review",
         lambda app, _, a, c: app.remind_unit(KEY, "U1", "self_review", "请于本周内提交", 0, a, c)),
    Case("assign_evaluators", "organizer", "self_review",
         lambda app, _, a, c: app.assign_evaluators(KEY, "U1", ["eva"], {"eva": None}, a, c)),
    Case("submit_scoring", "evaluator", "scoring",
         lambda app, _, a, c: app.submit_scoring(KEY, "U1", SELF_REVIEW, None, {"1.1.1": "扎实"}, a, c)),
    Case("cast_ballot", "representative", "debrief",
         lambda app, _, a, c: app.cast_ballot(KEY, COHORT, a.user, None, {"U1": "90", "U2": "80"}, a, c)),
    Case("close_session", "organizer", "debrief", lambda app, _, a, c: app.close_session(KEY, COHORT, a, c)),
    Case("propose_adjustment", "organizer", "adjustments",
         lambda app, _, a, c: app.propose_adjustment(KEY, "U1", "bonus", "1", None, "获评先进", "文件", a, c)),
    Case("decide_adjustment", "committee", "adjustments",
         lambda app, adj, a, c: app.decide_adjustment(KEY, adj, "approve", "属实", a, c, **MEETING), prepare=_pending),
    Case("resolve_tie", "committee", "setup",
         lambda app, _, a, c: app.resolve_tie("tie", COHORT, ["U1"], "党委会研究", a, c, **MEETING), prepare=_tie),
    Case("override_grade", "committee", "allocation",
         lambda app, _, a, c: app.override_grade(KEY, "U2", "average", "党委会研究", a, c, **MEETING)),
    Case("approve_allocation", "committee", "allocation", lambda app, _, a, c: app.approve_allocation(KEY, "同意", a, c, **MEETING)),
    Case("reject_allocation", "committee", "allocation", lambda app, _, a, c: app.reject_allocation(KEY, "请复核", a, c, **MEETING)),
    Case("edit_feedback_draft", "organizer", "published", lambda app, _, a, c: app.edit_feedback_draft(KEY, "U1", "改过的反馈", a, c)),
    Case("issue_feedback", "organizer", "published", lambda app, _, a, c: app.issue_feedback(KEY, "U1", "U1：成绩与问题", a, c)),
    Case("acknowledge_feedback", "unit", "published",
         lambda app, _, a, c: app.acknowledge_feedback(KEY, "U1", a, c),
         prepare=lambda app: app.issue_feedback(KEY, "U1", "反馈", ORG, cid()), unit_scoped=True),
    Case("create_rectification", "organizer", "published",
         lambda app, _, a, c: app.create_rectification(KEY, "U1", "1.1.2", "会议记录不全", None, a, c)),
    Case("report_rectification", "unit", "published",
         lambda app, it, a, c: app.report_rectification(it, "正在整改", None, a, c), prepare=_item, unit_scoped=True),
    Case("submit_rectification", "unit", "published",
         lambda app, it, a, c: app.submit_rectification(it, "已完成", None, a, c), prepare=_item, unit_scoped=True),
    Case("verify_rectification", "organizer", "published",
         lambda app, it, a, c: app.verify_rectification(it, "reject", "佐证不足", a, c),
         prepare=lambda app: _item(app, submitted=True)),
    Case("set_report_suggestions", "organizer", "published", lambda app, _, a, c: app.set_report_suggestions(KEY, "建议", a, c)),
    Case("set_results_use", "organizer", "published",
         lambda app, _, a, c: app.set_results_use(KEY, {"recognition_min_grade": "good"}, a, c)),
    Case("import_business_grades", "organizer", "published",
         lambda app, _, a, c: app.import_business_grades(KEY, [{"unit": "U1", "grade": "A"}], "0" * 64, a, c)),
    Case("close_cycle", "organizer", "published", lambda app, _, a, c: app.close_cycle(KEY, "年度结束", a, c)),
]
