"""The words an error message uses for the things it names, in Chinese and in English.

A refusal's text names no internal key: not a field path (``scores.1.2.1`` → "指标 1.2.1 的得分"),
not a cohort, role, stage or grade key (``organ_committee`` → "机关党委"). The key itself stays
in the error's ``field`` (for programs and for the page that puts the message beside its input).
Stdlib only; the names are the SPEC's, the same the pages' catalogue shows.
"""

from __future__ import annotations

import re

COHORTS = {
    "secondary_committee": ("二级单位党委", "secondary-unit Party committees"),
    "organ_committee": ("机关党委", "headquarters Party committees"),
    "grassroots_branch": ("基层党总支/党支部", "grassroots Party branches"),
}
ROLES = {
    "organizer": ("组织部", "the organization department"),
    "evaluator": ("考核组成员", "an evaluator"),
    "unit": ("被考核单位", "an assessed unit"),
    "representative": ("参会代表", "a representative"),
    "committee": ("集团党委", "the Party committee"),
    "auditor": ("审计/纪检", "an auditor"),
    "admin": ("系统管理员", "the administrator"),
    "system": ("系统", "the system"),
}
STAGES = {
    "setup": ("准备", "setup"),
    "self_review": ("自查自评", "self-review"),
    "scoring": ("指标评分", "scoring"),
    "debrief": ("述职评议", "debrief"),
    "adjustments": ("加分与降档", "adjustments"),
    "allocation": ("等次确定", "allocation"),
    "feedback": ("考核反馈", "feedback"),
    "rectification": ("整改", "rectification"),
}
GRADES = {
    "excellent": ("优秀", "excellent"),
    "good": ("良好", "good"),
    "average": ("一般", "average"),
    "poor": ("较差", "poor"),
}
STATUSES = {
    "pending": ("尚未开始", "not started"),
    "open": ("进行中", "open"),
    "closed": ("已结束", "closed"),
    "setup": ("准备中", "in setup"),
    "published": ("已公布", "published"),
    "submitted": ("已提交", "submitted"),
    "missed": ("逾期未交", "missed"),
    "issued": ("已下发", "issued"),
    "acknowledged": ("已确认", "acknowledged"),
    "approved": ("已批准", "approved"),
    "rejected": ("未批准", "rejected"),
}
ITEM_STATUSES = {
    "open": ("待整改", "open"),
    "in_progress": ("整改中", "in progress"),
    "submitted": ("待核验", "awaiting verification"),
    "closed": ("已销号", "closed"),
}
POLICY = {
    "work_weight": ("工作实绩权重", "the work weight"),
    "debrief_weight": ("述职评议权重", "the debrief weight"),
    "excellent_share": ("优秀比例", "the excellent share"),
    "bonus_cap": ("加分上限", "the bonus cap"),
    "committee_quorum": ("党委决定所需人数", "the committee quorum"),
    "trim_min_ballots": ("去掉最高最低分所需的最少票数", "the ballots needed for trimming"),
    "min_turnout": ("最低到会率", "the minimum turnout"),
    "rectification_share": ("整改得分率", "the rectification share"),
}


def _pick(table: dict[str, tuple[str, str]], key: str | None, lang: str) -> str:
    if not key:
        return ""
    pair = table.get(str(key))
    return (pair[1] if lang == "en" else pair[0]) if pair else str(key)


def cohort(key: str | None, lang: str = "zh") -> str:
    return _pick(COHORTS, key, lang)


def role(key: str | None, lang: str = "zh") -> str:
    return _pick(ROLES, key, lang)


def roles(keys, lang: str = "zh") -> str:
    return ("、" if lang == "zh" else " or ").join(role(k, lang) for k in keys)


def stage(key: str | None, lang: str = "zh") -> str:
    return _pick(STAGES, key, lang)


def grade(key: str | None, lang: str = "zh") -> str:
    return _pick(GRADES, key, lang)


def status(key: str | None, lang: str = "zh") -> str:
    return _pick(STATUSES, key, lang)


def item_status(key: str | None, lang: str = "zh") -> str:
    """A rectification item's status (``in_progress`` → 整改中)."""
    return _pick(ITEM_STATUSES, key, lang)


_CODE = r"\d+(?:\.\d+)*"


def field(path: str | None, lang: str = "zh") -> str:
    """A field path in words: ``scores.1.2.1`` → 指标 1.2.1 的得分 (``the score of point 1.2.1``).

    A path it does not know is named by its last part that is not a number, or "该项"/"this value"."""
    p = str(path or "")
    zh = lang != "en"
    m = re.fullmatch(rf"(?:.*\.)?(self_scores|scores)\.([^.]+)\.({_CODE})", p)
    if m and not re.fullmatch(_CODE, m.group(2)):
        return f"单位 {m.group(2)} 指标 {m.group(3)} 的{'自评分' if m.group(1) == 'self_scores' else '得分'}" if zh else \
            f"the {'self-score' if m.group(1) == 'self_scores' else 'score'} of unit {m.group(2)}, point {m.group(3)}"
    m = re.fullmatch(rf"(?:.*\.)?(self_scores|scores|points?)\.({_CODE})", p)
    if m:
        return f"指标 {m.group(2)} 的得分" if zh else f"the score of point {m.group(2)}"
    m = re.fullmatch(r"(?:.*\.)?(?:scores|ballots|ballot)\.([A-Za-z][^.]*)", p)
    if m:
        return f"对单位 {m.group(1)} 的评分" if zh else f"the score for unit {m.group(1)}"
    m = re.fullmatch(r"(?:.*\.)?thresholds\.(\w+)", p)
    if m:
        return f"{grade(m.group(1))}等次分数线" if zh else f"the {grade(m.group(1), 'en')} threshold"
    m = re.fullmatch(r"(?:.*\.)?pay\.(\w+)", p)
    if m:
        return f"{grade(m.group(1))}等次的薪酬系数" if zh else f"the pay coefficient for {grade(m.group(1), 'en')}"
    m = re.fullmatch(r"(?:.*\.)?deadlines?\.(\w+)", p)
    if m:
        return f"{stage(m.group(1))}阶段的截止时间" if zh else f"the {stage(m.group(1), 'en')} deadline"
    last = [part for part in p.split(".") if part and not part.isdigit()]
    tail = last[-1] if last else ""
    words = {
        **POLICY,
        "deadline": ("截止时间", "the deadline"), "due": ("整改期限", "the due date"),
        "max": ("满分", "the maximum"), "total": ("总分", "the total"), "points": ("分值", "the points"),
        "score": ("得分", "the score"), "scores": ("得分", "the scores"), "self_scores": ("自评分", "the self-scores"),
        "weight": ("权重", "the weight"), "weights": ("权重", "the weights"), "from": ("起始时间", "the start time"),
        "to": ("结束时间", "the end time"), "at": ("时间", "the time"), "text": ("内容", "the text"),
        "policy": ("考核规则", "the policy"), "units": ("单位名单", "the units"), "unit": ("单位", "the unit"),
        "results_use": ("结果运用规则", "the results-use policy"), "results": ("考核结果", "the results"),
        "business_grades": ("业绩考核等次", "the business grades"), "categories": ("代表类别", "the categories"),
    }
    if tail in words:
        return words[tail][0 if zh else 1]
    return "该项" if zh else "this value"
