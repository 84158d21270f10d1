"""Every user-facing string of the web pages' Python code, zh-CN first, English second.

One entry per key: ``{"zh": …, "en": …}``. Look a string up with :func:`t` (``t(lang, "org_done")``);
the families below have their own small readers (:func:`value`, :func:`role`, :func:`stage`,
:func:`kind`, :func:`grade`, :func:`adjustment`, :func:`item_status`). A message the pages put into a
:class:`~domain.errors.DomainError` is written in both languages at once, ``中文 / English``, the
way the domain writes its own (:func:`both`); :func:`pick` shows the half that matches the page.

The language comes from ``?lang=`` or the ``kaohe_lang`` cookie (:func:`choose`). Templates may keep
their own text; everything the Python code says is here. ``tests/test_web_catalogue.py`` checks
that every key has both languages and that every key used under ``api/web/`` exists.
"""

from __future__ import annotations

from domain.policy import GRADE_NAMES
from domain.rules import ROLE_NAMES, STAGE_NAMES

LANGS = ("zh", "en")
DEFAULT = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}

_ROLE_EN = {
    "organizer": "Organization dept.",
    "evaluator": "Evaluator",
    "unit": "Unit liaison",
    "representative": "Representative",
    "committee": "Party committee",
    "auditor": "Auditor",
    "admin": "Administrator",
}
_STAGE_EN = {
    "setup": "Setup",
    "self_review": "Self-review",
    "scoring": "Scoring",
    "debrief": "Debrief",
    "adjustments": "Adjustments",
    "allocation": "Grade allocation",
    "feedback": "Feedback",
    "rectification": "Rectification",
}
_GRADE_EN = {"excellent": "Excellent", "good": "Good", "average": "Average", "poor": "Poor"}

