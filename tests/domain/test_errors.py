"""A refusal carries its Chinese and its English text apart (issue 11, finding 1).

Pages show the text of their own language and never split a "中文 / English" string; the Chinese
text names no internal key (the field path stays in ``field``). Across a process boundary (pickle,
a Temporal failure's details) both texts survive.
"""

from __future__ import annotations

import ast
import pickle
import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain import wording
from domain.decimals import to_decimal
from domain.errors import Bilingual, Conflict, DomainError, InvalidInput, Unavailable, all_of, halves, rebuild_error
from domain.policy import parse_policy
from domain.rules import Actor, check_key, require_role

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"InvalidInput", "Conflict", "Forbidden", "NotFound", "Unavailable", "DomainError", "_invalid", "_fail", "_get"}
KEYS = ("grassroots_branch", "secondary_committee", "organ_committee", "organizer", "evaluator", "committee", "auditor",
        "self_review", "work_weight", "debrief_weight", "excellent", "scores.")


def test_an_error_keeps_both_texts_and_the_old_message():
    e = InvalidInput("x", zh="周期编号须为 1–64 个字符，不含 / 和首尾空格", en="cycle: 1..64 characters, no '/'", field="key")
    assert e.zh == "周期编号须为 1–64 个字符，不含 / 和首尾空格" and e.text("zh") == e.zh
    assert e.text("en") == "cycle: 1..64 characters, no '/'"
    assert e.message == "周期编号须为 1–64 个字符，不含 / 和首尾空格 / cycle: 1..64 characters, no '/'"
    assert e.to_dict() == {"code": "x", "message": e.message, "message_zh": e.zh, "message_en": e.en, "field": "key"}
    # The message remembers its halves, so a page handed only err.message still picks whole texts.
    assert halves(e.message) == (e.zh, e.en)


def test_both_texts_cross_a_process_boundary():
    e = Unavailable("busy", zh="系统繁忙", en="the system is busy", retry_after=7)
    again = pickle.loads(pickle.dumps(e))
    assert (type(again), again.zh, again.en, again.retry_after) == (Unavailable, "系统繁忙", "the system is busy", 7)
    # A refusal naming several fields keeps each one's two texts.
    several = pickle.loads(pickle.dumps(all_of([InvalidInput("a", zh="甲", en="A", field="x"), InvalidInput("b", zh="乙", en="B", field="y")])))
    assert [(e["message_zh"], e["message_en"]) for e in several.to_dict()["errors"]] == [("甲", "A"), ("乙", "B")]
    # A Temporal failure's details are the error's dict (workflows/messages.to_application_error).
    d = {**Conflict("late", zh="阶段已结束", en="the stage is closed", field="stage").to_dict(), "kind": "conflict"}
    rebuilt = rebuild_error(d["kind"], d["code"], d["message"], d["field"], d["message_zh"], d["message_en"])
    assert isinstance(rebuilt, Conflict) and (rebuilt.zh, rebuilt.en, rebuilt.field) == ("阶段已结束", "the stage is closed", "stage")
    # An old failure with only a message: cut where the Chinese ends, not at a "/" inside it.
    old = rebuild_error("invalid", "c", "周期编号须为 1–64 个字符，不含 / 和首尾空格 / key: 1..64 chars", None)
    assert (old.zh, old.en) == ("周期编号须为 1–64 个字符，不含 / 和首尾空格", "key: 1..64 chars")
    old = rebuild_error("invalid", "c", "权重之和必须为 1（现为 1.1）/ weights must add up to 1", None)
    assert (old.zh, old.en) == ("权重之和必须为 1（现为 1.1）", "weights must add up to 1")


def test_the_chinese_text_names_no_internal_key():
    with pytest.raises(InvalidInput) as caught:
        to_decimal("abc", "scores.1.2.1")
    assert caught.value.zh == "指标 1.2.1 的得分不是有效数字：'abc'" and caught.value.field == "scores.1.2.1"
    assert "point 1.2.1" in caught.value.en
    with pytest.raises(DomainError) as caught:
        require_role(Actor("u1", "unit", "U1"), "organizer")
    assert caught.value.zh == "此操作须由组织部执行，当前角色为被考核单位"
    with pytest.raises(InvalidInput) as caught:
        parse_policy({"work_weight": "0.8", "debrief_weight": "0.3"})
    assert caught.value.zh == "工作评分权重与述职评议权重之和必须为 1（现为 1.1）"
    assert caught.value.en == "the work weight and the debrief weight must add up to 1 (now 1.1)"
    with pytest.raises(InvalidInput) as caught:
        check_key("a/b", "key", label="周期编号")
    assert caught.value.zh == "周期编号须为 1–64 个字符，不含 / 和首尾空格"
    assert wording.field("policy.thresholds.good") == "良好等次分数线"
    assert wording.cohort("organ_committee") == "机关党委"
    assert Decimal("1") == to_decimal("1", "x")


def _raise_sites():
    """Every call of an error class in the product's code, with its source."""
    for folder in ("domain", "services", "adapters", "api", "workflows", "projections", "reporting"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text("utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    f = node.func
                    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                    if name in ERRORS:
                        yield path.relative_to(ROOT), node


def test_every_raise_site_passes_its_two_texts_apart():
    """No error is built from a literal "中文 / English" string any more: each names zh= and en=."""
    joined = []
    for path, node in _raise_sites():
        at = 2 if getattr(node.func, "attr", getattr(node.func, "id", "")) == "_get" else 1  # _get(key, code, message…)
        if len(node.args) > at and isinstance(node.args[at], (ast.Constant, ast.JoinedStr)):
            joined.append(f"{path}:{node.lineno}")
    assert joined == []


def test_no_chinese_text_of_a_raise_site_names_a_key():
    """The zh= texts as written: no cohort, role, stage, policy or grade key, no field path."""
    found = []
    for path, node in _raise_sites():
        for kw in node.keywords:
            if kw.arg == "zh":
                text = ast.unparse(kw.value)
                literal = re.sub(r"\{[^{}]*\}", "", text)  # the placeholders are filled with words…
                # …but not those that hold a key or a field path as they are (an unknown value a user
                # typed, "未知阶段 {stage}", may be echoed)
                outer = re.sub(r"[\w.]+\((?:[^()]|\([^()]*\))*\)", "", text)  # what a call such as wording.field(field) says is words
                raw = re.search(r"\{(cohort|status|field|where|f\d?|actor\.role|role|kind)(![rs])?\}", outer)
                if raw:
                    found.append(f"{path}:{node.lineno}: {raw.group(0)} in {text[:80]}")
                for key in KEYS:
                    if re.search(rf"(?<![A-Za-z_]){re.escape(key)}(?![A-Za-z_])", literal):
                        found.append(f"{path}:{node.lineno}: {key} in {text[:80]}")
    assert found == []


def test_a_bilingual_text_is_a_str_that_keeps_its_halves():
    b = Bilingual("为基层党总支/党支部书记述职评分", "score the secretaries")
    assert isinstance(b, str) and b == "为基层党总支/党支部书记述职评分 / score the secretaries"
    assert pickle.loads(pickle.dumps(b)).zh == b.zh
