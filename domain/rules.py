"""Who may do what, when: the stage and actor rules, stated once.

The aggregates call these before they record an event; the workflows' update validators call
the very same functions against the state they keep, so a request is refused before it is
accepted into a workflow's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any, Mapping, Sequence

from domain.decimals import to_decimal
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound, all_of
from domain.stages import CLOSED, OPEN, PENDING, STAGES, CycleStatus, Stage, StageStatus  # noqa: F401 (re-exported)
from domain import wording


class Role(StrEnum):
    ORGANIZER = "organizer"
    EVALUATOR = "evaluator"
    UNIT = "unit"
    REPRESENTATIVE = "representative"
    COMMITTEE = "committee"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SYSTEM = "system"  # the process itself (deadlines, reminders); no person holds it


#: The roles a person may hold (``Role.SYSTEM`` is the process's own).
ROLES = tuple(r for r in Role if r is not Role.SYSTEM)
ROLE_NAMES = {
    Role.ORGANIZER: "组织部",
    Role.EVALUATOR: "考核组成员",
    Role.UNIT: "被考核单位",
    Role.REPRESENTATIVE: "参会代表",
    Role.COMMITTEE: "集团党委",
    Role.AUDITOR: "审计/纪检",
    Role.ADMIN: "系统管理员",
}

STAGE_NAMES = {
    "setup": "准备",
    Stage.SELF_REVIEW: "自查自评",
    Stage.SCORING: "指标评分",
    Stage.DEBRIEF: "述职评议",
    Stage.ADJUSTMENTS: "加分与降档",
    Stage.ALLOCATION: "等次确定",
    Stage.FEEDBACK: "考核反馈",
}


class SelfReviewStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    MISSED = "missed"


class FeedbackStatus(StrEnum):
    NONE = "none"
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"


class AdjustmentKind(StrEnum):
    BONUS = "bonus"
    DOWNGRADE = "downgrade"
    VETO = "veto"


class AdjustmentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Decision(StrEnum):
    """The committee's (or the organizer's, on a rectification item) answer to a proposal."""

    APPROVE = "approve"
    REJECT = "reject"


class RectificationStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    CLOSED = "closed"


ADJUSTMENT_KINDS = tuple(AdjustmentKind)


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, their role, and the unit they are attached to (if any)."""

    user: str
    role: str
    unit: str | None = None


