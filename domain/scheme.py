"""The indicator scheme (考核评价指标体系): level-1 → level-2 indicators → evaluation points.

A scheme is valid when every max is positive, the children's maxima sum exactly to their
parent's (and the level-1 maxima to ``total`` where it is given) and codes are unique
(SPEC §2). A point may carry its scoring criterion (``criteria``, ``criteria_en``: text of at
most ``CRITERIA_MAX`` characters). The default scheme (8 / 21 / 43, 100 points, a criterion per
point) ships as data beside this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
import re
from typing import Any, Mapping

from domain import wording
from domain.decimals import to_decimal
from domain.errors import InvalidInput

ORG_TYPES: dict[str, str] = {
    "secondary_committee": "二级单位党委",
    "organ_committee": "机关党委",
    "grassroots_branch": "基层党总支/党支部",
}


@dataclass(frozen=True)
class Point:
    code: str
    name: str
    name_en: str
    max: Decimal
    indicator: str  # level-2 code
    level1: str
    #: What the evaluators score the point by (评分标准), shown beside it on the scoring sheet.
    criteria: str = ""
    criteria_en: str = ""


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    name_en: str
    max: Decimal
    level: int
    children: tuple[str, ...]  # codes of child indicators or points


@dataclass(frozen=True)
class Scheme:
    key: str
    name: str
    total: Decimal
    indicators: tuple[Indicator, ...]
    points: tuple[Point, ...]
    source: Mapping[str, Any]

    @property
    def point_max(self) -> dict[str, Decimal]:
        return {p.code: p.max for p in self.points}

    def point(self, code: str) -> Point:
        for p in self.points:
            if p.code == code:
                return p
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        """The scheme as JSON-ready data (the validated input, unchanged)."""
        return json.loads(json.dumps(self.source, default=str))


_PARTS = {"indicators": ("一级指标", "level-1 indicator"), "children": ("二级指标", "level-2 indicator"), "points": ("要点", "point")}
_LEAVES = {"key": ("编号", "key"), "criteria": ("评分标准", "criteria"), "code": ("编码", "code"), "name": ("名称", "name"), "max": ("满分", "maximum"), "total": ("总分", "total"),
           "indicators": ("一级指标", "level-1 indicators"), "children": ("二级指标", "level-2 indicators"), "points": ("要点", "points")}


def _place(path: str, lang: str = "zh") -> str:
    """A place in a scheme in words: ``schemes.grassroots_branch.indicators[0].children[1].max`` →
    基层党总支/党支部指标体系第 1 个一级指标第 2 个二级指标的满分 (never the path itself)."""
    zh = lang != "en"
    words: list[str] = []
    for part in str(path).split("."):
        m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        if m and m.group(1) in _PARTS:
            name = _PARTS[m.group(1)][0 if zh else 1]
            words.append(f"第 {int(m.group(2)) + 1} 个{name}" if zh else f"{name} {int(m.group(2)) + 1}")
        elif part in ORG_TYPES:
            words.append(f"{ORG_TYPES[part]}指标体系" if zh else f"{wording.cohort(part, 'en')} scheme")
        elif part in _LEAVES:
            leaf = _LEAVES[part][0 if zh else 1]
            words.append(f"的{leaf}" if zh else f"{leaf} of")
    if not words:
        return "指标体系" if zh else "the scheme"
    if zh:
        return "".join(words)
    head = [w for w in words if not w.endswith(" of")]
    tails = [w[:-3] for w in words if w.endswith(" of")]
    where = ", ".join(reversed(head))
    return f"{' '.join(tails)} of {where}" if tails else where


def _fail(field: str, message: str | None = None, code: str = "invalid_scheme", *, zh: str | None = None, en: str | None = None) -> InvalidInput:
    return InvalidInput(code, message, field, zh=zh, en=en)


def _text(node: Mapping[str, Any], key: str, field: str, required: bool = True) -> str:
    value = node.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{field}.{key}", zh=f"{_place(f'{field}.{key}')}须为非空文字", en=f"the {_place(f'{field}.{key}', 'en')} must be a non-empty string")
    return value


#: The longest scoring criterion a point may carry (characters).
CRITERIA_MAX = 500


def _criteria(node: Mapping[str, Any], key: str, field: str) -> str:
    """A point's optional scoring criterion: a string of at most ``CRITERIA_MAX`` characters."""
    value = node.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(f"{field}.{key}", zh=f"{_place(f'{field}.{key}')}须为文字", en=f"the {_place(f'{field}.{key}', 'en')} must be a string")
    if len(value) > CRITERIA_MAX:
        raise _fail(
            f"{field}.{key}",
            zh=f"{_place(f'{field}.{key}')}不能超过 {CRITERIA_MAX} 个字符（现为 {len(value)}）", en=f"the {_place(f'{field}.{key}', 'en')}: at most {CRITERIA_MAX} characters",
            code="too_long",
        )
    return value.strip()


