"""Reading a scenario file (SPEC §7): shape checks with clear, one-line errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any


class ScenarioError(ValueError):
    """The scenario file is malformed (one readable line)."""


def _need(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise ScenarioError(f"场景文件 {where}：{what}")


def load(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"找不到场景文件 {p} / scenario file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(f"无法读取场景文件 {p}：{err} / cannot read the scenario") from None
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as err:
        raise ScenarioError(f"场景文件 {p} 不是有效的 JSON（第 {err.lineno} 行第 {err.colno} 列：{err.msg}）/ invalid JSON") from None
    check(data)
    return data


def check(sc: Any) -> None:
    _need(isinstance(sc, dict), "顶层", "须为 JSON 对象 / must be an object")
    cycle = sc.get("cycle")
    _need(isinstance(cycle, dict), "cycle", "缺失或不是对象 / missing or not an object")
    for key in ("key", "year", "name"):
        _need(key in cycle, f"cycle.{key}", "缺失 / missing")
    _need(isinstance(sc.get("schemes"), dict) and sc["schemes"], "schemes", "缺失或为空 / missing or empty")
    units = sc.get("units")
    _need(isinstance(units, list) and units, "units", "须为非空数组 / must be a non-empty list")
    keys = []
    for i, u in enumerate(units):
        _need(isinstance(u, dict) and all(k in u for k in ("key", "name", "org_type")), f"units[{i}]", "须含 key、name、org_type / needs key, name, org_type")
        keys.append(u["key"])
    _need(len(set(keys)) == len(keys), "units", "单位编号重复 / duplicate unit keys")
    known = set(keys)
    scores = sc.get("scores")
    _need(isinstance(scores, dict), "scores", "缺失或不是对象 / missing or not an object")
    for k in known:
        _need(isinstance(scores.get(k), dict), f"scores.{k}", "缺少该单位的评分 / every unit must be scored")
    for k in scores:
        _need(k in known, f"scores.{k}", "未知单位 / unknown unit")
    sr = sc.get("self_review", {})
    _need(isinstance(sr, dict), "self_review", "须为对象 / must be an object")
    for k, v in sr.items():
        _need(k in known and isinstance(v, dict), f"self_review.{k}", "未知单位或不是对象 / unknown unit or not an object")
    debrief = sc.get("debrief")
    _need(isinstance(debrief, dict), "debrief", "缺失或不是对象 / missing or not an object")
    ballots = debrief.get("ballots")
    _need(isinstance(ballots, list) and ballots, "debrief.ballots", "须为非空数组 / must be a non-empty list")
    for i, b in enumerate(ballots):
        _need(isinstance(b, dict) and isinstance(b.get("representative"), str) and isinstance(b.get("scores"), dict),
              f"debrief.ballots[{i}]", "须含 representative 与 scores / needs representative and scores")
        for k in b["scores"]:
            _need(k in known, f"debrief.ballots[{i}].scores.{k}", "未知单位 / unknown unit")
    categories = debrief.get("categories")
    _need(categories is None or (isinstance(categories, dict) and categories), "debrief.categories", "须为非空对象 / must be a non-empty object")
    roster = debrief.get("roster")
    if roster is not None:
        _need(isinstance(roster, list), "debrief.roster", "须为数组 [{representative, category}] / must be a list")
        seen: set[str] = set()
        for i, r in enumerate(roster):
            _need(isinstance(r, dict) and isinstance(r.get("representative"), str) and r["representative"],
                  f"debrief.roster[{i}]", "须含 representative / needs a representative")
            _need(r["representative"] not in seen, f"debrief.roster[{i}].representative",
                  f"代表 {r['representative']} 重复 / representative listed twice")
            seen.add(r["representative"])
            cat = r.get("category")
            if categories is not None and len(categories) > 1:
                _need(cat in categories, f"debrief.roster[{i}].category", f"须为 {'、'.join(categories)} 之一 / unknown or missing category")
            elif cat is not None:
                _need(cat in (categories or {"representatives": 1}), f"debrief.roster[{i}].category", "未知类别 / unknown category")
    adjustments = sc.get("adjustments", [])
    _need(isinstance(adjustments, list), "adjustments", "须为数组 / must be a list")
    for i, a in enumerate(adjustments):
        _need(isinstance(a, dict) and a.get("unit") in known and "kind" in a, f"adjustments[{i}]", "须含已知 unit 与 kind / needs a known unit and a kind")
        _need(a.get("decision", "approve") in ("approve", "reject"), f"adjustments[{i}].decision", "须为 approve 或 reject")
    committee = sc.get("committee")
    if committee is not None:
        _need(isinstance(committee, list) and committee, "committee", "须为非空数组 / must be a non-empty list")
        users = []
        for i, m in enumerate(committee):
            _need(isinstance(m, dict) and isinstance(m.get("user"), str) and m["user"].strip(), f"committee[{i}]", "须含 user / needs a user")
            _need(set(m) <= {"user", "unit"}, f"committee[{i}]", "只能含 user 与 unit / only user and unit")
            unit = m.get("unit")
            _need(unit is None or unit in known, f"committee[{i}].unit", "未知单位 / unknown unit")
            users.append(m["user"])
        _need(len(set(users)) == len(users), "committee", "委员重复 / duplicate members")
    meeting = sc.get("meeting")
    if meeting is not None:
        _need(isinstance(meeting, dict) and set(meeting) <= {"meeting_date", "minute_number"}, "meeting",
              "须为含 meeting_date、minute_number 的对象 / an object of meeting_date and minute_number")
    allocation = sc.get("allocation", {})
    _need(isinstance(allocation, dict), "allocation", "须为对象 / must be an object")
    _need(isinstance(allocation.get("ties", {}), dict), "allocation.ties", "须为对象 / must be an object")
    overrides = allocation.get("overrides", {})
    _need(isinstance(overrides, dict), "allocation.overrides", "须为对象 / must be an object")
    for k, o in overrides.items():
        _need(isinstance(o, dict) and "grade" in o, f"allocation.overrides.{k}", "须含 grade 与 reason / needs grade and reason")


def jsonable(value: Any) -> Any:
    """Decimals back to strings for sending over HTTP (exactly as written)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def dumps(results: dict[str, Any]) -> str:
    """The one way results are printed (simulate and audit replay alike)."""
    doc = {
        "cycle": results["cycle"],
        "units": {k: results["units"][k] for k in sorted(results["units"])},
        "distribution": {k: results["distribution"][k] for k in sorted(results.get("distribution", {}))},
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
