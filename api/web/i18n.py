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
    "busy_retrying": {"zh": "系统繁忙，正在重试…", "en": "Busy, retrying…"},
    "unavailable_title": {"zh": "系统繁忙", "en": "Busy"},
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


# ------------------------------------------------------------------ organizer pages (api/web/pages/organizer.py)

ORGANIZER_STRINGS: dict[str, dict[str, str]] = {
    "org_cycles": {"zh": "考核周期管理", "en": "Assessment cycles"},
    "org_no_cycles": {"zh": "还没有考核周期。", "en": "No cycles yet."},
    "org_new_cycle": {"zh": "新建考核周期", "en": "New cycle"},
    "org_cycle_key": {"zh": "周期编号", "en": "Cycle key"},
    "org_year": {"zh": "年度", "en": "Year"},
    "org_cycle_name": {"zh": "周期名称", "en": "Name"},
    "org_policy": {"zh": "考核政策（已填入默认值）", "en": "Policy (defaults filled in)"},
    "org_p_work_weight": {"zh": "工作评分权重", "en": "Work-score weight"},
    "org_p_debrief_weight": {"zh": "述职评议权重", "en": "Debrief weight"},
    "org_p_excellent_share": {"zh": "优秀比例上限", "en": "Excellent share"},
    "org_p_bonus_cap": {"zh": "加分上限", "en": "Bonus cap"},
    "org_p_trim_min_ballots": {"zh": "去极值最少票数", "en": "Min. ballots to trim"},
    "org_th_excellent": {"zh": "优秀分数线", "en": "Excellent threshold"},
    "org_th_good": {"zh": "良好分数线", "en": "Good threshold"},
    "org_th_average": {"zh": "一般分数线", "en": "Average threshold"},
    "org_schemes": {"zh": "各类党组织的指标体系", "en": "Scheme per org type"},
    "org_schemes_hint": {"zh": "选择默认指标体系，或上传 JSON 格式的指标树。", "en": "Use the default scheme or upload a scheme tree as JSON."},
    "org_scheme_none": {"zh": "本周期不考核此类", "en": "Not assessed this cycle"},
    "org_scheme_default": {"zh": "默认指标体系", "en": "Default scheme"},
    "org_scheme_file": {"zh": "上传 JSON 文件", "en": "Upload a JSON file"},
    "org_scheme_file_missing": {"zh": "请选择指标体系 JSON 文件", "en": "Choose the scheme's JSON file"},
    "org_not_json": {"zh": "文件不是有效的 JSON", "en": "The file is not valid JSON"},
    "org_file_kept": {"zh": "已上传的文件（继续使用）", "en": "Uploaded file (kept)"},
    "org_categories": {"zh": "述职评议代表类别及权重", "en": "Ballot categories and weights"},
    "org_categories_hint": {"zh": "每行一类：“类别 权重”，权重之和为 1；留空为单一类别。", "en": "One per line: 'category weight', summing to 1; blank for one category."},
    "org_create": {"zh": "创建周期", "en": "Create the cycle"},
    "org_cycle_created": {"zh": "考核周期已创建，请登记参考单位。", "en": "The cycle is created; now register its units."},
    "org_register_units": {"zh": "登记参考单位", "en": "Register units"},
    "org_units_registered": {"zh": "已登记 {n} 个单位。", "en": "{n} unit(s) registered."},
    "org_units_setup_only": {"zh": "周期已开启，不能再登记单位。", "en": "The cycle is open; units can no longer be registered."},
    "org_one_unit": {"zh": "逐个登记", "en": "One unit"},
    "org_unit_key": {"zh": "单位编号", "en": "Unit key"},
    "org_unit_name": {"zh": "单位名称", "en": "Unit name"},
    "org_org_type": {"zh": "党组织类型", "en": "Org type"},
    "org_no_scheme": {"zh": "（本周期无指标体系）", "en": "(no scheme this cycle)"},
    "org_register": {"zh": "登记", "en": "Register"},
    "org_bulk": {"zh": "Excel 批量登记", "en": "Bulk from Excel"},
    "org_bulk_hint": {"zh": "上传 .xlsx：第一行为表头“单位编号、单位名称、类型”，类型可写中文名称或 grassroots_branch 等编码。",
                      "en": "Upload an .xlsx whose first row is 单位编号, 单位名称, 类型; the type as its Chinese name or key (grassroots_branch…)."},
    "org_xlsx_file": {"zh": "Excel 文件", "en": "Excel file"},
    "org_choose_file": {"zh": "请选择 .xlsx 文件 / choose an .xlsx file", "en": "请选择 .xlsx 文件 / choose an .xlsx file"},
    "org_upload": {"zh": "上传并登记", "en": "Upload and register"},
    "org_registered": {"zh": "已登记单位", "en": "Registered units"},
    "org_no_units": {"zh": "尚未登记单位。", "en": "No units yet."},
    "org_to_console": {"zh": "进入周期控制台", "en": "Go to the cycle console"},
    "org_console": {"zh": "周期控制台", "en": "Cycle console"},
    "org_overview": {"zh": "周期概览", "en": "Overview"},
    "org_done": {"zh": "操作成功。", "en": "Done."},
    "org_open_cycle": {"zh": "开启周期", "en": "Open the cycle"},
    "org_open_cycle_hint": {"zh": "开启后进入自查自评阶段，不能再登记单位。", "en": "Opens self-review; no more units can be registered."},
    "org_actions": {"zh": "操作", "en": "Actions"},
    "org_set": {"zh": "设置", "en": "Set"},
    "org_open_stage": {"zh": "开启", "en": "Open"},
    "org_close_stage": {"zh": "结束", "en": "Close"},
    "org_secretaries": {"zh": "述职书记", "en": "Secretaries"},
    "org_close_session": {"zh": "结束本场评议", "en": "Close the session"},
    "org_no_sessions": {"zh": "述职评议尚未开始。", "en": "The debrief has not started."},
    "org_points_levels": {"zh": "分值/档次", "en": "Points / levels"},
    "org_points": {"zh": "加分分值", "en": "Points"},
    "org_levels": {"zh": "降档档次", "en": "Levels"},
    "org_reason": {"zh": "理由", "en": "Reason"},
    "org_evidence": {"zh": "依据材料", "en": "Evidence"},
    "org_kind_bonus": {"zh": "加分", "en": "Bonus"},
    "org_kind_downgrade": {"zh": "降档", "en": "Downgrade"},
    "org_kind_veto": {"zh": "一票否决", "en": "Veto"},
    "org_propose": {"zh": "提出加分/降档/否决事项", "en": "Propose an adjustment"},
    "org_propose_submit": {"zh": "提交党委审批", "en": "Submit to the committee"},
    "org_feedback_draft": {"zh": "查看/编辑草稿", "en": "View / edit draft"},
    "org_rectification": {"zh": "整改事项", "en": "Rectification items"},
    "org_item": {"zh": "整改内容", "en": "Item"},
    "org_reports": {"zh": "进展报告", "en": "Reports"},
    "org_verify": {"zh": "核验", "en": "Verify"},
    "org_item_open": {"zh": "整改中", "en": "open"},
    "org_item_in_progress": {"zh": "整改中（有进展）", "en": "in progress"},
    "org_item_submitted": {"zh": "待核验", "en": "awaiting verification"},
    "org_item_closed": {"zh": "已销号", "en": "closed"},
    "org_approve_close": {"zh": "核验通过，销号", "en": "Approve and close"},
    "org_send_back": {"zh": "退回重改", "en": "Send back"},
    "org_submit": {"zh": "提交", "en": "Submit"},
    "org_no_items": {"zh": "暂无整改事项。", "en": "No rectification items."},
    "org_not_issued": {"zh": "未下发", "en": "not issued"},
    "org_no_draft": {"zh": "等次公布后将自动生成反馈草稿。", "en": "A draft is written when the grades are published."},
    "org_save_draft": {"zh": "保存草稿", "en": "Save draft"},
    "org_issue": {"zh": "下发反馈", "en": "Issue feedback"},
}
STRINGS.update(ORGANIZER_STRINGS)