def _positive_max(node: Mapping[str, Any], field: str) -> Decimal:
    if "max" not in node:
        raise _fail(f"{field}.max", zh=f"{_place(f'{field}.max')}缺失", en=f"the {_place(f'{field}.max', 'en')} is missing")
    value = to_decimal(node["max"], f"{field}.max")
    if value <= 0:
        raise _fail(f"{field}.max", zh=f"{_place(f'{field}.max')}必须为正数（现为 {value}）", en=f"the {_place(f'{field}.max', 'en')} must be positive (got {value})")
    return value


def parse_scheme(data: Any, field: str = "scheme") -> Scheme:
    """Validate a scheme tree (as in ``default-scheme.json``) and return it.

    Raises :class:`InvalidInput` naming the first offending field.
    """
    if not isinstance(data, Mapping):
        raise _fail(field, zh=f"{_place(field)}须为对象", en=f"{_place(field, 'en')} must be an object")
    key = _text(data, "key", field)
    name = _text(data, "name", field)
    level1 = data.get("indicators")
    if not isinstance(level1, list) or not level1:
        raise _fail(f"{field}.indicators", zh=f"{_place(field)}须列出一级指标", en=f"{_place(field, 'en')} must list its level-1 indicators")
    seen: set[str] = set()
    indicators: list[Indicator] = []
    points: list[Point] = []

    def claim(code: str, where: str) -> None:
        if code in seen:
            raise _fail(where, zh=f"编码重复：{code}", en=f"duplicate code {code}", code="duplicate_code")
        seen.add(code)

    level1_sum = Decimal(0)
    for i, ind1 in enumerate(level1):
        f1 = f"{field}.indicators[{i}]"
        if not isinstance(ind1, Mapping):
            raise _fail(f1, zh=f"{_place(f1)}须为对象", en=f"{_place(f1, 'en')} must be an object")
        code1 = _text(ind1, "code", f1)
        claim(code1, f"{f1}.code")
        max1 = _positive_max(ind1, f1)
        level1_sum += max1
        children = ind1.get("children")
        if not isinstance(children, list) or not children:
            raise _fail(f"{f1}.children", zh=f"{_place(f1)}须列出二级指标", en=f"{_place(f1, 'en')} must list its level-2 indicators")
        sum2 = Decimal(0)
        codes2: list[str] = []
        for j, ind2 in enumerate(children):
            f2 = f"{f1}.children[{j}]"
            if not isinstance(ind2, Mapping):
                raise _fail(f2, zh=f"{_place(f2)}须为对象", en=f"{_place(f2, 'en')} must be an object")
            code2 = _text(ind2, "code", f2)
            claim(code2, f"{f2}.code")
            max2 = _positive_max(ind2, f2)
            sum2 += max2
            codes2.append(code2)
            leaves = ind2.get("points")
            if not isinstance(leaves, list) or not leaves:
                raise _fail(f"{f2}.points", zh=f"{_place(f2)}须列出要点", en=f"{_place(f2, 'en')} must list its points")
            sum3 = Decimal(0)
            codes3: list[str] = []
            for k, leaf in enumerate(leaves):
                f3 = f"{f2}.points[{k}]"
                if not isinstance(leaf, Mapping):
                    raise _fail(f3, zh=f"{_place(f3)}须为对象", en=f"{_place(f3, 'en')} must be an object")
                code3 = _text(leaf, "code", f3)
                claim(code3, f"{f3}.code")
                max3 = _positive_max(leaf, f3)
                sum3 += max3
                codes3.append(code3)
                points.append(
                    Point(
                        code3, _text(leaf, "name", f3), _text(leaf, "name_en", f3, False), max3, code2, code1,
                        _criteria(leaf, "criteria", f3), _criteria(leaf, "criteria_en", f3),
                    )
                )
            if sum3 != max2:
                raise _fail(
                    f"{f2}.max",
                    zh=f"{code2} 的要点分值之和 {sum3} 不等于其满分 {max2}", en=f"points of {code2} sum to {sum3}, not its max {max2}",
                    code="maxima_mismatch",
                )
            indicators.append(
                Indicator(code2, _text(ind2, "name", f2), _text(ind2, "name_en", f2, False), max2, 2, tuple(codes3))
            )
        if sum2 != max1:
            raise _fail(
                f"{f1}.max",
                zh=f"{code1} 的二级指标分值之和 {sum2} 不等于其满分 {max1}", en=f"children of {code1} sum to {sum2}, not its max {max1}",
                code="maxima_mismatch",
            )
        indicators.append(
            Indicator(code1, _text(ind1, "name", f1), _text(ind1, "name_en", f1, False), max1, 1, tuple(codes2))
        )
    total = to_decimal(data["total"], f"{field}.total") if "total" in data else level1_sum
    if total != level1_sum:
        raise _fail(
            f"{field}.total",
            zh=f"一级指标分值之和 {level1_sum} 不等于总分 {total}", en=f"level-1 maxima sum to {level1_sum}, not total {total}",
            code="maxima_mismatch",
        )
    return Scheme(key, name, total, tuple(indicators), tuple(points), data)


