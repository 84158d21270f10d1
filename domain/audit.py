"""Audit from events alone: the cycle as it stood at a position or a moment, each event in
words a person reads, and a grade explained step by step — each step citing the events it
rests on. Grades are computed by the same code that graded them (``AllocationReader``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable, Iterator
from uuid import UUID

from domain import ballots as ballot_rule
from domain import grading
from domain.application.reading import AllocationReader
from domain.decimals import fmt2
from domain.errors import Bilingual, InvalidInput, NotFound
from domain.aggregates import cycle_id, roster_id, session_id, unit_id
from domain.policy import GRADE_NAMES, parse_categories, parse_policy
from domain.rules import ROLE_NAMES, STAGE_NAMES, AdjustmentStatus, Role
from domain.scheme import parse_scheme
from domain import wording


@dataclass(frozen=True)
class Logged:
    """A domain event at its position in the log."""

    position: int
    event: Any

    @property
    def name(self) -> str:
        return type(self.event).__qualname__.split(".")[-1]


def read_log(app: Any, stop: int | None = None, batch: int = 2000) -> Iterator[Logged]:
    """Every event of the log in order, up to and including position ``stop``."""
    start = 1
    while True:
        notes = app.recorder.select_notifications(start=start, limit=batch, stop=stop)
        if not notes:
            return
        for n in notes:
            yield Logged(n.id, app.mapper.to_domain_event(n))
        start = notes[-1].id + 1


def parse_moment(text: str | None, field: str = "as_of") -> datetime | None:
    """An audit moment: ISO 8601 with a time zone."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("invalid_time", zh=f"{wording.field(field)}不是 ISO 8601 时间：{text}", en=f"{wording.field(field, 'en')}: not an ISO 8601 time", field=field) from None
    if moment.tzinfo is None:
        raise InvalidInput("invalid_time", zh=f"{wording.field(field)}须带时区，如 2026-12-01T18:00:00+08:00", en=f"{wording.field(field, 'en')}: needs a time zone", field=field)
    return moment


def position_at(app: Any, moment: datetime) -> int:
    """The last position whose event happened at or before ``moment``."""
    if moment.tzinfo is None:
        raise InvalidInput("invalid_time", zh="时间须带时区", en="the time needs a zone", field="as_of")
    last = 0
    for item in read_log(app):
        if item.event.timestamp > moment:
            break
        last = item.position
    return last


class Replay(AllocationReader):
    """The aggregates as they stood after the given events, rebuilt by replaying them."""

    def __init__(self, log: Iterable[Logged]) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self.history: dict[UUID, list[Logged]] = {}
        self.sheets: dict[tuple[str, str], list[UUID]] = {}  # (cycle, cohort) -> ballot sheets in log order
        self.position = 0
        for item in log:
            e = item.event
            self.aggregates[e.originator_id] = e.mutate(self.aggregates.get(e.originator_id))
            self.history.setdefault(e.originator_id, []).append(item)
            if item.name == "BallotSheetCast":
                self.sheets.setdefault((e.cycle, e.cohort), []).append(e.originator_id)
            self.position = item.position

    def _get(self, key: UUID, code: str, message: str | None = None, fld: str | None = None, *, zh: str | None = None, en: str | None = None) -> Any:
        try:
            return self.aggregates[key]
        except KeyError:
            raise NotFound(code, message, fld, zh=zh, en=en) from None

    def cycle(self, key: str) -> Any:
        return self._get(cycle_id(key), "cycle_not_found", zh=f"考核周期 {key} 在此位置尚不存在", en="no such cycle at this position", fld="cycle")

    def unit(self, cycle: str, unit: str) -> Any:
        return self._get(unit_id(cycle, unit), "unit_not_found", zh=f"单位 {unit} 不在周期中", en="no such unit", fld="unit")

    def session(self, cycle: str, cohort: str) -> Any:
        return self._get(session_id(cycle, cohort), "session_not_found", zh=f"{wording.cohort(cohort)}的述职评议未开启", en="no session", fld="cohort")

    def sheet_by_id(self, sheet: UUID) -> Any:
        return self.aggregates[sheet]

    def sheet_casts(self, session: Any) -> list[tuple[int, Any]]:
        keys = self.sheets.get((session.cycle, session.cohort), [])
        return [(self.history[k][0].position, self.aggregates[k]) for k in keys]

    def cut_off_position(self, session: Any) -> int:
        return next(i.position for i in self.events_of(session.id) if i.name == "BallotBoxClosed")

    def adjustment(self, adjustment: str) -> Any:
        return self._get(UUID(adjustment), "adjustment_not_found", zh=f"调整事项 {adjustment} 不存在", en="no such adjustment", fld="adjustment")

    def cycle_state(self, key: str) -> dict[str, Any]:
        c = self.cycle(key)
        return {
            "cycle": key,
            "position": self.position,
            "status": c.status,
            "stages": dict(c.stages),
            "ties": dict(c.ties),
            "overrides": dict(c.overrides),
            "results_published": c.results is not None,
        }

    def events_of(self, aggregate: UUID) -> list[Logged]:
        return self.history.get(aggregate, [])


