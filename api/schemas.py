"""Request and response models. Scores are JSON numbers or strings, read as exact decimals.

Every integer a request may carry is bounded to what the stores hold (a signed 64-bit integer,
or tighter where its meaning allows): a declared ``int`` by ``Field``/``Query`` ``le=``
(tests/test_bad_input.py walks the OpenAPI schema for one without a maximum), and an integer
anywhere inside a free-form field (``Any``, ``dict[str, Any]``: scores, policy, schemes) by
:func:`bounded`, so an integer past 64 bits is a 422 naming the field, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

#: The largest integer the stores hold (PostgreSQL BIGINT, SQLite INTEGER).
INT_MAX = 2**63 - 1
INT_MIN = -(2**63)


def out_of_range(value: Any, path: str = "") -> str | None:
    """The path (``a.b[2]``) of the first integer in ``value`` outside 64 bits, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path if not INT_MIN <= value <= INT_MAX else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = out_of_range(v, f"{path}.{k}" if path else str(k))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = out_of_range(v, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def bounded(value: Any) -> Any:
    where = out_of_range(value)
    if where is not None:
        raise ValueError(f"integer out of range{' at ' + where if where else ''}: at most {INT_MAX}")
    return value


#: Any JSON value whose integers fit in 64 bits.
Bounded = Annotated[Any, AfterValidator(bounded)]
ScoreMap = dict[str, Bounded]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _integers_fit(cls, value: Any) -> Any:
        return bounded(value)


class Login(Model):
    username: str = Field(max_length=200)
    password: str  # its size is bounded by the body limit (api.app), not here: a long one is just wrong
    otp: str | None = Field(None, max_length=40, description="TOTP code or recovery code, for an account with a second factor")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str
    user: dict
    step: str = Field("full", description="full: the token opens the API; enrol: only /me/totp until a second factor is set up")


class TotpCode(Model):
    code: str = Field(max_length=40)


class UserIn(Model):
    role: str = Field(description="organizer | evaluator | unit | representative | committee | auditor | admin")
    password: str | None = Field(None, description="至少 8 位；更新时可省略 / ≥ 8 chars; optional on update")
    unit: str | None = Field(None, description="单位联络人必填；党委委员可填所属单位（回避）/ unit users: required")
    display_name: str | None = None
    active: bool | None = Field(None, description="false 停用（其全部登录失效）、true 重新启用；省略不变 / false deactivates, true reactivates")
    reason: str | None = Field(None, max_length=500, description="变更原因，记入审计日志 / why: recorded in the audit trail")


class CycleIn(Model):
    key: str = Field(examples=["2026-annual"])
    year: int = Field(ge=2000, le=2100, examples=[2026], description="2000–2100")
    name: str = Field(examples=["2026年度党建工作考核"])
    policy: dict[str, Any] | None = None
    schemes: dict[str, Any] = Field(description='org_type → "default" 或指标树 / or a scheme tree')
    categories: dict[str, Any] | None = Field(None, description="述职评议代表类别及权重 / ballot categories and weights")
    deadlines: dict[str, str | None] | None = Field(None, description="stage → ISO 8601 time with zone")


class UnitIn(Model):
    key: str
    name: str
    org_type: str


class UnitsIn(Model):
    units: list[dict[str, Any]]


class Reason(Model):
    reason: str = ""


class DeadlineIn(Model):
    deadline: str | None = Field(description="ISO 8601 带时区，null 为取消 / with zone; null clears it")


class SelfReviewIn(Model):
    scores: ScoreMap
    evidence: dict[str, str] = Field(default_factory=dict)


class ScoringIn(Model):
    scores: ScoreMap = Field(description="每个要点的分数，null 为不适用 / every point; null = not applicable")
    na_reasons: dict[str, str] = Field(default_factory=dict)
    comments: dict[str, str] = Field(default_factory=dict)


class EvaluatorsIn(Model):
    evaluators: list[str] = Field(description="评价本单位的考核组成员（用户名）；空列表为全部成员 / the evaluators who score the unit; [] = all")


class BallotIn(Model):
    scores: ScoreMap = Field(description="每位书记打分（0–100）或 null 弃权，不可遗漏 / every secretary: 0–100, or null to abstain")
    category: str | None = None


class CloseSessionIn(Model):
    reason: str | None = Field(None, description="到会率低于 min_turnout 时必填 / required below the policy's min_turnout")


class CodesIn(Model):
    representatives: list[str] | None = Field(None, description="只为这些代表（重新）发放；默认名单上尚未投票的全部代表 / default: every rostered representative who has not cast")


class CodeBallotIn(Model):
    scores: ScoreMap = Field(description="每位书记打分（0–100）或 null 弃权，不可遗漏 / every secretary: 0–100, or null to abstain")


class AdjustmentIn(Model):
    unit: str
    kind: str = Field(description="bonus | downgrade | veto")
    reason: str
    points: Any = None
    levels: Any = None
    evidence: str = ""


class Meeting(Model):
    """The committee meeting a decision is taken at (SPEC §1); checked by the domain."""

    meeting_date: Any = Field(None, description="党委会议日期 YYYY-MM-DD / the meeting's date")
    minute_number: Any = Field(None, description="会议纪要编号 / the minute number")


class DecisionIn(Meeting):
    decision: str = Field(description="approve | reject")
    reason: str = ""


class TieIn(Meeting):
    cohort: str
    units: list[str]
    reason: str = ""


class OverrideIn(Meeting):
    unit: str
    grade: str
    reason: str


class AllocationDecisionIn(Meeting):
    reason: str = ""


class ObjectionIn(Model):
    reason: str = ""


class FeedbackIn(Model):
    text: str
