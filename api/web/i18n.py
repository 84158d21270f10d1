"""UI strings for the web pages: zh-CN first, English switchable (``?lang=en``, kept in a cookie).

Texts that come from the domain (task titles, error messages) are already bilingual, written
``中文 / English``; :func:`pick` shows the half that matches the page's language.
"""

from __future__ import annotations

from domain.rules import ROLE_NAMES, STAGE_NAMES

LANGS = ("zh", "en")
DEFAULT = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"zh": "党建工作考核", "en": "Party-building assessment"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "login_failed": {"zh": "用户名或密码不正确", "en": "Wrong username or password"},
    "login_missing": {"zh": "请输入用户名和密码", "en": "Enter your username and password"},
    "login_hint": {"zh": "请使用管理员为您开设的账号登录。", "en": "Use the account your administrator created for you."},
    "signed_in_as": {"zh": "当前用户", "en": "Signed in as"},
    "language": {"zh": "语言", "en": "Language"},
    "my_tasks": {"zh": "我的待办", "en": "My tasks"},
    "no_tasks": {"zh": "暂无待办事项。", "en": "Nothing is waiting for you."},
    "task": {"zh": "事项", "en": "Task"},
    "kind": {"zh": "类型", "en": "Kind"},
    "cycle": {"zh": "考核周期", "en": "Cycle"},
    "unit": {"zh": "单位", "en": "Unit"},
    "since": {"zh": "起始时间", "en": "Since"},
    "deadline": {"zh": "截止时间", "en": "Deadline"},
    "overdue": {"zh": "已逾期", "en": "Overdue"},
    "open_task": {"zh": "办理", "en": "Open"},
    "status": {"zh": "状态", "en": "Status"},
    "stages": {"zh": "各阶段", "en": "Stages"},
    "stage": {"zh": "阶段", "en": "Stage"},
    "progress": {"zh": "进度", "en": "Progress"},
    "units": {"zh": "参考单位", "en": "Units"},
    "cohort": {"zh": "组别", "en": "Cohort"},
    "self_review": {"zh": "自查自评", "en": "Self-review"},
    "scored": {"zh": "指标评分", "en": "Scored"},
    "feedback": {"zh": "考核反馈", "en": "Feedback"},
    "feedback_text": {"zh": "反馈意见", "en": "Feedback text"},
    "notices": {"zh": "提醒", "en": "Notices"},
    "resolved": {"zh": "已处理", "en": "resolved"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "none": {"zh": "无", "en": "none"},
    "back_to_tasks": {"zh": "返回我的待办", "en": "Back to my tasks"},
    "times_note": {"zh": "时间均为北京时间（UTC+8）。", "en": "Times are Beijing time (UTC+8)."},
    "forbidden_title": {"zh": "无权访问", "en": "Not allowed"},
    "not_found_title": {"zh": "未找到", "en": "Not found"},
    "error_title": {"zh": "出错了", "en": "Something went wrong"},
    "bad_form": {"zh": "表单已过期，请刷新页面后重试。", "en": "The form has expired; reload the page and try again."},
    "done_of": {"zh": "已完成", "en": "done"},
    "not_submitted": {"zh": "未提交", "en": "not submitted"},
    "ballots": {"zh": "份评分表", "en": "ballots"},
    "session_open": {"zh": "进行中", "en": "open"},
    "session_closed": {"zh": "已结束", "en": "closed"},
    "published_at": {"zh": "公布时间", "en": "Published"},
}

#: Values of status fields, by language (Chinese from the domain where it has them).
VALUES: dict[str, dict[str, str]] = {
    # cycle status
    "setup": {"zh": "准备中", "en": "setting up"},
    "open": {"zh": "进行中", "en": "open"},
    "published": {"zh": "已公布", "en": "published"},
    "closed": {"zh": "已结束", "en": "closed"},
    # stage / unit states
    "pending": {"zh": "未开始", "en": "pending"},
    "submitted": {"zh": "已提交", "en": "submitted"},
    "missed": {"zh": "逾期未交", "en": "missed"},
    "issued": {"zh": "已下发", "en": "issued"},
    "acknowledged": {"zh": "已确认", "en": "acknowledged"},
    "approved": {"zh": "已批准", "en": "approved"},
    "rejected": {"zh": "未批准", "en": "rejected"},
}

ROLE_EN = {
    "organizer": "Organization dept.",
    "evaluator": "Evaluator",
    "unit": "Unit liaison",
    "representative": "Representative",
    "committee": "Party committee",
    "auditor": "Auditor",
    "admin": "Administrator",
}
STAGE_EN = {
    "setup": "Setup",
    "self_review": "Self-review",
    "scoring": "Scoring",
    "debrief": "Debrief",
    "adjustments": "Adjustments",
    "allocation": "Grade allocation",
    "feedback": "Feedback",
    "rectification": "Rectification",
}
KIND_NAMES = {
    "open_cycle": {"zh": "开启周期", "en": "Open cycle"},
    "open_stage": {"zh": "开启阶段", "en": "Open stage"},
    "close_stage": {"zh": "结束阶段", "en": "Close stage"},
    "close_session": {"zh": "结束评议", "en": "Close session"},
    "issue_feedback": {"zh": "下发反馈", "en": "Issue feedback"},
    "submit_self_review": {"zh": "自查自评", "en": "Self-review"},
    "acknowledge_feedback": {"zh": "确认反馈", "en": "Acknowledge"},
    "submit_scoring": {"zh": "指标评分", "en": "Scoring"},
    "cast_ballot": {"zh": "述职评分", "en": "Ballot"},
    "decide_adjustment": {"zh": "审批调整", "en": "Adjustment"},
    "approve_allocation": {"zh": "审定等次", "en": "Allocation"},
    "report_rectification": {"zh": "整改进展", "en": "Rectification"},
    "verify_rectification": {"zh": "整改核验", "en": "Verify"},
    "rectification_overdue": {"zh": "整改逾期", "en": "Overdue item"},
    "deadline_missed": {"zh": "逾期提醒", "en": "Missed deadline"},
}


def choose(query: str | None, cookie: str | None) -> str:
    for value in (query, cookie):
        if value in LANGS:
            return value  # type: ignore[return-value]
    return DEFAULT


def t(lang: str, key: str) -> str:
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry[DEFAULT]


def value(lang: str, key: str | None) -> str:
    if key is None:
        return ""
    entry = VALUES.get(key)
    return (entry.get(lang) or entry[DEFAULT]) if entry else key


def role(lang: str, key: str) -> str:
    return ROLE_EN.get(key, key) if lang == "en" else ROLE_NAMES.get(key, key)


def stage(lang: str, key: str | None) -> str:
    if key is None:
        return ""
    if lang == "en":
        return STAGE_EN.get(key, key)
    return STAGE_NAMES.get(key, {"rectification": "整改"}.get(key, key))


def kind(lang: str, key: str) -> str:
    entry = KIND_NAMES.get(key)
    return (entry.get(lang) or entry[DEFAULT]) if entry else key


def pick(lang: str, text: object) -> str:
    """The half of a bilingual ``中文 / English`` text that matches ``lang`` (all of it if not bilingual)."""
    s = "" if text is None else str(text)
    if " / " not in s:
        return s
    parts = s.split(" / ")
    return (parts[-1] if lang == "en" else parts[0]).strip() or s