def replay(app: Any, position: int | None = None) -> Replay:
    return Replay(read_log(app, stop=position))


# ------------------------------------------------------------------ the timeline


WHAT = {
    "CycleCreated": "创建考核周期",
    "UnitRegistered": "登记被考核单位",
    "EvaluatorsAssigned": "分配考核组成员",
    "CycleOpened": "开启考核周期",
    "StageOpened": "开启阶段",
    "StageClosed": "结束阶段",
    "DeadlineSet": "设置截止时间",
    "StageDeadlineMissed": "阶段逾期",
    "AdjustmentFiled": "登记调整事项",
    "TieResolved": "裁定并列",
    "GradeOverridden": "调整等次",
    "AllocationRejected": "退回等次方案",
    "AllocationApproved": "批准等次方案",
    "ResultsPublished": "公布考核结果",
    "CycleClosed": "结束考核周期",
    "UnitAssessmentStarted": "建立单位考核档案",
    "SelfReviewDraftSaved": "保存自评草稿",
    "SelfReviewSubmitted": "提交自查自评",
    "SelfReviewNotSubmitted": "未提交自评（记录）",
    "ScoringSubmitted": "提交指标评分",
    "FeedbackIssued": "下发考核反馈",
    "FeedbackAcknowledged": "确认考核反馈",
    "DebriefSessionOpened": "开启述职评议",
    "BallotCast": "提交评议表",
    "BallotSheetCast": "提交评议表",
    "BallotSheetVoided": "评议表截止后送达，作废",
    "BallotBoxClosed": "述职评议截止",
    "DebriefSessionClosed": "结束述职评议",
    "AdjustmentProposed": "提出调整事项",
    "AdjustmentApproved": "批准调整事项",
    "AdjustmentRejected": "驳回调整事项",
    "AccountCreated": "创建账号",
    "AccessChanged": "变更账号角色或所属单位",
    "PasswordReset": "重置账号密码",
    "AccountDeactivated": "停用账号",
    "AccountReactivated": "重新启用账号",
}

#: The events of an account (``domain.aggregates.account``): no cycle, the account they concern.
ACCOUNT_EVENTS = ("AccountCreated", "AccessChanged", "PasswordReset", "AccountDeactivated", "AccountReactivated")

STAGE_OF = {
    "SelfReviewDraftSaved": "self_review", "SelfReviewSubmitted": "self_review", "SelfReviewNotSubmitted": "self_review",
    "ScoringSubmitted": "scoring", "EvaluatorsAssigned": "scoring", "DebriefSessionOpened": "debrief", "BallotCast": "debrief",
    "BallotSheetCast": "debrief", "BallotSheetVoided": "debrief", "BallotBoxClosed": "debrief",
    "DebriefSessionClosed": "debrief", "AdjustmentProposed": "adjustments", "AdjustmentApproved": "adjustments",
    "AdjustmentRejected": "adjustments", "AdjustmentFiled": "adjustments", "TieResolved": "allocation",
    "GradeOverridden": "allocation", "AllocationRejected": "allocation", "AllocationApproved": "allocation",
    "ResultsPublished": "feedback", "FeedbackIssued": "feedback", "FeedbackAcknowledged": "feedback",
    "CycleCreated": "setup", "UnitRegistered": "setup", "UnitAssessmentStarted": "setup", "CycleOpened": "self_review",
}


@dataclass
class Entry:
    position: int
    at: str
    event: str
    what: str
    actor: str
    role: str
    cycle: str | None
    unit: str | None
    stage: str | None
    reason: str
    old: Any = None
    new: Any = None
    command_id: str = ""
    hash: str | None = None
    #: The account an account event concerns (None for the assessment's events).
    account: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if out["account"] is None:  # the assessment's events read as they always did
            del out["account"]
        return out