def require_role(actor: Actor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden(
            "wrong_role",
            zh=f"此操作须由{wording.roles(roles)}执行，当前角色为{wording.role(actor.role)}",
            en=f"this action needs {wording.roles(roles, 'en')}; you are {wording.role(actor.role, 'en')}",
        )


CYCLE_STATUS_NAMES = {CycleStatus.SETUP: "准备中", CycleStatus.OPEN: "进行中", CycleStatus.PUBLISHED: "已公布", CycleStatus.CLOSED: "已结束"}


def require_cycle_status(status: str, wanted: str) -> None:
    if status != wanted:
        raise Conflict(
            "wrong_cycle_status",
            zh=f"考核周期{CYCLE_STATUS_NAMES.get(status, status)}，不接受此操作", en=f"the cycle is {status}, not {wanted}",
            field="cycle",
        )


def stage_label(stage: str) -> str:
    return f"{STAGE_NAMES.get(stage, stage)}({stage})"


def require_stage_open(stages: Mapping[str, str], stage: str) -> None:
    status = stages.get(stage, PENDING)
    if status != OPEN:
        state = "尚未开始" if status == PENDING else "已结束"
        raise Conflict(
            "stage_not_open",
            zh=f"{stage_label(stage)}阶段{state}，不接受此操作", en=f"the {stage} stage is {status}, not open",
            field="stage",
        )


# ----------------------------------------------------------------- keys, names, times

KEY_MAX = 64
NAME_MAX = 200


def check_key(value: Any, field: str, code: str = "invalid_key", label: str = "编号") -> str:
    """Keys (cycle, unit, category) are 1–64 characters without '/' (they appear in URLs and ids)."""
    if not isinstance(value, str) or not value.strip() or len(value) > KEY_MAX or "/" in value or value != value.strip():
        raise InvalidInput(code, zh=f"{label}须为 1–{KEY_MAX} 个字符，不含 / 和首尾空格", en=f"{field}: 1..{KEY_MAX} chars, no '/'", field=field)
    return value


def check_text(value: Any, field: str, limit: int = NAME_MAX, label: str = "名称") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("name_required", zh=f"{label}不能为空", en=f"{field} is required", field=field)
    if len(value.strip()) > limit:
        raise InvalidInput("too_long", zh=f"{label}最多 {limit} 个字符", en=f"{field}: at most {limit} characters", field=field)
    return value.strip()


def parse_deadline(value: Any, field: str, now: datetime | None = None) -> str | None:
    """A stage deadline: an ISO 8601 time with a zone, in the future; ``None`` clears it."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("invalid_deadline", zh=f"{wording.field(field)}须为 ISO 8601 时间", en=f"{wording.field(field, 'en')}: must be an ISO 8601 time", field=field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput("invalid_deadline", zh=f"{wording.field(field)}不是有效时间：{value}", en=f"{wording.field(field, 'en')}: not an ISO 8601 time", field=field) from None
    if moment.tzinfo is None:
        raise InvalidInput("invalid_deadline", zh=f"{wording.field(field)}须带时区，如 +08:00", en=f"{wording.field(field, 'en')}: needs a time zone", field=field)
    if moment <= (now or datetime.now(timezone.utc)):
        raise InvalidInput("deadline_in_past", zh=f"{wording.field(field)}截止时间已过：{value}", en=f"{wording.field(field, 'en')}: the deadline is in the past", field=field)
    return moment.isoformat()


# ----------------------------------------------------------------- stage transitions


def check_open_stage(stages: Mapping[str, str], stage: str) -> None:
    """Which stage may be opened now. Self-review opens with the cycle; scoring and debrief
    may open while self-review is still running; adjustments only once 2–4 are closed."""
    if stage not in (Stage.SCORING, Stage.DEBRIEF, Stage.ADJUSTMENTS):
        raise InvalidInput(
            "stage_not_openable",
            zh=f"{stage_label(stage)}不能手动开启（可开启：指标评分、述职评议、加分与降档）", en="this stage cannot be opened by hand",
            field="stage",
        )
    if stages.get(stage, PENDING) != PENDING:
        raise Conflict("stage_already_opened", zh=f"{stage_label(stage)}阶段已开启过", en="already opened", field="stage")
    if stage == Stage.ADJUSTMENTS:
        for earlier in (Stage.SELF_REVIEW, Stage.SCORING, Stage.DEBRIEF):
            if stages.get(earlier) != CLOSED:
                raise Conflict(
                    "earlier_stage_open",
                    zh=f"{stage_label(earlier)}阶段尚未结束，不能开启加分与降档", en=f"{earlier} must be closed first",
                    field="stage",
                )


def check_close_stage(stages: Mapping[str, str], stage: str) -> None:
    if stage not in (Stage.SELF_REVIEW, Stage.SCORING, Stage.DEBRIEF, Stage.ADJUSTMENTS):
        raise InvalidInput(
            "stage_not_closable",
            zh=f"{stage_label(stage)}不能手动关闭（可关闭：自查自评、指标评分、述职评议、加分与降档）", en="cannot be closed by hand",
            field="stage",
        )
    require_stage_open(stages, stage)
    if stage == Stage.SCORING and stages.get(Stage.SELF_REVIEW) != CLOSED:
        raise Conflict(
            "earlier_stage_open",
            zh="自查自评阶段尚未结束，不能结束指标评分", en="close self_review before scoring",
            field="stage",
        )


# ----------------------------------------------------------------- unit inputs


def point_score_errors(
    point_max: Mapping[str, Decimal],
    scores: Mapping[str, Any],
    *,
    field: str,
    allow_null: bool,
) -> tuple[dict[str, Decimal | None], list[InvalidInput]]:
    """Every point of a sheet checked on its own: the valid scores, and one error per bad point
    (unknown code, ``null`` where not allowed, not a number, outside ``0 ≤ s ≤ max``), in the sheet's order."""
    result: dict[str, Decimal | None] = {}
    errors: list[InvalidInput] = []
    for code, raw in scores.items():
        where = f"{field}.{code}"
        if code not in point_max:
            errors.append(InvalidInput("unknown_point", zh=f"未知的评价要点 {code}", en="unknown evaluation point", field=where))
            continue
        if raw is None:
            if not allow_null:
                errors.append(InvalidInput("score_required", zh=f"要点 {code} 必须打分", en="a score is required", field=where))
            else:
                result[code] = None
            continue
        try:
            value = to_decimal(raw, where)
        except InvalidInput as e:
            errors.append(InvalidInput(e.code, zh=f"要点 {code} 的得分不是有效数字", en=f"the score of point {code} is not a number", field=where))
            continue
        if value < 0 or value > point_max[code]:
            errors.append(InvalidInput(
                "score_out_of_range",
                zh=f"要点 {code} 得分 {value} 超出范围 0–{point_max[code]}", en=f"score must be within 0..{point_max[code]}",
                field=where,
            ))
            continue
        result[code] = value
    return result, errors


def parse_point_scores(
    point_max: Mapping[str, Decimal],
    scores: Any,
    *,
    field: str,
    allow_null: bool,
    complete: bool,
) -> dict[str, Decimal | None]:
    """Validate a unit's scores against its scheme: known codes, 0 ≤ s ≤ max, every point
    present when ``complete``; ``null`` (not applicable) only where ``allow_null``.

    Every bad point is refused at once (:func:`domain.errors.all_of`): the first one's error,
    and ``errors`` naming each bad or missing point, so a sheet shows them all beside their fields."""
    if not isinstance(scores, Mapping):
        raise InvalidInput("invalid_scores", zh=f"{wording.field(field)}必须是对象", en=f"{wording.field(field, 'en')}: must be an object", field=field)
    result, errors = point_score_errors(point_max, scores, field=field, allow_null=allow_null)
    first = errors[0] if errors else None
    if complete:
        missing = [c for c in point_max if c not in scores]
        if missing:
            shown = "、".join(missing[:8]) + ("…" if len(missing) > 8 else "")
            summary = InvalidInput(
                "missing_points",
                zh=f"缺少 {len(missing)} 个评价要点的分数：{shown}", en=f"scores missing for {len(missing)} point(s)",
                field=f"{field}.{missing[0]}",
            )
            first = first or summary
            errors += [InvalidInput("missing_points", zh=f"要点 {c} 尚未打分", en=f"point {c} has no score yet", field=f"{field}.{c}") for c in missing]
    if errors:
        raise all_of(errors, first)
    return result


def check_self_reviewer(actor: Actor, unit: str) -> None:
    """Only the unit's own users review it."""
    require_role(actor, Role.UNIT)
    if actor.unit != unit:
        raise Forbidden("not_your_unit", zh=f"只能为本单位自评（您属于 {actor.unit}）", en="you may self-review only your own unit")


def check_self_review(stages: Mapping[str, str], actor: Actor, unit: str, status: str) -> None:
    check_self_reviewer(actor, unit)
    require_stage_open(stages, Stage.SELF_REVIEW)
    if status != SelfReviewStatus.PENDING:
        raise Conflict("already_submitted", zh=f"{unit} 已提交自评", en="self-review already submitted", field="unit")


def check_evaluator_for(actor: Actor, unit: str, assigned: Sequence[str] | None) -> None:
    """An evaluator scores the units assigned to them (none assigned: every unit), never their
    own unit (SPEC §1 "Evaluators")."""
    if actor.unit is not None and actor.unit == unit:
        raise Forbidden(
            "own_unit",
            zh=f"考核组成员 {actor.user} 隶属于单位 {unit}，不能为本单位评分", en=f"evaluator {actor.user} belongs to unit {unit} and cannot score it",
            field="unit",
        )
    if assigned is not None and actor.user not in assigned:
        raise Forbidden(
            "not_assigned",
            zh=f"考核组成员 {actor.user} 未被分配评价单位 {unit}（已分配：{'、'.join(assigned)}）", en=f"evaluator {actor.user} is not assigned to unit {unit}",
            field="unit",
        )


def check_assignment(
    stages: Mapping[str, str],
    actor: Actor,
    units: Mapping[str, Any],
    unit: str,
    evaluators: Any,
    known: Mapping[str, str | None],
) -> list[str]:
    """The organizer assigns evaluators to a unit of the cycle, before its scoring closes: each
    a known evaluator (``known``: username → the unit they belong to, None for none), none
    attached to that unit. Returns the evaluators in the order given, each once."""
    require_role(actor, Role.ORGANIZER)
    if unit not in units:
        raise NotFound("unit_not_found", zh=f"单位 {unit} 不在本周期中", en=f"unit {unit} is not in this cycle", field="unit")
    if stages.get(Stage.SCORING) == CLOSED:
        raise Conflict(
            "stage_closed", zh=f"指标评分已结束，不能再为单位 {unit} 分配考核组成员", en=f"scoring is closed: unit {unit} cannot be assigned now", field="stage"
        )
    if not isinstance(evaluators, list) or not all(isinstance(e, str) for e in evaluators):
        raise InvalidInput("invalid_evaluators", zh="evaluators 须为考核组成员用户名的列表", en="evaluators must be a list of usernames", field="evaluators")
    out: list[str] = []
    for i, name in enumerate(e.strip() for e in evaluators):
        if name not in known:
            raise InvalidInput(
                "unknown_evaluator",
                zh=f"{name or '（空）'} 不是考核组成员，不能分配评价单位 {unit}", en=f"{name!r} is not an evaluator; cannot assign unit {unit}",
                field=f"evaluators[{i}]",
            )
        if known[name] == unit:
            raise Conflict(
                "own_unit",
                zh=f"考核组成员 {name} 隶属于单位 {unit}，不能分配其为本单位评分", en=f"evaluator {name} belongs to unit {unit} and cannot be assigned to it",
                field=f"evaluators[{i}]",
            )
        if name not in out:
            out.append(name)
    return out


def check_scoring(
    stages: Mapping[str, str], actor: Actor, unit: str, self_review: str, scored: bool, assigned: Sequence[str] | None = None
) -> None:
    """``assigned``: the evaluators the unit is assigned to (None: every evaluator)."""
    require_role(actor, Role.EVALUATOR)
    check_evaluator_for(actor, unit, assigned)
    require_stage_open(stages, Stage.SCORING)
    if self_review == SelfReviewStatus.PENDING and stages.get(Stage.SELF_REVIEW) != CLOSED:
        raise Conflict(
            "self_review_pending",
            zh=f"{unit} 尚未提交自评，自评阶段也未结束", en="wait for the unit's self-review or the stage's close",
            field="unit",
        )
    if scored:
        raise Conflict("already_submitted", zh=f"{unit} 的指标评分已提交", en="scoring already submitted", field="unit")


def check_ballot(
    actor: Actor,
    representative: str,
    is_open: bool,
    cast_by: Any,
    categories: Mapping[str, Any],
    category: str | None,
    roster: Mapping[str, str] | None = None,
) -> str:
    """Validate who casts a ballot sheet and in which category; returns the category.

    ``roster`` (representative → rostered category, SPEC §1 "Roster"): only a rostered
    representative casts, only in the rostered category (a sheet that names none is cast in it).
    An empty roster admits no one. ``None`` only for the legacy ``BallotCast`` path of sessions
    recorded before rosters existed (the workflow's replay-only update), never for a new sheet."""
    require_role(actor, Role.REPRESENTATIVE)
    if actor.user != representative:
        raise Forbidden("not_your_ballot", zh="只能提交本人的评议表", en="you can cast only your own ballot sheet")
    if not is_open:
        raise Conflict("session_closed", zh="本场述职评议已结束", en="this debrief session is closed", field="session")
    if roster is not None:
        category = check_on_roster(representative, roster, category)
    if representative in cast_by:
        raise ballot_already_cast(representative)
    if category is None:
        if len(categories) != 1:
            raise InvalidInput(
                "category_required", zh=f"请指明代表类别：{'、'.join(categories)}", en="a category is required", field="category"
            )
        return next(iter(categories))
    if category not in categories:
        raise InvalidInput(
            "unknown_category", zh=f"未知的代表类别 {category}（可选：{'、'.join(categories)}）", en="unknown category", field="category"
        )
    return category


def check_on_roster(representative: str, roster: Mapping[str, str], category: str | None) -> str:
    """A sheet only from a rostered representative, only in the rostered category; a sheet that
    names no category is cast in the rostered one. Returns the category."""
    rostered = roster.get(representative)
    if rostered is None:
        raise Forbidden(
            "not_on_roster",
            zh=f"代表 {representative} 不在本场述职评议的参会名单上，不能提交评议表（只有名单上的代表可以投票）", en=f"representative {representative} is not on this session's roster: only rostered representatives cast",
            field="representative",
        )
    if category is not None and category != rostered:
        raise Conflict(
            "wrong_category",
            zh=f"代表 {representative} 登记的代表类别为 {rostered}，不能以 {category} 类别投票（只能按登记的类别投票）", en=f"representative {representative} is rostered as {rostered}, not {category}: a sheet is cast in the rostered category",
            field="category",
        )
    return rostered


def parse_roster(entries: Any, categories: Mapping[str, Any], field: str = "roster") -> list[dict[str, str]]:
    """A session's roster: ``[{representative, category}]``, each representative once, each
    category one of the cycle's (a roster entry may omit it when the cycle has one category)."""
    if not isinstance(entries, list):
        raise InvalidInput("invalid_roster", zh="参会名单须为列表 [{representative, category}]", en="the roster must be a list", field=field)
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{field}[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput("invalid_roster", zh="名单每行须为 {representative, category}", en="each entry is an object", field=where)
        rep = check_key(entry.get("representative"), f"{where}.representative", "invalid_representative", "代表用户名")
        if rep in seen:
            raise InvalidInput(
                "duplicate_representative",
                zh=f"代表 {rep} 在名单中出现了两次（每位代表在一场中只登记一次）", en=f"representative {rep} is listed twice",
                field=f"{where}.representative",
            )
        seen.add(rep)
        category = entry.get("category")
        if category is None or category == "":
            if len(categories) != 1:
                raise InvalidInput(
                    "category_required",
                    zh=f"请为代表 {rep} 指明代表类别：{'、'.join(categories)}", en=f"a category is required for {rep}",
                    field=f"{where}.category",
                )
            category = next(iter(categories))
        if category not in categories:
            raise InvalidInput(
                "unknown_category",
                zh=f"代表 {rep} 的类别 {category} 不是本周期的代表类别（可选：{'、'.join(categories)}）", en=f"unknown category {category}",
                field=f"{where}.category",
            )
        out.append({"representative": rep, "category": str(category)})
    return out


def check_roster_change(actor: Actor, cohort: str, session_closed: bool, cast_and_changed: list[str]) -> None:
    """The organizer sets a session's roster before the session closes; a representative who has
    cast stays on it in their category (their sheet was cast as that)."""
    require_role(actor, Role.ORGANIZER)
    if session_closed:
        raise Conflict(
            "session_closed", zh=f"{wording.cohort(cohort)}的述职评议已结束，不能再修改参会名单", en="the session is closed; its roster is final", field="cohort"
        )
    if cast_and_changed:
        who = "、".join(cast_and_changed)
        raise Conflict(
            "representative_has_cast",
            zh=f"代表 {who} 已提交评议表，不能从名单中移除或更改类别", en=f"{who} has cast a sheet: cannot be removed or recategorized",
            field="roster",
        )


def turnout(cast: int, rostered: int) -> Decimal | None:
    """Turnout = sheets cast / rostered representatives (None for an empty roster)."""
    if rostered <= 0:
        return None
    return Decimal(cast) / Decimal(rostered)


def check_turnout(cohort: str, cast: int, rostered: int, min_turnout: Decimal, reason: Any) -> str | None:
    """A session closes below ``policy.min_turnout`` only with a reason (recorded on its close).
    An empty roster counts as turnout 0. Returns the reason to record (None when not needed)."""
    share = turnout(cast, rostered) or Decimal(0)
    text = reason.strip() if isinstance(reason, str) and reason.strip() else None
    if share < min_turnout and text is None:
        raise InvalidInput(
            "turnout_below_minimum",
            zh=f"{wording.cohort(cohort)}的到会率 {cast}/{rostered} 低于最低要求 {min_turnout:.0%}，结束评议须说明理由", en=f"the turnout of the {wording.cohort(cohort, 'en')} session, {cast}/{rostered}, is below the minimum {min_turnout:.0%}: closing needs a reason",
            field="reason",
        )
    return text


def ballot_already_cast(representative: str) -> Conflict:
    return Conflict(
        "ballot_already_cast",
        zh=f"代表 {representative} 已在本场提交过评议表", en="one ballot sheet per representative per session",
        field="representative",
    )


def ballot_not_counted() -> Conflict:
    """A sheet stored after the session's cut-off: it is recorded void, never told accepted."""
    return Conflict(
        "session_closed",
        zh="本场述职评议已结束，您的评议表在截止后才送达，不予计入", en="this debrief session closed before your sheet arrived; it does not count",
        field="session",
    )


def check_close_session(actor: Actor, is_open: bool) -> None:
    require_role(actor, Role.ORGANIZER)
    if not is_open:
        raise Conflict("session_closed", zh="本场述职评议已结束", en="this debrief session is already closed", field="cohort")


def parse_ballot_scores(secretaries: Any, scores: Any, field: str = "scores") -> dict[str, Decimal]:
    if not isinstance(scores, Mapping) or not scores:
        raise InvalidInput("invalid_scores", zh="评议表至少为一位书记打分", en="a ballot must score at least one secretary", field=field)
    out: dict[str, Decimal] = {}
    for unit, raw in scores.items():
        where = f"{field}.{unit}"
        if unit not in secretaries:
            raise InvalidInput("unknown_unit", zh=f"{unit} 不是本场述职的单位", en="not a unit of this session", field=where)
        value = to_decimal(raw, where)
        if value < 0 or value > 100:
            raise InvalidInput("score_out_of_range", zh=f"评议分 {value} 须在 0–100 之间", en="must be within 0..100", field=where)
        out[unit] = value
    return out


def parse_ballot_sheet(secretaries: Any, scores: Any, field: str = "scores") -> tuple[dict[str, Decimal], list[str]]:
    """A ballot sheet is complete: every secretary of the session is scored (0–100) or explicitly
    abstained (``null``, 弃权). Returns ``(scores, abstained)``. An abstention is not a score: it is
    left out of the sheet's scores, so it counts in no mean (SPEC §4, "the unit's scores from that
    category's ballots"). A secretary left out is refused, named, before anything is stored."""
    if not isinstance(scores, Mapping) or not scores:
        raise InvalidInput("invalid_scores", zh="评议表至少为一位书记打分", en="a ballot must score at least one secretary", field=field)
    for unit in scores:
        if unit not in secretaries:
            raise InvalidInput("unknown_unit", zh=f"{unit} 不是本场述职的单位", en="not a unit of this session", field=f"{field}.{unit}")
    given = {unit: value for unit, value in scores.items() if value is not None}
    parsed = parse_ballot_scores(secretaries, given, field) if given else {}
    for unit in secretaries:
        if unit not in scores:
            raise InvalidInput(
                "ballot_incomplete",
                zh=f"未给 {unit} 书记打分，也未标明弃权：每位书记须打分或弃权", en=f"{unit} is neither scored nor abstained: score or abstain for every secretary",
                field=f"{field}.{unit}",
            )
    if not parsed:
        raise InvalidInput("invalid_scores", zh="评议表至少为一位书记打分", en="a ballot must score at least one secretary", field=field)
    return parsed, [unit for unit in secretaries if scores[unit] is None]


# ----------------------------------------------------------------- adjustments


def parse_adjustment(kind: Any, points: Any, levels: Any, reason: Any) -> tuple[str, Decimal | None, int | None]:
    if kind not in ADJUSTMENT_KINDS:
        raise InvalidInput("unknown_kind", zh=f"调整类型须为 {'、'.join(ADJUSTMENT_KINDS)}", en="unknown kind", field="kind")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason_required", zh="加分、降档、否决都必须说明理由", en="a reason is required", field="reason")
    if kind == AdjustmentKind.BONUS:
        p = to_decimal(points, "points")
        if p <= 0 or p > 100 or p.as_tuple().exponent < -2:
            raise InvalidInput(
                "invalid_points", zh="加分须为 0–100 之间、最多两位小数的正数", en="bonus points: positive, ≤ 100, at most 2 decimals", field="points"
            )
        return kind, p, None
    if kind == AdjustmentKind.DOWNGRADE:
        if isinstance(levels, str) and levels.strip().isdigit():
            levels = int(levels)
        if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1 or levels > 3:
            raise InvalidInput("invalid_levels", zh="降档级数须为 1–3 的整数", en="levels must be an integer 1..3", field="levels")
        return kind, None, levels
    return kind, None, None


def check_propose(stages: Mapping[str, str], actor: Actor) -> None:
    require_role(actor, Role.ORGANIZER)
    require_stage_open(stages, Stage.ADJUSTMENTS)


def check_decide(stages: Mapping[str, str], actor: Actor, unit: str, proposer: str, status: str) -> None:
    require_role(actor, Role.COMMITTEE)
    require_stage_open(stages, Stage.ADJUSTMENTS)
    if actor.user == proposer:
        raise Forbidden("proposer_cannot_decide", zh="提出人不能审批自己提出的事项", en="the proposer cannot decide it")
    if actor.unit is not None and actor.unit == unit:
        raise Forbidden(
            "attached_to_unit", zh=f"您隶属于 {unit}，须回避该单位的事项", en="a member attached to the unit must abstain"
        )
    if status != AdjustmentStatus.PENDING:
        raise Conflict("already_decided", zh="该事项已审批", en="this adjustment was already decided", field="adjustment")


def check_all_decided(statuses: list[str]) -> None:
    """The adjustments stage closes only when the committee has decided every item."""
    pending = sum(1 for st in statuses if st == AdjustmentStatus.PENDING)
    if pending:
        raise Conflict(
            "adjustments_pending",
            zh=f"还有 {pending} 项加分/降档待党委审批", en=f"{pending} adjustment(s) await a decision",
            field="stage",
        )


def check_decision(decision: Any, reason: Any) -> str:
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise InvalidInput("invalid_decision", zh="决定须为 approve 或 reject", en="decision must be approve or reject", field="decision")
    if decision == Decision.REJECT and (not isinstance(reason, str) or not reason.strip()):
        raise InvalidInput("reason_required", zh="驳回必须说明理由", en="a rejection needs a reason", field="reason")
    return decision


# ----------------------------------------------------------------- feedback


def check_issue_feedback(stages: Mapping[str, str], actor: Actor, status: str, text: Any) -> None:
    require_role(actor, Role.ORGANIZER)
    require_stage_open(stages, Stage.FEEDBACK)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("text_required", zh="反馈内容不能为空", en="feedback text is required", field="text")
    if status != FeedbackStatus.NONE:
        raise Conflict("feedback_already_issued", zh="该单位的反馈已下发", en="feedback was already issued", field="unit")


def check_acknowledge(actor: Actor, unit: str, status: str) -> None:
    require_role(actor, Role.UNIT)
    if actor.unit != unit:
        raise Forbidden("not_your_unit", zh="只能确认本单位的反馈", en="you can acknowledge only your own unit's feedback")
    if status == FeedbackStatus.NONE:
        raise Conflict("feedback_not_issued", zh="反馈尚未下发，无法确认", en="the feedback has not been issued", field="unit")
    if status == FeedbackStatus.ACKNOWLEDGED:
        raise Conflict("already_acknowledged", zh="反馈已确认", en="already acknowledged", field="unit")


# ----------------------------------------------------------------- reminders (催办)

#: What the organizer may remind a unit of: the steps the unit itself takes.
REMINDABLE = ("self_review", "feedback", "rectification")


def check_remind(stages: Mapping[str, str], actor: Actor, stage: Any, self_review: str, feedback: str, open_items: int) -> str:
    """The organizer reminds (催办) a unit of a step it has not taken: submitting its self-review
    while self-review is open, acknowledging issued feedback, reporting on its open
    rectification items (``open_items``: how many are not closed). Returns the stage."""
    require_role(actor, Role.ORGANIZER)
    if stage not in REMINDABLE:
        raise InvalidInput(
            "stage_not_remindable",
            zh="只能催办单位自己办理的事项（自查自评、确认反馈、整改）", en=f"only the unit's own steps can be reminded: {', '.join(REMINDABLE)}",
            field="stage",
        )
    if stage == Stage.SELF_REVIEW:
        require_stage_open(stages, Stage.SELF_REVIEW)
        if self_review != SelfReviewStatus.PENDING:
            raise Conflict("nothing_to_remind", zh="该单位已提交自查自评，无需催办", en="the unit has already submitted its self-review", field="unit")
    elif stage == Stage.FEEDBACK:
        if feedback != FeedbackStatus.ISSUED:
            raise Conflict("nothing_to_remind", zh="该单位没有待确认的考核反馈，无需催办", en="the unit has no feedback waiting for acknowledgement", field="unit")
    elif open_items <= 0:
        raise Conflict("nothing_to_remind", zh="该单位没有未销号的整改事项，无需催办", en="the unit has no open rectification item", field="unit")
    return stage


# ----------------------------------------------------------------- rectification (SPEC §3 stage 8)

RECTIFICATION_DAYS = 90
REMIND_DAYS_BEFORE = (7, 1)
ITEM_STATUSES = tuple(RectificationStatus)


def check_create_rectification(status: str, actor: Actor, description: Any) -> str:
    require_role(actor, Role.ORGANIZER)
    if status not in (CycleStatus.PUBLISHED, CycleStatus.CLOSED):
        raise Conflict(
            "results_not_published", zh="考核结果公布后才能建立整改事项", en="items follow the published results", field="cycle"
        )
    return check_text(description, "description", 2000, "整改事项描述")


#: Evidence files one report may cite.
MAX_ATTACHMENTS = 20


def parse_attachments(value: Any, field: str = "attachments") -> list[dict[str, Any]]:
    """Evidence files, by their content hash (the file itself lives in the attachment store)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise InvalidInput("invalid_attachments", zh=f"附件须为列表，最多 {MAX_ATTACHMENTS} 个", en=f"at most {MAX_ATTACHMENTS} attachments", field=field)
    out = []
    for i, a in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(a, dict):
            raise InvalidInput("invalid_attachments", zh="附件须为对象", en="must be an object", field=where)
        h = a.get("sha256")
        if not isinstance(h, str) or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise InvalidInput("invalid_attachment_hash", zh="附件须以 SHA-256 标识", en="give the attachment's sha256", field=f"{where}.sha256")
        name = a.get("name") or h[:12]
        size = a.get("size")
        if not isinstance(size, int) or size < 0:
            raise InvalidInput("invalid_attachments", zh="附件大小无效", en="invalid size", field=f"{where}.size")
        out.append({"sha256": h, "name": str(name)[:200], "size": size, "type": str(a.get("type") or "")[:100]})
    return out


def check_reporter(actor: Actor, unit: str) -> None:
    """Only the item's own unit reports on it."""
    require_role(actor, Role.UNIT)
    if actor.unit != unit:
        raise Forbidden("not_your_unit", zh="只能报告本单位的整改事项", en="you may act only on your own unit's items")


def check_report(actor: Actor, unit: str, status: str, text: Any) -> str:
    check_reporter(actor, unit)
    if status not in (RectificationStatus.OPEN, RectificationStatus.IN_PROGRESS):
        raise Conflict(
            "item_not_open", zh=f"整改事项当前为“{wording.item_status(status)}”，不能再报告", en=f"the item is {wording.item_status(status, 'en')}", field="item"
        )
    return check_text(text, "text", 4000, "整改情况")


def check_verify(actor: Actor, status: str) -> None:
    require_role(actor, Role.ORGANIZER)
    if status != RectificationStatus.SUBMITTED:
        raise Conflict(
            "item_not_submitted",
            zh=f"整改事项尚未提交完成情况（当前为“{wording.item_status(status)}”），不能核验销号或退回", en=f"the item was not submitted (it is {wording.item_status(status, 'en')})",
            field="item",
        )


# ----------------------------------------------------------------- the committee as a body (SPEC §1)


class ProposalStatus(StrEnum):
    PENDING = "pending"  # waiting for confirmations
    ADOPTED = "adopted"  # the quorum confirmed it: its effect is recorded
    OBJECTED = "objected"  # a member objected: it ended without effect


class Subject(StrEnum):
    """What a committee proposal decides."""

    ADJUSTMENT = "adjustment"  # approve or reject an adjustment (on the ``Adjustment``)
    TIE = "tie"  # which tied units take the last excellent places of a cohort
    OVERRIDE = "override"  # one unit's grade
    APPROVE_ALLOCATION = "approve_allocation"
    REJECT_ALLOCATION = "reject_allocation"


SUBJECT_NAMES = {
    Subject.ADJUSTMENT: "加分/降档审批",
    Subject.TIE: "并列裁定",
    Subject.OVERRIDE: "等次调整",
    Subject.APPROVE_ALLOCATION: "批准等次方案",
    Subject.REJECT_ALLOCATION: "退回等次方案",
}

MINUTE_NUMBER_MAX = 40


def parse_meeting(meeting_date: Any, minute_number: Any) -> tuple[str, str]:
    """The committee meeting a decision is taken at: its date (``YYYY-MM-DD``, a real date) and
    its minute number (会议纪要编号: text, or a positive whole number, of at most 40 characters)."""
    if meeting_date is None or (isinstance(meeting_date, str) and not meeting_date.strip()):
        raise InvalidInput("meeting_date_required", zh="须填写党委会议日期", en="the meeting date is required", field="meeting_date")
    text = meeting_date.strip() if isinstance(meeting_date, str) else None
    try:
        if text is None or len(text) != 10:
            raise ValueError
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(
            "invalid_meeting_date", zh="会议日期须为 YYYY-MM-DD 格式的有效日期", en="the meeting date must be a valid YYYY-MM-DD date", field="meeting_date"
        ) from None
    if isinstance(minute_number, bool):
        minute_number = None
    if isinstance(minute_number, int) and minute_number > 0:
        minute_number = str(minute_number)
    if minute_number is None or (isinstance(minute_number, str) and not minute_number.strip()):
        raise InvalidInput("minute_number_required", zh="须填写会议纪要编号", en="the minute number is required", field="minute_number")
    if (
        not isinstance(minute_number, str)
        or len(minute_number.strip()) > MINUTE_NUMBER_MAX
        or any(not ch.isprintable() for ch in minute_number.strip())
    ):
        raise InvalidInput(
            "invalid_minute_number",
            zh=f"会议纪要编号须为不超过 {MINUTE_NUMBER_MAX} 个字符的文字", en=f"the minute number must be text of at most {MINUTE_NUMBER_MAX} characters",
            field="minute_number",
        )
    return day.isoformat(), minute_number.strip()


def committee_quorum(policy: Mapping[str, Any]) -> int:
    """How many distinct committee members must confirm a decision (policy, default 2)."""
    value = policy.get("committee_quorum", 2)
    return int(value) if not isinstance(value, bool) else 2


def attached_concerned(actor: Actor, concerns: Any) -> str | None:
    """The unit of ``concerns`` the member is attached to, if any (they abstain from it)."""
    if actor.unit is not None and actor.unit in set(concerns):
        return actor.unit
    return None


def eligible_members(members: Mapping[str, str | None], concerns: Any) -> list[str]:
    """The committee members who may decide a matter concerning the units ``concerns``."""
    concerned = set(concerns)
    return sorted(m for m, unit in members.items() if unit is None or unit not in concerned)


def check_quorum_reachable(members: Mapping[str, str | None] | None, concerns: Any, quorum: int) -> None:
    """Refuse at once when fewer committee members may decide than the quorum needs, naming the
    units whose attached members abstain (``members``: every committee member and the unit they
    are attached to; None when the caller cannot say, and then nothing is refused here)."""
    if members is None:
        return
    concerns = sorted(set(concerns))
    eligible = eligible_members(members, concerns)
    if len(eligible) >= quorum:
        return
    abstaining = sorted({u for u in members.values() if u is not None and u in set(concerns)})
    named = "、".join(abstaining or concerns) or "—"
    raise Conflict(
        "quorum_unreachable",
        zh=f"涉及单位 {named}：可参与决定的党委委员只有 {len(eligible)} 名（隶属于该单位的委员须回避），"
        f"少于法定人数 {quorum} 名，无法作出决定", en=f"concerning {named}: only {len(eligible)} committee member(s) "
        f"may decide (members attached to the unit abstain), fewer than the quorum of {quorum}",
        field="committee",
    )


def check_propose_decision(actor: Actor, concerns: Any) -> None:
    """A committee member proposes a decision: not one concerning a unit they are attached to."""
    require_role(actor, Role.COMMITTEE)
    if unit := attached_concerned(actor, concerns):
        raise Forbidden(
            "attached_to_unit", zh=f"您隶属于 {unit}，须回避涉及该单位的决定", en=f"a member attached to {unit} abstains from its decisions"
        )


def check_confirm(actor: Actor, proposal: Mapping[str, Any]) -> None:
    """A committee member confirms (or objects to) a pending proposal: once, and not one
    concerning a unit they are attached to. The proposer's proposal is their confirmation."""
    require_role(actor, Role.COMMITTEE)
    if proposal["status"] != ProposalStatus.PENDING:
        state = {ProposalStatus.ADOPTED: "已生效", ProposalStatus.OBJECTED: "已因异议终止"}.get(proposal["status"], proposal["status"])
        raise Conflict("proposal_not_pending", zh=f"该提议{state}，不再待确认", en=f"the proposal is {proposal['status']}, not pending", field="proposal")
    if unit := attached_concerned(actor, proposal["concerns"]):
        raise Forbidden(
            "attached_to_unit", zh=f"您隶属于 {unit}，须回避涉及该单位的决定", en=f"a member attached to {unit} abstains from its decisions"
        )
    if actor.user in proposal["confirmed_by"]:
        raise Conflict("already_confirmed", zh="您已确认过该提议", en="you have already confirmed this proposal", field="proposal")


def quorum_reached(confirmed_by: Any, quorum: int) -> bool:
    """Whether the distinct members who confirmed reach the quorum."""
    return len(set(confirmed_by)) >= quorum


def may_confirm(actor: Actor, proposal: Mapping[str, Any]) -> bool:
    try:
        check_confirm(actor, proposal)
    except (Conflict, Forbidden):
        return False
    return True
