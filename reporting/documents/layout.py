"""The documents' shared layout model and the text they say: blocks that both the .docx and the
PDF render, the grade and cohort names, the constants of Chinese typesetting."""

from __future__ import annotations

import re
from datetime import timedelta, timezone
from typing import Any, Mapping

from domain.policy import GRADE_NAMES, GRADES
from domain.scheme import ORG_TYPES

SONG = "宋体"
HEI = "黑体"
PDF_FONT = "STSong-Light"
CHINA = timezone(timedelta(hours=8))

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"

_SECTION = re.compile(r"^[一二三四五六七八九十]+、")


# ---------------------------------------------------------------- a small layout model
#
# Both the .docx and the PDF of the special report are rendered from the same list of blocks:
#   ("title", text) · ("subtitle", text) · ("heading", text, level) · ("para", text)
#   ("table", header, rows, weights)   (weights: relative column widths)


def text_of(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def grade_name(code: str | None) -> str:
    return GRADE_NAMES.get(code or "", "未定")


def cohort_name(code: str | None) -> str:
    return ORG_TYPES.get(code or "", code or "")


def _table_or(blocks: list, header: list[str], rows: list[list[str]], weights: list[int], empty: str) -> None:
    if rows:
        blocks.append(("table", header, rows, weights))
    else:
        blocks.append(("para", empty))


def feedback_blocks(draft: Mapping[str, Any]) -> list[tuple]:
    s = draft["scores"]
    g = draft["grade"]
    blocks: list[tuple] = [
        ("title", f"{draft.get('cycle_name') or draft['cycle']} 考核反馈意见书"),
        ("para", f"被考核单位：{draft['name']}（{draft['unit']}）"),
        ("para", f"党组织类型：{text_of(draft.get('cohort_name'))}"),
        ("heading", "一、考核等次和得分", 1),
    ]
    rows = [
        ["考核等次", g["name"]],
        ["党建工作评分（W）", text_of(s.get("work_score"))],
        ["书记抓党建述职评议得分（D）", text_of(s.get("debrief_score"))],
        ["综合得分（C）", text_of(s.get("composite"))],
        ["加分（B）", text_of(s.get("bonus"))],
        ["最终得分（F）", text_of(s.get("final_score"))],
        ["同类型单位排名", text_of(s.get("rank"))],
    ]
    if g.get("downgrade_levels") or g.get("vetoed") or g.get("overridden"):
        rows.append(["基础等次", g.get("base_name") or "未定"])
    if g.get("downgrade_levels"):
        rows.append(["降档", f"{g['downgrade_levels']} 档"])
    if g.get("vetoed"):
        rows.append(["一票否决", "是"])
    if g.get("overridden"):
        rows.append(["党委调整等次", "是"])
    blocks.append(("table", ["项目", "结果"], rows, [3, 4]))

    blocks.append(("heading", "二、主要优点", 1))
    _table_or(
        blocks,
        ["序号", "指标", "得分/满分", "得分率"],
        [[str(i), f"{x['code']} {x['name']}", f"{x['score']}/{x['max']}", x["share"]] for i, x in enumerate(_praised(draft), 1)],
        [2, 8, 3, 3],
        "（暂无）",
    )
    blocks.append(("heading", "三、存在问题", 1))
    _table_or(
        blocks,
        ["序号", "要点", "得分/满分", "得分率", "评价意见"],
        [
            [str(i), f"{p['code']} {p['name']}（{p['indicator_name']}）", f"{p['score']}/{p['max']}", p["share"], p["comment"] or "—"]
            for i, p in enumerate(draft["problems"], 1)
        ],
        [2, 8, 3, 3, 8],
        f"考核中未发现得分率低于{draft['rectification_share']}的评价要点。" if draft.get("rectification_share")
        else "考核中未发现明显失分的评价要点。",
    )
    blocks.append(("heading", "四、加分与降档事项", 1))
    _table_or(
        blocks,
        ["类型", "分值/档次", "事由", "审定结果"],
        [[a["kind_name"], _amount(a), a["reason"], a["status_name"]] for a in draft["adjustments"]],
        [2, 2, 6, 2],
        "无。",
    )
    blocks.append(("heading", "五、反馈意见", 1))
    for line in str(draft.get("text") or "").splitlines():
        if not line.strip():
            continue
        blocks.append(("section", line.strip()) if _SECTION.match(line.strip()) else ("para", line))
    return blocks


def _praised(draft: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The strengths the letter names: those not below the unit's own average share."""
    return [x for x in draft["strengths"] if x.get("above_average", True)]


def _amount(a: Mapping[str, Any]) -> str:
    if a.get("kind") == "bonus":
        return f"{text_of(a.get('points'))} 分"
    if a.get("kind") == "downgrade":
        return f"{text_of(a.get('levels'))} 档"
    if a.get("kind") == "veto":
        return "定为较差"
    return "—"


def report_blocks(report: Mapping[str, Any]) -> list[tuple]:
    cycle = report["cycle"]
    title = f"{cycle.get('name') or cycle.get('key')} 专项报告"
    year = f"（{cycle['year']}年度）" if cycle.get("year") else ""
    blocks: list[tuple] = [("title", title), ("subtitle", f"考核周期：{cycle.get('key')}{year}")]

    blocks.append(("heading", "一、考核等次分布", 1))
    header = ["党组织类型", "单位数", *[GRADE_NAMES[g] for g in GRADES], "未定", "优秀率"]
    rows = []
    for d in report["distribution"]:
        rows.append([d["cohort_name"], str(d["units"]), *[str(d["counts"][g]) for g in GRADES], str(d["undecided"]), text_of(d["shares"]["excellent"])])
    t = report["distribution_total"]
    rows.append(["合计", str(t["units"]), *[str(t["counts"][g]) for g in GRADES], str(t["undecided"]), text_of(t["shares"]["excellent"])])
    blocks.append(("table", header, rows, [4, 2, 2, 2, 2, 2, 2, 2]))

    blocks.append(("heading", "二、得分统计", 1))
    labels = {"final_score": "最终得分（F）", "work_score": "党建工作评分（W）", "debrief_score": "述职评议得分（D）"}
    rows = []
    for st in report["statistics"]:
        for key, label in labels.items():
            v = st[key]
            rows.append([st["cohort_name"], label, str(v["count"]), text_of(v["mean"]), text_of(v["median"]), text_of(v["min"]), text_of(v["max"])])
    _table_or(blocks, ["党组织类型", "指标", "单位数", "平均值", "中位数", "最低", "最高"], rows, [4, 4, 2, 2, 2, 2, 2], "无。")

    blocks.append(("heading", "三、共性问题", 1))
    blocks.append(("para", "各类型单位平均得分率最低的评价要点（按适用单位计算）："))
    for c in report["common_problems"]:
        blocks.append(("heading", c["cohort_name"], 2))
        _table_or(
            blocks,
            ["序号", "评价要点", "所属指标", "满分", "适用单位数", "失分单位数", "平均得分率"],
            [
                [str(i), f"{p['code']} {p['name']}", p["indicator_name"], p["max"], str(p["applicable"]), str(p["below_full"]), p["average_share"]]
                for i, p in enumerate(c["points"], 1)
            ],
            [2, 8, 5, 2, 3, 3, 3],
            "未发现共性失分要点。",
        )

    blocks.append(("heading", "四、自评与考核评分差异", 1))
    blocks.append(("para", "差值 = 自评合计 − 考核组评分合计（只计双方均有评分的要点），按差值从大到小排列："))
    _table_or(
        blocks,
        ["序号", "单位", "党组织类型", "要点数", "自评合计", "考核合计", "差值"],
        [
            [str(i), f"{g['name']}（{g['unit']}）", g["cohort_name"], str(g["points"]), g["self_total"], g["evaluator_total"], g["gap"]]
            for i, g in enumerate(report["gaps"], 1)
        ],
        [2, 8, 5, 3, 3, 3, 3],
        "无可比较的自评。",
    )
    if report["no_self_review"]:
        blocks.append(
            ("para", "未提交自评：" + "、".join(f"{m['name']}（{m['unit']}）" for m in report["no_self_review"]) + "。")
        )

    blocks.append(("heading", "五、加分与降档事项", 1))
    _table_or(
        blocks,
        ["单位", "类型", "分值/档次", "事由", "审定结果"],
        [[f"{a['name']}（{a['unit']}）", a["kind_name"], _amount(a), a["reason"], a["status_name"]] for a in report["adjustments"]],
        [4, 2, 2, 6, 2],
        "本周期无加分、降档或一票否决事项。",
    )

    blocks.append(("heading", "六、整改进展", 1))
    rect = report.get("rectification")
    if rect is None:
        blocks.append(("para", "尚未建立整改事项。"))
    else:
        rows = [[rect["names"].get(k, k), str(v)] for k, v in rect["counts"].items()]
        rows.append(["合计", str(rect["total"])])
        blocks.append(("table", ["状态", "事项数"], rows, [4, 2]))
        blocks.append(("para", f"整改事项共 {rect['total']} 项，已验收销号 {rect['closed']} 项，销号率 {text_of(rect['closed_share'])}。"))

    blocks.append(("heading", "七、意见建议", 1))
    lines = [x for x in str(report.get("suggestions") or "").splitlines() if x.strip()]
    for line in lines or ["（待组织部补充。）"]:
        blocks.append(("para", line))
    return blocks