def timeline(items: Iterable[Logged], links: dict[int, str] | None = None) -> Iterator[Entry]:
    """Every event in words a person reads, with the cycle and unit it concerns."""
    cycles: dict[UUID, str] = {}
    units: dict[UUID, tuple[str, str]] = {}
    sessions: dict[UUID, str] = {}
    sheets: dict[UUID, tuple[str, str, str]] = {}
    adjustments: dict[UUID, tuple[str, str]] = {}
    accounts: dict[UUID, str] = {}
    for item in items:
        e, name = item.event, item.name
        cycle = unit = account = None
        stage = STAGE_OF.get(name)
        old = new = None
        detail = ""
        if name == "CycleCreated":
            cycles[e.originator_id] = e.key
        cycle = cycles.get(e.originator_id)
        if name == "UnitAssessmentStarted":
            units[e.originator_id] = (e.cycle, e.unit)
        if name == "DebriefSessionOpened":
            sessions[e.originator_id] = e.cycle
        if name == "AdjustmentProposed":
            adjustments[e.originator_id] = (e.cycle, e.unit)
        if name == "BallotSheetCast":
            sheets[e.originator_id] = (e.cycle, e.representative, e.category)
        if e.originator_id in units:
            cycle, unit = units[e.originator_id]
        elif e.originator_id in sessions:
            cycle = sessions[e.originator_id]
        elif e.originator_id in adjustments:
            cycle, unit = adjustments[e.originator_id]
        elif e.originator_id in sheets:
            cycle, rep, cat = sheets[e.originator_id]
            detail = f"（{rep}，{cat}）"
        if name in ("StageOpened", "StageClosed", "StageDeadlineMissed", "DeadlineSet"):
            stage = e.stage
            detail = f"「{STAGE_NAMES.get(e.stage, e.stage)}」"
        if name == "DeadlineSet":
            old, new = e.previous, e.deadline
        if name == "UnitRegistered":
            unit = e.unit
            detail = f" {e.unit} {e.name}"
        if name == "EvaluatorsAssigned":
            unit = e.unit
            old, new = e.previous, list(e.evaluators)
            detail = f" {e.unit}：{'、'.join(e.evaluators) or '全部考核组成员 / all evaluators'}"
        if name == "GradeOverridden":
            unit = e.unit
            old, new = e.previous, e.grade
            detail = f" {e.unit}：{GRADE_NAMES.get(e.previous or '', e.previous)} → {GRADE_NAMES.get(e.grade, e.grade)}"
        if name == "TieResolved":
            new = list(e.units)
            detail = f" {e.cohort}：{'、'.join(e.units)}"
        if name == "AdjustmentProposed":
            new = {"kind": e.kind, "points": e.points, "levels": e.levels}
            detail = f" {e.unit} {({'bonus': '加分', 'downgrade': '降档', 'veto': '一票否决'})[e.kind]}" + (
                f" {e.points} 分" if e.points else f" {e.levels} 档" if e.levels else ""
            )
        if name in ("AdjustmentApproved", "AdjustmentRejected"):
            old = AdjustmentStatus.PENDING
            new = AdjustmentStatus.APPROVED if name == "AdjustmentApproved" else AdjustmentStatus.REJECTED
        if name == "BallotCast":
            detail = f"（{e.representative}，{e.category}）"
            unit = None
        if name == "DebriefSessionClosed" and e.sheets:  # v1 closes are upcast with no sheets
            new = {"sheets": len(e.sheets)}
            detail = f"（计入 {len(e.sheets)} 份评议表）"
        if name == "AccountCreated":
            accounts[e.originator_id] = e.username
            new = {"role": e.account_role, "unit": e.unit, "active": e.active}
        if name in ACCOUNT_EVENTS:
            account = accounts.get(e.originator_id)
            detail = f" {account}"
        if name == "AccountCreated":
            detail += f"（{ROLE_NAMES.get(e.account_role, e.account_role)}{'，' + e.unit if e.unit else ''}）"
        if name == "AccessChanged":
            old = {"role": e.previous_role, "unit": e.previous_unit}
            new = {"role": e.account_role, "unit": e.unit}
            detail += (f"：{ROLE_NAMES.get(e.previous_role, e.previous_role)}{'（' + e.previous_unit + '）' if e.previous_unit else ''}"
                       f" → {ROLE_NAMES.get(e.account_role, e.account_role)}{'（' + e.unit + '）' if e.unit else ''}")
        if name == "ScoringSubmitted":
            new = dict(e.scores)
        if name == "SelfReviewSubmitted":
            new = dict(e.scores)
        reason = getattr(e, "reason", "") or ""  # not drift: only the steps that ask for a reason have one
        yield Entry(
            position=item.position,
            at=e.timestamp.isoformat(),
            event=name,
            what=WHAT.get(name, name) + detail,
            actor=e.actor,
            role=e.role,
            cycle=cycle,
            unit=unit,
            stage=stage,
            reason=reason,
            old=old,
            new=new,
            command_id=e.command_id,
            hash=(links or {}).get(item.position),
            account=account,
        )