@lru_cache(maxsize=1)
def _default_source() -> str:
    return resources.files("domain").joinpath("data/default-scheme.json").read_text("utf-8")


def default_scheme() -> Scheme:
    """The default scheme shipped with Kaohe (8 level-1, 21 level-2, 43 points, 100 points)."""
    return parse_scheme(json.loads(_default_source()))


def resolve_scheme(value: Any, field: str) -> Scheme:
    """A scheme given as ``"default"`` or as a tree."""
    if value == "default":
        return default_scheme()
    return parse_scheme(value, field)


def validate_org_type(org_type: Any, field: str) -> str:
    if org_type not in ORG_TYPES:
        raise InvalidInput(
            "unknown_org_type",
            zh=f"未知的党组织类型“{org_type}”，应为{'、'.join(ORG_TYPES.values())}之一", en=f"unknown org type {org_type!r}",
            field=field,
        )
    return org_type


SCHEME_COLUMNS = ("一级编码", "一级指标", "一级分值", "二级编码", "二级指标", "二级分值", "要点编码", "评价要点", "要点分值")


def tree_from_rows(rows: Any, key: str, name: str, field: str = "scheme") -> dict[str, Any]:
    """A scheme tree from spreadsheet rows (one per evaluation point, the columns of
    ``SCHEME_COLUMNS``; a level's code, name and max may be left blank after its first row).
    The tree is then validated by :func:`parse_scheme` like any other."""
    level1: dict[str, dict[str, Any]] = {}
    last1 = last2 = None
    count = 0
    for i, row in enumerate(rows):
        cells = [("" if c is None else str(c).strip()) for c in list(row)[:9]]
        cells += [""] * (9 - len(cells))
        if not any(cells):
            continue
        where = f"{field}[{i}]"
        c1, n1, m1, c2, n2, m2, c3, n3, m3 = cells
        if c1:
            last1 = level1.setdefault(c1, {"code": c1, "name": n1 or c1, "max": m1, "children": []})
        if last1 is None:
            raise InvalidInput("invalid_scheme", zh=f"第 {i + 1} 行缺少一级编码", en=f"row {i + 1}: level-1 code missing", field=where)
        if c2:
            found = next((x for x in last1["children"] if x["code"] == c2), None)
            last2 = found or {"code": c2, "name": n2 or c2, "max": m2, "points": []}
            if found is None:
                last1["children"].append(last2)
        if last2 is None:
            raise InvalidInput("invalid_scheme", zh=f"第 {i + 1} 行缺少二级编码", en=f"row {i + 1}: level-2 code missing", field=where)
        if not c3:
            raise InvalidInput("invalid_scheme", zh=f"第 {i + 1} 行缺少要点编码", en=f"row {i + 1}: point code missing", field=where)
        last2["points"].append({"code": c3, "name": n3 or c3, "max": m3})
        count += 1
    if not count:
        raise InvalidInput("invalid_scheme", zh="表格中没有评价要点", en="the sheet has no evaluation point", field=field)
    return {"key": key, "name": name, "indicators": list(level1.values())}
