"""Oversight pages: the party committee (集团党委), results and reports, and the auditor (审计).

* ``/committee/{cycle}/adjustments`` — adjustments awaiting decision; approve / reject with a reason.
* ``/committee/{cycle}/allocation`` — the proposed allocation per cohort (ranked, ``F, D, W``, the
  quota line, ties, overrides with a required reason); approve / send back with a reason.
* ``/results/{cycle}`` — the distribution per cohort (an ECharts bar chart), the ranked table and
  the documents (``/results/{cycle}/download/{what}``: the browser has a cookie, not a bearer token).
* ``/audit/{cycle}`` — the timeline with filters; ``…/explain/{unit}`` a grade step by step;
  ``…/integrity`` the hash-chain check and the current digest; ``…/export`` the audit bundle.

Every page calls the JSON API's own route functions (or, for the auditor, the same
:class:`services.audit.Auditor` methods), so every role, stage and quota rule is the API's rule.
A refused command re-renders the page with the API's message beside the form it concerns and
what the user typed kept in the form. Only committee members see forms that write.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.deps import require
from api.errors import STATUS
from api.routers import adjustments as adjustments_api
from api.routers import cycles as cycles_api
from api.schemas import DecisionIn, OverrideIn, Reason, TieIn
from api.web import i18n
from api.web.routes import PageError, PageRoute, PageUser, checked_form, render_page, services
from domain.errors import Conflict, DomainError
from domain.policy import GRADE_NAMES, GRADES
from domain.rules import STAGES
from reporting import reports
from services.audit import Auditor, to_csv
from projections.models import UnitRow

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TASK_PAGES = {
    "decide_adjustment": "/committee/{cycle}/adjustments#adj-{adjustment}",
    "approve_allocation": "/committee/{cycle}/allocation",
}

#: Who may open the committee's pages (read-only unless committee), the documents, the audit pages.
COMMITTEE_READERS = ("committee", "organizer", "auditor")
DOC_READERS = ("organizer", "committee", "auditor")
AUDIT_READERS = ("auditor", "organizer", "committee")

#: ``/results/{cycle}/download/{what}`` → the builder's name in :func:`reporting.reports.build`.
DOWNLOADS = {
    "results.xlsx": "results",
    "report.docx": "report-docx",
    "report.pdf": "report-pdf",
    "rectifications.xlsx": "rectifications",
    "hr-export.xlsx": "hr",
}

GRADE_EN = {"excellent": "Excellent", "good": "Good", "average": "Average", "poor": "Poor"}
KIND_NAMES = {
    "bonus": {"zh": "加分", "en": "Bonus"},
    "downgrade": {"zh": "降档", "en": "Downgrade"},
    "veto": {"zh": "一票否决", "en": "Veto"},
}

STRINGS: dict[str, dict[str, str]] = {
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
    "ov_tie_hint": {"zh": "以下单位 (F, D, W) 完全相同，请选出占用剩余 {places} 个优秀名额的单位。",
                    "en": "These units have equal (F, D, W); choose the ones that take the remaining {places} place(s)."},
    "ov_tie_resolved": {"zh": "已裁定", "en": "Resolved"},
    "ov_resolve_tie": {"zh": "确定并列单位", "en": "Resolve the tie"},
    "ov_override": {"zh": "调整等次", "en": "Override"},
    "ov_override_hint": {"zh": "调整单个单位的等次（须说明理由，优秀不得超过名额）。",
                         "en": "Override one unit's grade (a reason is required; excellent stays within the quota)."},
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
}
i18n.STRINGS.update({k: v for k, v in STRINGS.items() if k not in i18n.STRINGS})


def grade_name(lang: str, grade: str | None) -> str:
    if not grade:
        return "—"
    return GRADE_EN.get(grade, grade) if lang == "en" else GRADE_NAMES.get(grade, grade)


def adj_kind(lang: str, kind: str) -> str:
    entry = KIND_NAMES.get(kind)
    return entry.get(lang, entry["zh"]) if entry else kind


def helpers(request: Request) -> dict[str, Any]:
    lang = getattr(request.state, "lang", i18n.DEFAULT)
    return {
        "grade_name": lambda g: grade_name(lang, g),
        "adj_kind": lambda k: adj_kind(lang, k),
        "as_json": lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),
        "grades": GRADES,
    }


def unit_names(svc, cycle: str) -> dict[str, str]:
    with svc.runner.sessions() as db:
        return {u.unit: u.name for u in db.scalars(select(UnitRow).where(UnitRow.cycle == cycle).order_by(UnitRow.unit))}


async def cycle_of(svc, key: str) -> dict[str, Any]:
    return cycles_api.cycle_view(await run_in_threadpool(cycles_api._cycle_row, svc, key))


def form_key() -> str:
    """A fresh idempotency key per rendered form: a double click sends one command, not two."""
    return "web-" + uuid.uuid4().hex


def idem_of(form) -> str | None:
    value = str(form.get("idem") or "").strip()
    return value[:120] if value.startswith("web-") else None


def status_of(err: DomainError) -> int:
    return STATUS.get(err.kind, 400)


def done_redirect(path: str, done: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{path}?done={quote(done)}{anchor}", status_code=303)


def done_message(request: Request) -> str:
    done = request.query_params.get("done") or ""
    key = f"ov_done_{done}"
    return i18n.t(request.state.lang, key) if key in STRINGS else ""


# ------------------------------------------------------------------ committee: adjustments


async def adjustments_context(request: Request, cycle: str, user) -> dict[str, Any]:
    svc = services(request)
    require(user, *COMMITTEE_READERS)
    view = await cycle_of(svc, cycle)
    items = await adjustments_api.list_adjustments(cycle, user, svc)
    names = await run_in_threadpool(unit_names, svc, cycle)
    stage_open = view["stages"].get("adjustments") == "open"
    lang = request.state.lang
    for a in items:
        a["unit_name"] = names.get(a["unit"], a["unit"])
        blocked = ""
        if user.role != "committee":
            blocked = i18n.t(lang, "ov_read_only")
        elif not stage_open:
            blocked = i18n.t(lang, "ov_stage_not_open")
        elif user.unit and user.unit == a["unit"]:
            blocked = i18n.t(lang, "ov_abstain")
        elif a["proposer"] == user.username:
            blocked = i18n.t(lang, "ov_own_proposal")
        a["blocked"] = blocked
        a["idem"] = form_key()
    return {
        "cycle": view,
        "pending": [a for a in items if a["status"] == "pending"],
        "decided": [a for a in items if a["status"] != "pending"],
        "can_write": user.role == "committee",
        "done": done_message(request),
        "errors": {},
        "values": {},
        "ov_nav": "adjustments",
        **helpers(request),
    }


@router.get("/committee/{cycle}/adjustments")
async def adjustments_page(request: Request, cycle: str, user: PageUser) -> Response:
    ctx = await adjustments_context(request, cycle, user)
    return await render_page(request, "oversight_adjustments.html", user, **ctx)


@router.post("/committee/{cycle}/adjustments/{adjustment}/decision")
async def decide_adjustment(request: Request, cycle: str, adjustment: str, user: PageUser) -> Response:
    form = await checked_form(request)
    require(user, "committee")
    decision = str(form.get("decision") or "")
    reason = str(form.get("reason") or "")
    svc = services(request)
    try:
        await adjustments_api.decide(cycle, adjustment, DecisionIn(decision=decision, reason=reason), user, svc, idem_of(form))
    except DomainError as err:
        ctx = await adjustments_context(request, cycle, user)
        ctx["errors"] = {adjustment: {"message": err.message, "field": err.field}}
        ctx["values"] = {adjustment: {"reason": reason, "decision": decision}}
        return await render_page(request, "oversight_adjustments.html", user, status_of(err), **ctx)
    return done_redirect(f"/committee/{quote(cycle)}/adjustments", "decided")


# ------------------------------------------------------------------ committee: allocation


def quota_line_after(units: list[dict[str, Any]]) -> int:
    """The index of the row after which the quota line is drawn (-1: above the first row)."""
    last = -1
    for i, u in enumerate(units):
        if u.get("quota_place"):
            last = i
    return last


async def allocation_context(request: Request, cycle: str, user) -> dict[str, Any]:
    svc = services(request)
    view = await cycle_of(svc, cycle)
    allocation = await cycles_api.get_allocation(cycle, user, svc)  # the API's role check
    names = await run_in_threadpool(unit_names, svc, cycle)
    cohorts = []
    for name, c in allocation["cohorts"].items():
        tie = c["tie"] or {}
        candidates = set(tie.get("candidates") or [])
        for u in c["units"]:
            u["name"] = names.get(u["unit"], u["unit"])
            u["tied"] = u["unit"] in candidates
            u["incomplete_reason"] = c["incomplete"].get(u["unit"])
            u["idem"] = form_key()
        cohorts.append({"name": name, **c, "line_after": quota_line_after(c["units"]), "tie_idem": form_key()})
    stage_open = view["stages"].get("allocation") == "open"
    return {
        "cycle": view,
        "allocation": allocation,
        "cohorts": cohorts,
        "stage_open": stage_open,
        "can_write": user.role == "committee" and stage_open,
        "done": done_message(request),
        "errors": {},
        "values": {},
        "decision_idem": form_key(),
        "ov_nav": "allocation",
        **helpers(request),
    }


@router.get("/committee/{cycle}/allocation")
async def allocation_page(request: Request, cycle: str, user: PageUser) -> Response:
    require(user, *COMMITTEE_READERS)
    ctx = await allocation_context(request, cycle, user)
    return await render_page(request, "oversight_allocation.html", user, **ctx)


async def allocation_command(request: Request, cycle: str, user, form_id: str, values: dict[str, Any], call) -> Response:
    try:
        await call()
    except DomainError as err:
        ctx = await allocation_context(request, cycle, user)
        ctx["errors"] = {form_id: {"message": err.message, "field": err.field}}
        ctx["values"] = {form_id: values}
        return await render_page(request, "oversight_allocation.html", user, status_of(err), **ctx)
    return None


@router.post("/committee/{cycle}/allocation/override")
async def override_grade(request: Request, cycle: str, user: PageUser) -> Response:
    form = await checked_form(request)
    require(user, "committee")
    unit = str(form.get("unit") or "")
    grade = str(form.get("grade") or "")
    reason = str(form.get("reason") or "")
    svc = services(request)
    body = OverrideIn(unit=unit, grade=grade, reason=reason)
    failed = await allocation_command(
        request, cycle, user, f"override-{unit}", {"grade": grade, "reason": reason},
        lambda: cycles_api.override(cycle, body, user, svc, idem_of(form)),
    )
    return failed or done_redirect(f"/committee/{quote(cycle)}/allocation", "override", f"#override-{quote(unit)}")


@router.post("/committee/{cycle}/allocation/tie")
async def resolve_tie(request: Request, cycle: str, user: PageUser) -> Response:
    form = await checked_form(request)
    require(user, "committee")
    cohort = str(form.get("cohort") or "")
    units = [str(u) for u in form.getlist("units")]
    reason = str(form.get("reason") or "")
    svc = services(request)
    body = TieIn(cohort=cohort, units=units, reason=reason)
    failed = await allocation_command(
        request, cycle, user, f"tie-{cohort}", {"units": units, "reason": reason},
        lambda: cycles_api.resolve_tie(cycle, body, user, svc, idem_of(form)),
    )
    return failed or done_redirect(f"/committee/{quote(cycle)}/allocation", "tie")


@router.post("/committee/{cycle}/allocation/decision")
async def decide_allocation(request: Request, cycle: str, user: PageUser) -> Response:
    form = await checked_form(request)
    require(user, "committee")
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "")
    svc = services(request)
    if action == "approve":
        call = lambda: cycles_api.approve(cycle, user, svc, Reason(reason=reason), idem_of(form))  # noqa: E731
    elif action == "reject":
        call = lambda: cycles_api.reject(cycle, Reason(reason=reason), user, svc, idem_of(form))  # noqa: E731
    else:
        raise PageError(422, i18n.t(request.state.lang, "bad_form"))
    failed = await allocation_command(request, cycle, user, "decision", {"reason": reason, "action": action}, call)
    if failed:
        return failed
    if action == "approve":
        return done_redirect(f"/results/{quote(cycle)}", "approve")
    return done_redirect(f"/committee/{quote(cycle)}/allocation", "reject")


# ------------------------------------------------------------------ results and reports


@router.get("/results/{cycle}")
async def results_page(request: Request, cycle: str, user: PageUser) -> Response:
    svc = services(request)
    view = await cycle_of(svc, cycle)
    published = True
    try:
        doc = await cycles_api.results(cycle, user, svc)  # the API's rule: unit users see their own row
    except Conflict as err:
        if err.code != "results_not_published":
            raise
        published, doc = False, {"units": {}, "distribution": {}}
    names = await run_in_threadpool(unit_names, svc, cycle)
    rows = [{"unit": u, "name": names.get(u, u), **r} for u, r in doc["units"].items()]
    rows.sort(key=lambda r: (r["cohort"], r["rank"] is None, r["rank"] or 0, r["unit"]))
    distribution = doc.get("distribution") or {}
    lang = request.state.lang
    chart = {
        "grades": [grade_name(lang, g) for g in GRADES],
        "series": [{"name": cohort, "data": [int(counts.get(g, 0)) for g in GRADES]} for cohort, counts in distribution.items()],
    }
    return await render_page(
        request, "oversight_results.html", user,
        cycle=view, published=published, rows=rows, distribution=distribution,
        chart_json=json.dumps(chart, ensure_ascii=False).replace("</", "<\\/"),
        downloads=list(DOWNLOADS) if user.role in DOC_READERS and published else [],
        own_only=user.role == "unit", done=done_message(request), ov_nav="results", **helpers(request),
    )


@router.get("/results/{cycle}/download/{what}")
async def download(request: Request, cycle: str, what: str, user: PageUser) -> Response:
    require(user, *DOC_READERS)
    if what not in DOWNLOADS:
        raise PageError(404, i18n.t(request.state.lang, "not_found_title"))
    svc = services(request)
    await cycle_of(svc, cycle)  # 404 page for an unknown cycle
    data, media, name = await run_in_threadpool(reports.build, svc.app, DOWNLOADS[what], cycle)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return Response(data, media_type=media, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
    })


# ------------------------------------------------------------------ auditor


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@router.get("/audit/{cycle}")
async def audit_timeline(request: Request, cycle: str, user: PageUser, actor: str | None = None, unit: str | None = None,
                         stage: str | None = None, type: str | None = None) -> Response:
    require(user, *AUDIT_READERS)
    svc = services(request)
    view = await cycle_of(svc, cycle)
    filters = {"actor": _clean(actor), "unit": _clean(unit), "stage": _clean(stage), "type": _clean(type)}
    auditor = Auditor(svc.app)

    def load():
        everything = auditor.timeline(cycle)
        shown = auditor.timeline(cycle, unit=filters["unit"], actor=filters["actor"], stage=filters["stage"], event=filters["type"])
        return everything, shown, auditor.digest(svc.signing_key)

    everything, entries, digest = await run_in_threadpool(load)
    names = await run_in_threadpool(unit_names, svc, cycle)
    options = {
        "actor": sorted({e.actor for e in everything if e.actor}),
        "unit": sorted({e.unit for e in everything if e.unit} | set(names)),
        "stage": [s for s in STAGES if any(e.stage == s for e in everything)],
        "type": sorted({e.event for e in everything}),
    }
    query = "&".join(f"{k}={quote(v)}" for k, v in filters.items() if v)
    return await render_page(
        request, "oversight_audit.html", user,
        cycle=view, entries=entries, total=len(everything), filters=filters, options=options, names=names,
        digest=digest, csv_query=query, ov_nav="audit", **helpers(request),
    )


@router.get("/audit/{cycle}/timeline.csv")
async def audit_timeline_csv(request: Request, cycle: str, user: PageUser, actor: str | None = None, unit: str | None = None,
                             stage: str | None = None, type: str | None = None) -> Response:
    require(user, *AUDIT_READERS)
    svc = services(request)
    entries = await run_in_threadpool(lambda: Auditor(svc.app).timeline(
        cycle, unit=_clean(unit), actor=_clean(actor), stage=_clean(stage), event=_clean(type)))
    return Response(to_csv(entries), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename=\"timeline-{quote(cycle)}.csv\""})


@router.get("/audit/{cycle}/explain/{unit}")
async def audit_explain(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    require(user, *AUDIT_READERS)
    svc = services(request)
    view = await cycle_of(svc, cycle)
    names = await run_in_threadpool(unit_names, svc, cycle)
    if unit not in names:
        raise PageError(404, f"单位 {unit} 不在本周期 / no such unit in this cycle")
    ex = await run_in_threadpool(lambda: Auditor(svc.app).explain(cycle, unit))
    return await render_page(
        request, "oversight_explain.html", user,
        cycle=view, ex=ex, unit_name=names[unit], names=names, ov_nav="audit", **helpers(request),
    )


@router.get("/audit/{cycle}/integrity")
async def audit_integrity(request: Request, cycle: str, user: PageUser) -> Response:
    require(user, *AUDIT_READERS)
    svc = services(request)
    view = await cycle_of(svc, cycle)

    def check():
        auditor = Auditor(svc.app)
        digest = auditor.digest(svc.signing_key)
        report = auditor.verify()
        return report.to_dict(), report.line(), digest

    report, line, digest = await run_in_threadpool(check)
    return await render_page(
        request, "oversight_integrity.html", user,
        cycle=view, report=report, line=line, digest=digest, ov_nav="integrity", **helpers(request),
    )


@router.get("/audit/{cycle}/export")
async def audit_export(request: Request, cycle: str, user: PageUser) -> Response:
    require(user, *AUDIT_READERS)
    svc = services(request)
    await cycle_of(svc, cycle)
    folder = Path(tempfile.mkdtemp(prefix="kaohe-bundle-"))
    tmp = folder / f"audit-{cycle}.zip"
    try:
        await run_in_threadpool(lambda: Auditor(svc.app).export(cycle, tmp, svc.signing_key))
    except BaseException:
        tmp.unlink(missing_ok=True)
        folder.rmdir()
        raise
    return FileResponse(
        tmp, media_type="application/zip", filename=tmp.name,
        background=BackgroundTask(lambda: (tmp.unlink(missing_ok=True), folder.rmdir())),
    )