def describe(entry: Entry) -> str:
    who = f"{entry.actor}（{ROLE_NAMES.get(entry.role, entry.role)}）"
    why = f"，理由：{entry.reason}" if entry.reason else ""
    return f"{entry.at} {who} {entry.what}{why}"


# ------------------------------------------------------------------ explaining a grade


def _cite(item: Logged, links: dict[int, str] | None) -> dict[str, Any]:
    return {
        "position": item.position,
        "event": item.name,
        "actor": item.event.actor,
        "role": item.event.role,
        "at": item.event.timestamp.isoformat(),
        "hash": (links or {}).get(item.position),
    }


def explain(r: Replay, cycle: str, unit: str, links: dict[int, str] | None = None, role: str = Role.AUDITOR) -> dict[str, Any]:
    """The derivation of a unit's grade from its events (SPEC §4–5), step by step, as ``role``
    may read it: the ballots named (each score with its representative and sheet) or, under a
    secret ballot for any role but the auditor, without names (``domain.ballots``). Either way
    ``debrief_score.ballot_view`` says which, and the turnout."""
    c = r.cycle(cycle)
    ua = r.unit(cycle, unit)
    policy = parse_policy(c.policy)
    categories = parse_categories(c.categories)
    allocation = r.allocation(cycle)
    g = allocation.unit(unit)
    s = g.score
    cohort = allocation.cohorts[ua.cohort]
    cycle_events = r.events_of(cycle_id(cycle))
    created = [i for i in cycle_events if i.name == "CycleCreated"]
    scheme = parse_scheme(c.schemes[ua.cohort])

    # W
    scoring = [i for i in r.events_of(unit_id(cycle, unit)) if i.name == "ScoringSubmitted"]
    points = []
    for p in scheme.points:
        value = (ua.scores or {}).get(p.code)
        points.append({"code": p.code, "name": p.name, "max": str(p.max), "score": value, "applicable": value is not None,
                       "na_reason": ua.na_reasons.get(p.code) if value is None else None})
    applicable = [p for p in points if p["applicable"]]
    total = sum((Decimal(p["score"]) for p in applicable), Decimal(0))
    maximum = sum((Decimal(p["max"]) for p in applicable), Decimal(0))

    # D
    session_events = r.events_of(session_id(cycle, ua.cohort))
    ballots = []
    for item in session_events:
        if item.name == "BallotCast" and unit in item.event.scores:
            ballots.append({"representative": item.event.representative, "category": item.event.category,
                            "score": item.event.scores[unit], "cited": _cite(item, links)})
    if session_events:
        for sheet in r.counted_sheets(r.session(cycle, ua.cohort)):
            item = r.events_of(sheet.id)[0]  # its BallotSheetCast
            if unit in sheet.scores:
                ballots.append({"representative": sheet.representative, "category": sheet.category,
                                "score": sheet.scores[unit], "cited": _cite(item, links)})
    view = ballot_rule.ballot_view(role, policy.secret_ballot)
    session = r.session(cycle, ua.cohort) if session_events else None
    cast = len(r.ballots_of(session)) if session is not None else 0
    roster = r.aggregates.get(roster_id(cycle, ua.cohort))  # None for sessions before rosters existed
    rostered = len(roster.categories) if roster is not None else None
    shown = ballot_rule.marker(view, policy.secret_ballot, ballot_rule.turnout(cast, rostered))
    cats = []
    for m in s.categories:
        mine = [b for b in ballots if b["category"] == m.category]
        low_marked = high_marked = False
        for b in sorted(mine, key=lambda b: Decimal(b["score"])):
            b["trimmed"] = None
        if m.dropped_low is not None:
            for b in sorted(mine, key=lambda b: Decimal(b["score"])):
                if not low_marked and Decimal(b["score"]) == m.dropped_low:
                    b["trimmed"], low_marked = "lowest", True
                    break
            for b in sorted(mine, key=lambda b: Decimal(b["score"]), reverse=True):
                if not high_marked and b["trimmed"] is None and Decimal(b["score"]) == m.dropped_high:
                    b["trimmed"], high_marked = "highest", True
                    break
        if view is ballot_rule.BallotView.NAMED:
            cats.append({"category": m.category, "weight": str(categories[m.category]), "ballots": mine,
                         "trimmed": m.dropped_low is not None, "mean": str(m.mean)})
        else:
            cats.append({"category": m.category, "weight": str(categories[m.category]), "ballots": ballot_rule.anonymous(mine),
                         "count": len(mine), "trimmed": m.dropped_low is not None, "mean": str(m.mean)})
    debrief_cited = [] if view is ballot_rule.BallotView.NAMED else [
        _cite(i, links) for i in session_events if i.name in ("DebriefSessionOpened", "BallotBoxClosed", "DebriefSessionClosed")
    ]

    # B, downgrades, veto
    adjustments = []
    for adj_id in c.adjustments:
        a = r.adjustment(adj_id)
        if a.unit != unit:
            continue
        adjustments.append({
            "id": adj_id, "kind": a.kind, "points": a.points, "levels": a.levels, "reason": a.reason,
            "status": a.status, "proposer": a.proposer, "decided_by": a.decided_by,
            "cited": [_cite(i, links) for i in r.events_of(UUID(adj_id))],
        })
    override = [i for i in cycle_events if i.name == "GradeOverridden" and i.event.unit == unit]
    published = [i for i in cycle_events if i.name == "ResultsPublished"]
    ranked = [u.unit for u in cohort.units if u.rank is not None]
    return {
        "cycle": cycle,
        "unit": unit,
        "cohort": ua.cohort,
        "position": r.position,
        "policy": {"cited": [_cite(i, links) for i in created], **c.policy, "categories": c.categories},
        "work_score": {
            "formula": "W = round2(100 × Σ s_p / Σ max_p)，不适用要点不计入 / N/A points left out",
            "sum": str(total), "max": str(maximum), "value": fmt2(s.work_score) if s.work_score is not None else None,
            "points": points, "cited": [_cite(i, links) for i in scoring],
        },
        "debrief_score": {
            "formula": f"每类去掉一个最高分和一个最低分（不少于 {policy.trim_min_ballots} 票时）后取平均，D = round2(Σ w_c·m_c / Σ w_c)",
            "categories": cats, "value": fmt2(s.debrief_score) if s.debrief_score is not None else None,
            "ballot_view": shown,
            **({"cited": debrief_cited} if view is ballot_rule.BallotView.ANONYMOUS else {}),
        },
        "composite": {
            "formula": f"C = round2({policy.work_weight} × W + {policy.debrief_weight} × D)",
            "value": fmt2(s.composite) if s.composite is not None else None,
        },
        "bonus": {
            "formula": f"B = min(Σ 已批准加分, {policy.bonus_cap})",
            "approved": [a for a in adjustments if a["kind"] == "bonus" and a["status"] == "approved"],
            "value": fmt2(s.bonus),
        },
        "final_score": {"formula": "F = C + B", "value": fmt2(s.final_score) if s.final_score is not None else None},
        "rank": {
            "value": g.rank, "order": ranked, "n": cohort.n,
            "rule": Bilingual("按 (F, D, W) 降序，三者全同则并列", "by (F, D, W) descending; equal keys share a rank"),
        },
        "quota": {
            "q": cohort.quota, "share": str(policy.excellent_share), "place": g.quota_place,
            "eligible": s.final_score is not None and s.final_score >= policy.thresholds.excellent and not s.penalised,
            "threshold": str(policy.thresholds.excellent),
            "tie": None if cohort.tie is None else {"candidates": list(cohort.tie.candidates), "places": cohort.tie.places,
                                                    "chosen": list(cohort.tie.chosen or [])},
        },
        "base_grade": g.base_grade,
        "downgrades": [a for a in adjustments if a["kind"] in ("downgrade", "veto")],
        "downgrade_levels": s.downgrade_levels,
        "vetoed": s.vetoed,
        "override": None if not override else {"grade": override[-1].event.grade, "reason": override[-1].event.reason,
                                               "cited": [_cite(i, links) for i in override]},
        "grade": g.grade,
        "published": [_cite(i, links) for i in published],
        "result": grading.unit_result(g),
    }