CATALOGUE: dict[str, dict[str, str]] = {
    # ------------------------------------------------ shared: sign-in, inbox, cycle and unit pages, error pages
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
    # ------------------------------------------------ organizer pages (org_*)
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
    "org_bulk_hint": {"zh": "上传 .xlsx：第一行为表头“单位编号、单位名称、类型”，类型可写中文名称或 grassroots_branch 等编码。", "en": "Upload an .xlsx whose first row is 单位编号, 单位名称, 类型; the type as its Chinese name or key (grassroots_branch…)."},
    "org_xlsx_file": {"zh": "Excel 文件", "en": "Excel file"},
    "org_choose_file": {"zh": "请选择 .xlsx 文件 / choose an .xlsx file", "en": "请选择 .xlsx 文件 / choose an .xlsx file"},
    "org_upload": {"zh": "上传并登记", "en": "Upload and register"},
    "org_registered": {"zh": "已登记单位", "en": "Registered units"},
    "org_no_units": {"zh": "尚未登记单位。", "en": "No units yet."},
    "org_evaluators": {"zh": "考核组成员", "en": "Evaluators"},
    "org_evaluators_all": {"zh": "全部考核组成员", "en": "All evaluators"},
    "org_evaluators_hint": {"zh": "填写用户名，以逗号或空格分隔；留空则全部考核组成员均可评分。本单位的成员不能分配。",
                            "en": "Usernames, separated by commas or spaces; empty: every evaluator may score. An evaluator of the unit itself cannot be assigned."},
    "org_evaluators_known": {"zh": "可选考核组成员", "en": "Evaluators"},
    "org_assign": {"zh": "分配", "en": "Assign"},
    "org_evaluators_assigned": {"zh": "已更新单位 {unit} 的考核组成员。", "en": "The evaluators of unit {unit} are saved."},
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
    # ------------------------------------------------ committee, results and audit pages (ov_*)
    "ov_committee": {"zh": "党委审定", "en": "Committee"},
    "ov_adjustments": {"zh": "加分与降档审批", "en": "Adjustments to decide"},
    "ov_allocation": {"zh": "等次方案", "en": "Grade allocation"},
    "ov_results": {"zh": "考核结果", "en": "Results"},
    "ov_audit": {"zh": "审计", "en": "Audit"},
    "ov_timeline": {"zh": "事件时间线", "en": "Timeline"},
    "ov_integrity": {"zh": "完整性校验", "en": "Integrity check"},
    "ov_explain": {"zh": "等次解释", "en": "Grade explanation"},
    "ov_export": {"zh": "导出审计包", "en": "Export the audit bundle"},
    "ov_export_csv": {"zh": "导出时间线（CSV）", "en": "Timeline as CSV"},
    "ov_no_adjustments": {"zh": "本周期没有加分、降档或否决事项。", "en": "No adjustments in this cycle."},
    "ov_awaiting": {"zh": "待审批", "en": "Awaiting a decision"},
    "ov_decided": {"zh": "已审批", "en": "Decided"},
    "ov_kind": {"zh": "类型", "en": "Kind"},
    "ov_points": {"zh": "分值/档数", "en": "Points / levels"},
    "ov_reason": {"zh": "理由", "en": "Reason"},
    "ov_evidence": {"zh": "依据材料", "en": "Evidence"},
    "ov_proposer": {"zh": "提出人", "en": "Proposed by"},
    "ov_decided_by": {"zh": "审批人", "en": "Decided by"},
    "ov_meeting_date": {"zh": "党委会议日期", "en": "Meeting date"},
    "ov_minute_number": {"zh": "会议纪要编号", "en": "Minute number"},
    "ov_proposals": {"zh": "待确认的提议", "en": "Proposals awaiting confirmation"},
    "ov_no_proposals": {"zh": "暂无待确认的提议。", "en": "No proposal awaits confirmation."},
    "ov_proposal_by": {"zh": "提议人", "en": "Proposed by"},
    "ov_confirmed_by": {"zh": "已确认", "en": "Confirmed by"},
    "ov_quorum": {"zh": "法定人数", "en": "Quorum"},
    "ov_meeting": {"zh": "会议", "en": "Meeting"},
    "ov_confirm": {"zh": "确认", "en": "Confirm"},
    "ov_object": {"zh": "提出异议", "en": "Object"},
    "ov_objection_reason": {"zh": "异议理由", "en": "Reason for the objection"},
    "ov_confirm_blocked_attached": {"zh": "您隶属于涉及的单位，须回避。", "en": "You are attached to a unit it concerns and abstain."},
    "ov_confirm_blocked_done": {"zh": "您已确认此提议。", "en": "You have confirmed this proposal."},
    "ov_proposal_hint": {"zh": "党委决定须经法定人数的委员确认后生效；提交即为提议，并计为您的确认。", "en": "A committee decision takes effect once the quorum of members confirms it; submitting proposes it and counts as your confirmation."},
    "ov_done_proposed": {"zh": "已提议，待其他委员确认。", "en": "Proposed; awaiting the other members' confirmation."},
    "ov_done_confirmed": {"zh": "已确认。", "en": "Confirmed."},
    "ov_done_objected": {"zh": "已提出异议，该提议终止。", "en": "Objection recorded; the proposal ended."},
    "ov_decision_reason": {"zh": "审批意见", "en": "Decision reason"},
    "ov_approve": {"zh": "批准", "en": "Approve"},
    "ov_reject": {"zh": "驳回", "en": "Reject"},
    "ov_reason_hint": {"zh": "驳回须说明理由", "en": "A rejection needs a reason"},
    "ov_abstain": {"zh": "您隶属于该单位，须回避，不能审批此事项。", "en": "You are attached to this unit and must abstain."},
    "ov_own_proposal": {"zh": "提出人不能审批自己提出的事项。", "en": "The proposer cannot decide it."},
    "ov_stage_not_open": {"zh": "该阶段未开启，现在不能审批。", "en": "This stage is not open; nothing can be decided now."},
    "ov_read_only": {"zh": "只读：仅集团党委可以审批。", "en": "Read only: only the party committee decides."},
    "ov_rank": {"zh": "排名", "en": "Rank"},
    "ov_final": {"zh": "总分 F", "en": "Final F"},
    "ov_debrief": {"zh": "述职 D", "en": "Debrief D"},
    "ov_work": {"zh": "指标 W", "en": "Work W"},
    "ov_bonus": {"zh": "加分 B", "en": "Bonus B"},
    "ov_base_grade": {"zh": "基准等次", "en": "Base grade"},
    "ov_grade": {"zh": "等次", "en": "Grade"},
    "ov_quota": {"zh": "优秀名额", "en": "Excellent quota"},
    "ov_quota_line": {"zh": "优秀名额线", "en": "Quota line"},
    "ov_quota_place": {"zh": "名额", "en": "Quota place"},
    "ov_tie": {"zh": "并列", "en": "Tie"},
    "ov_tie_title": {"zh": "名额边界并列", "en": "Tie at the quota boundary"},
    "ov_tie_hint": {"zh": "以下单位 (F, D, W) 完全相同，请选出占用剩余 {places} 个优秀名额的单位。", "en": "These units have equal (F, D, W); choose the ones that take the remaining {places} place(s)."},
    "ov_tie_resolved": {"zh": "已裁定", "en": "Resolved"},
    "ov_resolve_tie": {"zh": "确定并列单位", "en": "Resolve the tie"},
    "ov_override": {"zh": "调整等次", "en": "Override"},
    "ov_override_hint": {"zh": "调整单个单位的等次（须说明理由，优秀不得超过名额）。", "en": "Override one unit's grade (a reason is required; excellent stays within the quota)."},
    "ov_overridden": {"zh": "已调整", "en": "overridden"},
    "ov_new_grade": {"zh": "调整为", "en": "New grade"},
    "ov_save_override": {"zh": "保存调整", "en": "Save override"},
    "ov_incomplete": {"zh": "数据不完整", "en": "Incomplete"},
    "ov_problems": {"zh": "尚不能批准", "en": "Not approvable yet"},
    "ov_approvable": {"zh": "方案完整，可以批准。", "en": "The allocation is complete and can be approved."},
    "ov_decide_allocation": {"zh": "审定等次方案", "en": "Decide the allocation"},
    "ov_approve_publish": {"zh": "批准并公布", "en": "Approve and publish"},
    "ov_send_back": {"zh": "退回（须说明理由）", "en": "Send back (reason required)"},
    "ov_reason_optional": {"zh": "意见（可选）", "en": "Remarks (optional)"},
    "ov_allocation_not_open": {"zh": "等次确定阶段未开启。", "en": "The allocation stage is not open."},
    "ov_published_note": {"zh": "考核结果已公布。", "en": "The results are published."},
    "ov_see_results": {"zh": "查看考核结果", "en": "See the results"},
    "ov_not_published": {"zh": "考核结果尚未公布。", "en": "The results are not published yet."},
    "ov_distribution": {"zh": "等次分布", "en": "Grade distribution"},
    "ov_ranked": {"zh": "排名表", "en": "Ranked table"},
    "ov_downloads": {"zh": "文件下载", "en": "Downloads"},
    "ov_dl_results.xlsx": {"zh": "考核结果表（.xlsx）", "en": "Results (.xlsx)"},
    "ov_dl_report.docx": {"zh": "专项报告（.docx）", "en": "Special report (.docx)"},
    "ov_dl_report.pdf": {"zh": "专项报告（PDF）", "en": "Special report (PDF)"},
    "ov_dl_rectifications.xlsx": {"zh": "整改清单（.xlsx）", "en": "Rectification list (.xlsx)"},
    "ov_dl_hr-export.xlsx": {"zh": "结果运用（人力资源导出 .xlsx）", "en": "Use of results (HR export .xlsx)"},
    "ov_count": {"zh": "单位数", "en": "Units"},
    "ov_filter": {"zh": "筛选", "en": "Filter"},
    "ov_clear": {"zh": "清除", "en": "Clear"},
    "ov_actor": {"zh": "操作人", "en": "Actor"},
    "ov_event": {"zh": "事件类型", "en": "Event type"},
    "ov_any": {"zh": "全部", "en": "any"},
    "ov_position": {"zh": "位置", "en": "Position"},
    "ov_time": {"zh": "时间", "en": "Time"},
    "ov_what": {"zh": "事项", "en": "What"},
    "ov_change": {"zh": "变更", "en": "Change"},
    "ov_hash": {"zh": "哈希", "en": "Hash"},
    "ov_entries": {"zh": "条记录", "en": "entries"},
    "ov_no_entries": {"zh": "没有符合条件的记录。", "en": "No entries match."},
    "ov_digest": {"zh": "当前摘要", "en": "Current digest"},
    "ov_verify_ok": {"zh": "校验通过：哈希链完整，未发现篡改。", "en": "Verified: the hash chain is intact."},
    "ov_verify_failed": {"zh": "校验失败：日志被改动过。", "en": "FAILED: the log has been altered."},
    "ov_checked": {"zh": "已校验事件数", "en": "Events checked"},
    "ov_head": {"zh": "链头", "en": "Chain head"},
    "ov_finding": {"zh": "发现的问题", "en": "Finding"},
    "ov_format": {"zh": "格式", "en": "Format"},
    "ov_signature": {"zh": "签名", "en": "Signature"},
    "ov_unsigned": {"zh": "未签名（未配置签名密钥）", "en": "unsigned (no signing key configured)"},
    "ov_explain_units": {"zh": "按单位解释等次", "en": "Explain a unit's grade"},
    "ov_step": {"zh": "步骤", "en": "Step"},
    "ov_formula": {"zh": "公式", "en": "Formula"},
    "ov_value": {"zh": "结果", "en": "Value"},
    "ov_cited": {"zh": "依据事件", "en": "Cited events"},
    "ov_policy": {"zh": "考核政策", "en": "Policy"},
    "ov_point": {"zh": "要点", "en": "Point"},
    "ov_max": {"zh": "满分", "en": "Max"},
    "ov_score": {"zh": "得分", "en": "Score"},
    "ov_na": {"zh": "不适用", "en": "N/A"},
    "ov_category": {"zh": "代表类别", "en": "Category"},
    "ov_weight": {"zh": "权重", "en": "Weight"},
    "ov_mean": {"zh": "平均分", "en": "Mean"},
    "ov_representative": {"zh": "代表", "en": "Representative"},
    "ov_trimmed": {"zh": "去掉", "en": "trimmed"},
    "ov_ballot_count": {"zh": "票数", "en": "Ballots"},
    "ov_export_auditor_only": {"zh": "审计包含各代表的评分，无记名评议时仅审计可导出", "en": "The audit bundle shows who gave which score: under a secret ballot, auditors only"},
    "ov_turnout": {"zh": "投票情况：已交评议表 {cast} 份", "en": "Turnout: {cast} sheets cast"},
    "ov_turnout_rostered": {"zh": "（名册 {rostered} 人）", "en": " (of {rostered} rostered)"},
    "ov_anonymous_score": {"zh": "无记名", "en": "Anonymous"},
    "ov_downgrades": {"zh": "降档与否决", "en": "Downgrades and veto"},
    "ov_final_grade": {"zh": "最终等次", "en": "Final grade"},
    "ov_published_events": {"zh": "公布", "en": "Published"},
    "ov_eligible": {"zh": "达到优秀分数线且无降档", "en": "Above the excellent bar, no downgrade"},
    "ov_not_eligible": {"zh": "不具备优秀资格", "en": "Not eligible for excellent"},
    "ov_done_decided": {"zh": "已保存审批结果。", "en": "The decision is saved."},
    "ov_done_override": {"zh": "已保存等次调整。", "en": "The override is saved."},
    "ov_done_tie": {"zh": "已确定并列单位。", "en": "The tie is resolved."},
    "ov_done_approve": {"zh": "等次方案已批准，考核结果已公布。", "en": "Approved: the results are published."},
    "ov_done_reject": {"zh": "等次方案已退回组织部。", "en": "The allocation was sent back."},
    "ov_own_row_note": {"zh": "仅显示本单位的结果。", "en": "Only your own unit is shown."},
    "ov_chart_label": {"zh": "各组别等次分布柱状图", "en": "Bar chart of grades per cohort"},
    # ------------------------------------------------ unit, evaluator and representative pages (pp_*)
    "pp_self_review_title": {"zh": "自查自评", "en": "Self-review"},
    "pp_scoring_title": {"zh": "指标评分", "en": "Scoring sheet"},
    "pp_ballot_title": {"zh": "述职评议", "en": "Debrief ballot"},
    "pp_my_title": {"zh": "考核结果与整改", "en": "Results and rectification"},
    "pp_point": {"zh": "评价要点", "en": "Evaluation point"},
    "pp_max": {"zh": "满分", "en": "Max"},
    "pp_score": {"zh": "得分", "en": "Score"},
    "pp_self_score": {"zh": "自评分", "en": "Self-score"},
    "pp_evidence": {"zh": "佐证说明", "en": "Evidence"},
    "pp_na": {"zh": "不适用", "en": "N/A"},
    "pp_na_reason": {"zh": "不适用理由", "en": "Reason for N/A"},
    "pp_comment": {"zh": "评语", "en": "Comment"},
    "pp_total": {"zh": "合计", "en": "Total"},
    "pp_of": {"zh": "满分", "en": "of"},
    "pp_save_draft": {"zh": "保存草稿", "en": "Save draft"},
    "pp_draft_saved": {"zh": "已保存草稿", "en": "Draft saved"},
    "pp_saving": {"zh": "正在保存…", "en": "Saving…"},
    "pp_draft_failed": {"zh": "草稿未保存", "en": "Draft not saved"},
    "pp_draft_hint": {"zh": "填写时自动保存草稿；全部要点打分后提交。", "en": "Your draft is saved as you type; submit once every point is scored."},
    "pp_submit_self_review": {"zh": "提交自评", "en": "Submit the self-review"},
    "pp_submit_scoring": {"zh": "提交评分", "en": "Submit the scores"},
    "pp_submitted_self_review": {"zh": "本单位自评已提交。", "en": "The self-review has been submitted."},
    "pp_scoring_done": {"zh": "该单位的指标评分已提交。", "en": "The scores of this unit have been submitted."},
    "pp_stage_not_open": {"zh": "该阶段当前未开放，暂不能提交。", "en": "This stage is not open; you cannot submit now."},
    "pp_fix_errors": {"zh": "未能提交，请按提示修改。", "en": "Not submitted: please correct what is marked."},
    "pp_carried": {"zh": "上一周期带入的未完成整改事项", "en": "Open rectification items carried over"},
    "pp_carried_hint": {"zh": "请在本周期继续整改并报告进展。", "en": "Keep working on them and report progress."},
    "pp_results": {"zh": "考核结果", "en": "Results"},
    "pp_not_published": {"zh": "考核结果尚未公布。", "en": "The results are not published yet."},
    "pp_grade": {"zh": "考核等次", "en": "Grade"},
    "pp_final_score": {"zh": "最终得分", "en": "Final score"},
    "pp_work_score": {"zh": "工作实绩得分", "en": "Work score"},
    "pp_debrief_score": {"zh": "述职评议得分", "en": "Debrief score"},
    "pp_bonus": {"zh": "加分", "en": "Bonus"},
    "pp_rank": {"zh": "组内排名", "en": "Rank"},
    "pp_feedback_none": {"zh": "考核反馈尚未下发。", "en": "The feedback has not been issued yet."},
    "pp_acknowledge": {"zh": "确认收到反馈", "en": "Acknowledge the feedback"},
    "pp_acknowledged": {"zh": "已确认收到反馈。", "en": "Feedback acknowledged."},
    "pp_download_docx": {"zh": "下载反馈意见书（.docx）", "en": "Download the feedback (.docx)"},
    "pp_items": {"zh": "整改事项", "en": "Rectification items"},
    "pp_no_items": {"zh": "暂无整改事项。", "en": "No rectification items."},
    "pp_item_status": {"zh": "状态", "en": "Status"},
    "pp_reports": {"zh": "进展记录", "en": "Reports"},
    "pp_report_text": {"zh": "整改情况", "en": "What was done"},
    "pp_evidence_file": {"zh": "佐证材料（PDF、图片、Word、Excel、TXT，可多选）", "en": "Evidence files (PDF, image, Word, Excel, TXT)"},
    "pp_report_progress": {"zh": "报告进展", "en": "Report progress"},
    "pp_submit_completion": {"zh": "提交整改完成", "en": "Submit as completed"},
    "pp_reported": {"zh": "已记录。", "en": "Recorded."},
    "pp_files_again": {"zh": "如有附件，请重新选择。", "en": "Choose the files again, if any."},
    "pp_secretaries": {"zh": "请为以下各单位书记的述职打分（0–100）。", "en": "Score each secretary's report (0–100)."},
    "pp_once": {"zh": "每位代表每场只能提交一次，提交后不能修改。", "en": "One sheet per representative; it cannot be changed once cast."},
    "pp_category": {"zh": "代表类别", "en": "Category"},
    "pp_cast": {"zh": "提交评议表", "en": "Cast my ballot"},
    "pp_thanks": {"zh": "已提交，谢谢！", "en": "Cast. Thank you!"},
    "pp_thanks_hint": {"zh": "您的评议表已记录，本场不能再次提交。", "en": "Your sheet is recorded; it cannot be cast again."},
    "pp_already_cast": {"zh": "您已提交过本场评议表。", "en": "You have already cast your sheet for this session."},
    "pp_session_closed": {"zh": "本场述职评议已结束。", "en": "This debrief session is closed."},
    "pp_open_results": {"zh": "结果与整改", "en": "Results and rectification"},
    "pp_open_self_review": {"zh": "自查自评", "en": "Self-review"},
    "pp_item_open": {"zh": "待整改", "en": "open"},
    "pp_item_in_progress": {"zh": "整改中", "en": "in progress"},
    "pp_item_submitted": {"zh": "待核验", "en": "awaiting verification"},
    "pp_item_closed": {"zh": "已销号", "en": "closed"},
    "pp_sent_back": {"zh": "退回理由", "en": "Sent back because"},
    "pp_unit_self_review": {"zh": "单位自评", "en": "Unit's self-review"},
    # ------------------------------------------------ status values (v(...)): value.<status>
    "value.setup": {"zh": "准备中", "en": "setting up"},
    "value.open": {"zh": "进行中", "en": "open"},
    "value.published": {"zh": "已公布", "en": "published"},
    "value.closed": {"zh": "已结束", "en": "closed"},
    "value.pending": {"zh": "未开始", "en": "pending"},
    "value.submitted": {"zh": "已提交", "en": "submitted"},
    "value.missed": {"zh": "逾期未交", "en": "missed"},
    "value.issued": {"zh": "已下发", "en": "issued"},
    "value.acknowledged": {"zh": "已确认", "en": "acknowledged"},
    "value.approved": {"zh": "已批准", "en": "approved"},
    "value.rejected": {"zh": "未批准", "en": "rejected"},
    # ------------------------------------------------ task kinds (kind_name(...)): kind.<task kind>
    "kind.open_cycle": {"zh": "开启周期", "en": "Open cycle"},
    "kind.open_stage": {"zh": "开启阶段", "en": "Open stage"},
    "kind.close_stage": {"zh": "结束阶段", "en": "Close stage"},
    "kind.close_session": {"zh": "结束评议", "en": "Close session"},
    "kind.issue_feedback": {"zh": "下发反馈", "en": "Issue feedback"},
    "kind.submit_self_review": {"zh": "自查自评", "en": "Self-review"},
    "kind.acknowledge_feedback": {"zh": "确认反馈", "en": "Acknowledge"},
    "kind.submit_scoring": {"zh": "指标评分", "en": "Scoring"},
    "kind.cast_ballot": {"zh": "述职评分", "en": "Ballot"},
    "kind.decide_adjustment": {"zh": "审批调整", "en": "Adjustment"},
    "kind.approve_allocation": {"zh": "审定等次", "en": "Allocation"},
    "kind.report_rectification": {"zh": "整改进展", "en": "Rectification"},
    "kind.verify_rectification": {"zh": "整改核验", "en": "Verify"},
    "kind.rectification_overdue": {"zh": "整改逾期", "en": "Overdue item"},
    "kind.deadline_missed": {"zh": "逾期提醒", "en": "Missed deadline"},
    # ------------------------------------------------ adjustment kinds (adj_kind(...)): adjustment.<kind>
    "adjustment.bonus": {"zh": "加分", "en": "Bonus"},
    "adjustment.downgrade": {"zh": "降档", "en": "Downgrade"},
    "adjustment.veto": {"zh": "一票否决", "en": "Veto"},
    # ------------------------------------------------ messages the pages word themselves (both(...) for errors)
    "unit_label": {"zh": "{name}（{unit}）", "en": "{name}（{unit}）"},
    "no_grade": {"zh": "—", "en": "—"},
    "with_detail": {"zh": "{text}（{detail}）", "en": "{text}（{detail}）"},
    "at_row": {"zh": "第 {row} 行：{message}", "en": "row {row}：{message}"},
    "busy_retry_shortly": {"zh": "系统繁忙，请稍后重试", "en": "the system is busy; retry shortly"},
    "not_found": {"zh": "Not found", "en": "Not found"},
    "err_file_too_large": {"zh": "文件超过 5 MB", "en": "the file is over 5 MB"},
    "err_invalid_xlsx": {"zh": "无法读取该 Excel 文件（.xlsx）", "en": "not a readable .xlsx file ({error})"},
    "err_empty_xlsx": {"zh": "Excel 文件为空", "en": "the sheet is empty"},
    "err_missing_columns": {"zh": "表头缺少列：{zh}", "en": "missing columns: {en}"},
    "err_invalid_categories": {"zh": "「{line}」应写作“类别 权重”", "en": "write each line as 'category weight'"},
    "err_invalid_scheme_xlsx": {"zh": "无法读取 Excel 文件", "en": "cannot read the .xlsx file"},
    "err_no_scheme": {"zh": "周期 {cycle} 没有 {cohort} 的指标体系", "en": "no scheme for this org type"},
    "err_no_session": {"zh": "{cohort} 的述职评议尚未开启", "en": "no debrief session for this cohort"},
    "err_unit_not_in_cycle": {"zh": "单位 {unit} 不在本周期", "en": "no such unit in this cycle"},
    "excel_scheme_name": {"zh": "Excel 指标体系", "en": "Excel 指标体系"},
    "xlsx_col_key": {"zh": "单位编号", "en": "单位编号"},
    "xlsx_col_representative": {"zh": "代表", "en": "代表"},
    "xlsx_col_cohort": {"zh": "党组织类型", "en": "党组织类型"},
    # ------------------------------------------------ the debrief meeting: roster, turnout, ballot codes, the phone ballot by code
    "mt_title": {"zh": "述职评议会场", "en": "Debrief meeting"},
    "mt_open_page": {"zh": "会场：名单与评议码", "en": "Meeting: roster and codes"},
    "mt_state_pending": {"zh": "尚未开启", "en": "Not open yet"},
    "mt_state_open": {"zh": "进行中", "en": "Open"},
    "mt_state_closed": {"zh": "已结束", "en": "Closed"},
    "mt_turnout": {"zh": "到会率（已投 / 名单）", "en": "Turnout (cast / rostered)"},
    "mt_min_turnout": {"zh": "最低到会率要求：{min}", "en": "Minimum turnout: {min}"},
    "mt_roster": {"zh": "参会名单", "en": "Roster"},
    "mt_no_roster": {"zh": "尚未登记参会名单：没有名单的场次不接受任何评议表。", "en": "No roster yet: a session without a roster admits no sheet."},
    "mt_representative": {"zh": "代表", "en": "Representative"},
    "mt_category": {"zh": "代表类别", "en": "Category"},
    "mt_cast": {"zh": "已投", "en": "Cast"},
    "mt_not_cast": {"zh": "未投", "en": "Not yet"},
    "mt_code": {"zh": "评议码", "en": "Ballot code"},
    "mt_code_issued": {"zh": "已发放", "en": "Issued"},
    "mt_code_spent": {"zh": "已使用", "en": "Used"},
    "mt_roster_text": {"zh": "名单（每行：代表用户名 类别；只有一个类别时可省略类别）", "en": "Roster (one per line: username category; the category may be left out when there is one)"},
    "mt_save_roster": {"zh": "保存名单", "en": "Save the roster"},
    "mt_roster_file": {"zh": "从 Excel 导入名单（表头：代表、类别、党组织类型；可含多个场次）", "en": "Import rosters from Excel (header: 代表, 类别, 党组织类型; several sessions at once)"},
    "mt_upload": {"zh": "导入", "en": "Import"},
    "mt_roster_saved": {"zh": "名单已保存。", "en": "Roster saved."},
    "mt_codes": {"zh": "打印评议码（PDF）", "en": "Print ballot codes (PDF)"},
    "mt_codes_hint": {"zh": "为名单上尚未投票的每位代表生成一次性评议码（二维码）。重新打印会使此前未使用的评议码作废。", "en": "One-time codes (QR) for every rostered representative who has not cast. Printing again revokes the unused codes printed before."},
    "mt_close": {"zh": "结束本场评议", "en": "Close the session"},
    "mt_close_reason": {"zh": "结束理由（到会率低于最低要求时必填）", "en": "Reason (required below the minimum turnout)"},
    "mt_reason": {"zh": "结束理由", "en": "Reason for closing"},
    "code_title": {"zh": "述职评议 · 扫码评分", "en": "Debrief ballot by code"},
    "code_for": {"zh": "代表：{name}", "en": "Representative: {name}"},
    "code_not_open": {"zh": "本场述职评议尚未开启，请稍候再扫码。", "en": "This debrief session has not opened yet; scan again later."},
    "code_refused_title": {"zh": "无法使用此评议码", "en": "This ballot code cannot be used"},
    "code_refused_hint": {"zh": "如有疑问，请联系会务组。", "en": "Ask the organizers if in doubt."},
    "xlsx_col_name": {"zh": "单位名称", "en": "单位名称"},
    "xlsx_col_org_type": {"zh": "类型", "en": "类型"},
}
CATALOGUE.update({f"role.{k}": {"zh": ROLE_NAMES.get(k, k), "en": en} for k, en in _ROLE_EN.items()})
CATALOGUE.update({f"stage.{k}": {"zh": STAGE_NAMES.get(k, "整改"), "en": en} for k, en in _STAGE_EN.items()})
CATALOGUE.update({f"grade.{k}": {"zh": GRADE_NAMES.get(k, k), "en": en} for k, en in _GRADE_EN.items()})


