"""Cycle policy: weights, quota, thresholds, bonus cap, trimming (SPEC §4–5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Mapping

from domain import wording
from domain.decimals import to_decimal
from domain.errors import InvalidInput

class Grade(StrEnum):
    """A unit's grade, best first (its value is what events, results and read models store)."""

    EXCELLENT = "excellent"
    GOOD = "good"
    AVERAGE = "average"
    POOR = "poor"


GRADES: tuple[str, ...] = tuple(Grade)
GRADE_NAMES = {Grade.EXCELLENT: "优秀", Grade.GOOD: "良好", Grade.AVERAGE: "一般", Grade.POOR: "较差"}


@dataclass(frozen=True)
class Thresholds:
    excellent: Decimal = Decimal("90")
    good: Decimal = Decimal("80")
    average: Decimal = Decimal("60")


@dataclass(frozen=True)
class Policy:
    work_weight: Decimal = Decimal("0.7")
    debrief_weight: Decimal = Decimal("0.3")
    excellent_share: Decimal = Decimal("0.5")
    thresholds: Thresholds = field(default_factory=Thresholds)
    bonus_cap: Decimal = Decimal("3")
    trim_min_ballots: int = 5
    #: How many distinct committee members confirm each committee decision (SPEC §1).
    committee_quorum: int = 2
    #: The share of the roster that must have cast before a session closes without a reason.
    min_turnout: Decimal = Decimal("0")
    #: Whether ballots are secret: only the auditor sees who gave which score.
    secret_ballot: bool = True
    #: A point scoring below this share of its max is a problem the feedback names and a
    #: rectification item is opened for (a cycle created before the field reads 0.80).
    rectification_share: Decimal = Decimal("0.80")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return _stringify(data)


def _stringify(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    return value


def _invalid(field: str, message: str | None = None, code: str = "invalid_policy", *, zh: str | None = None, en: str | None = None) -> InvalidInput:
    return InvalidInput(code, message, field, zh=zh, en=en)


def parse_policy(data: Any, field: str = "policy") -> Policy:
    """Read a policy, defaults filling what is left out, and check it is valid (SPEC §5)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _invalid(field, zh="考核规则须为对象", en="the policy must be an object")
    known = {"work_weight", "debrief_weight", "excellent_share", "thresholds", "bonus_cap", "trim_min_ballots",
             "committee_quorum", "min_turnout", "secret_ballot", "rectification_share"}
    for key in data:
        if key not in known:
            raise _invalid(f"{field}.{key}", zh=f"未知的政策字段 {key}", en="unknown policy field")
    d = Policy()
    t = d.thresholds

    def num(key: str, default: Decimal, src: Mapping[str, Any] = data, prefix: str = field) -> Decimal:
        return to_decimal(src[key], f"{prefix}.{key}") if key in src else default

    th_data = data.get("thresholds", {})
    if not isinstance(th_data, Mapping):
        raise _invalid(f"{field}.thresholds", zh="等次分数线须为对象", en="the thresholds must be an object")
    for key in th_data:
        if key not in {"excellent", "good", "average"}:
            raise _invalid(f"{field}.thresholds.{key}", zh=f"未知的等次阈值 {key}", en="unknown threshold")
    tf = f"{field}.thresholds"
    thresholds = Thresholds(
        num("excellent", t.excellent, th_data, tf), num("good", t.good, th_data, tf), num("average", t.average, th_data, tf)
    )
    def integer(key: str, default: int) -> int:
        value = data.get(key, default)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(f"{field}.{key}", zh=f"{wording.field(key)}必须是整数", en=f"{wording.field(key, 'en')} must be an integer")
        return value

    secret = data.get("secret_ballot", d.secret_ballot)
    if not isinstance(secret, bool):
        raise _invalid(f"{field}.secret_ballot", zh="是否无记名评议须为“是”或“否”", en="secret ballot must be true or false")
    policy = Policy(
        work_weight=num("work_weight", d.work_weight),
        debrief_weight=num("debrief_weight", d.debrief_weight),
        excellent_share=num("excellent_share", d.excellent_share),
        thresholds=thresholds,
        bonus_cap=num("bonus_cap", d.bonus_cap),
        trim_min_ballots=integer("trim_min_ballots", d.trim_min_ballots),
        committee_quorum=integer("committee_quorum", d.committee_quorum),
        min_turnout=num("min_turnout", d.min_turnout),
        secret_ballot=secret,
        rectification_share=num("rectification_share", d.rectification_share),
    )
    validate_policy(policy, field)
    return policy


def validate_policy(p: Policy, field: str = "policy") -> None:
    if p.work_weight < 0 or p.debrief_weight < 0:
        raise _invalid(f"{field}.work_weight", zh="权重不能为负", en="weights must not be negative")
    if p.work_weight + p.debrief_weight != 1:
        raise _invalid(
            f"{field}.work_weight",
            zh=f"工作评分权重与述职评议权重之和必须为 1（现为 {p.work_weight + p.debrief_weight}）", en=f"the work weight and the debrief weight must add up to 1 (now {p.work_weight + p.debrief_weight})",
            code="weights_do_not_sum_to_one",
        )
    if not (0 <= p.excellent_share <= 1):
        raise _invalid(f"{field}.excellent_share", zh="优秀比例须在 0 到 1 之间", en="the excellent share must be within 0..1")
    t = p.thresholds
    if not (t.excellent > t.good > t.average):
        raise _invalid(
            f"{field}.thresholds",
            zh="等次阈值须严格递减：优秀 > 良好 > 一般", en="thresholds must fall strictly: excellent > good > average",
        )
    if p.bonus_cap < 0:
        raise _invalid(f"{field}.bonus_cap", zh="加分上限不能为负", en="the bonus cap must be ≥ 0")
    if p.trim_min_ballots < 3:
        raise _invalid(f"{field}.trim_min_ballots", zh="去极值最少票数须 ≥ 3", en="the ballots needed for trimming must be ≥ 3")
    if p.committee_quorum < 1:
        raise _invalid(f"{field}.committee_quorum", zh="党委审定的法定人数须 ≥ 1", en="the committee quorum must be ≥ 1")
    if not (0 <= p.min_turnout <= 1):
        raise _invalid(f"{field}.min_turnout", zh="最低到会率须在 0 到 1 之间", en="the minimum turnout must be within 0..1")
    if not (0 <= p.rectification_share <= 1):
        raise _invalid(
            f"{field}.rectification_share", zh="整改得分率须在 0 到 1 之间", en="the rectification share must be within 0..1"
        )


def parse_categories(data: Any, field: str = "categories") -> dict[str, Decimal]:
    """Ballot categories and their weights; none given means one category of weight 1."""
    if data is None or data == {}:
        return {"representatives": Decimal(1)}
    if not isinstance(data, Mapping):
        raise _invalid(field, zh="代表类别须为对象", en="the categories must be an object", code="invalid_categories")
    result: dict[str, Decimal] = {}
    for name, weight in data.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 64 or "/" in name:
            raise _invalid(f"{field}.{name}", zh="类别名称须为 1–64 个字符", en="category names: 1..64 characters", code="invalid_categories")
        w = to_decimal(weight, f"{field}.{name}")
        if w <= 0:
            raise _invalid(f"{field}.{name}", zh="类别权重必须为正", en="category weight must be positive", code="invalid_categories")
        result[str(name)] = w
    if sum(result.values()) != 1:
        raise _invalid(
            field,
            zh=f"述职评议类别权重之和必须为 1（现为 {sum(result.values())}）", en="category weights must sum to 1",
            code="weights_do_not_sum_to_one",
        )
    return result