def choose(query: str | None, cookie: str | None) -> str:
    """The page's language: ``?lang=`` first, then the cookie, then zh."""
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate  # type: ignore[return-value]
    return DEFAULT


def has(key: str) -> bool:
    return key in CATALOGUE


def t(lang: str, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (``{name}`` filled from ``values``); an unknown key is shown as itself."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text


def both(key: str, **values: object) -> str:
    """``中文 / English``: a message for a :class:`~domain.errors.DomainError`, bilingual like the domain's own."""
    return f"{t('zh', key, **values)} / {t('en', key, **values)}"


def _family(prefix: str, lang: str, key: str | None, missing: str | None = None) -> str:
    if key is None:
        return ""
    entry = CATALOGUE.get(prefix + key)
    if entry is None:
        return key if missing is None else missing
    return entry.get(lang) or entry[DEFAULT]


def value(lang: str, key: str | None) -> str:
    """A status value (``open`` → 进行中)."""
    return _family("value.", lang, key)


def role(lang: str, key: str) -> str:
    return _family("role.", lang, key)


def stage(lang: str, key: str | None) -> str:
    return _family("stage.", lang, key)


def kind(lang: str, key: str) -> str:
    """A task kind (``cast_ballot`` → 述职评分)."""
    return _family("kind.", lang, key)


def grade(lang: str, key: str | None) -> str:
    """A grade (``excellent`` → 优秀); no grade is ``—``."""
    if not key:
        return t(lang, "no_grade")
    return _family("grade.", lang, key)


def adjustment(lang: str, key: str) -> str:
    """An adjustment kind (``veto`` → 一票否决)."""
    return _family("adjustment.", lang, key)


def item_status(lang: str, status: str) -> str:
    """A rectification item's status as the unit reads it (``pp_item_<status>``)."""
    return t(lang, f"pp_item_{status}") if has(f"pp_item_{status}") else status


def pick(lang: str, text: object) -> str:
    """The half of a bilingual ``中文 / English`` text that matches ``lang`` (all of it if not bilingual)."""
    s = "" if text is None else str(text)
    if " / " not in s:
        return s
    parts = s.split(" / ")
    return (parts[-1] if lang == "en" else parts[0]).strip() or s
