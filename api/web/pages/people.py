"""Pages of the people assessed and the people who score: the unit (被考核单位), the evaluator
(考核组) and the representative at a debrief meeting (参会代表).

Every read and every write goes through the JSON API's own route functions (``api.routers.units``,
``api.routers.rectification``, ``api.routers.debrief``…) with the signed-in user, so every role,
unit-scope and business rule is the API's. A refused write re-renders the form with what the
user typed and the API's ``{code, message, field}`` shown beside the field it names
(``scores.1.1.2`` → beside point 1.1.2); nothing typed is lost.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from adapters.accounts import User
from api.deps import require, require_unit_scope
from api.errors import STATUS
from api.routers import cycles as cycles_api
from api.routers import debrief as debrief_api
from api.routers import rectification as rect_api
from api.routers import reports as reports_api
from api.routers import units as units_api
from api.schemas import BallotIn, ScoringIn, SelfReviewIn
from api.web import i18n
from api.web.routes import PageError, PageRoute, PageUser, checked_form, render_page, services
from domain.errors import DomainError, NotFound
from domain.policy import GRADE_NAMES
from domain.scheme import ORG_TYPES, parse_scheme

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TASK_PAGES = {
    "submit_self_review": "/self-review/{cycle}/{unit}",
    "acknowledge_feedback": "/my/{cycle}/{unit}",
    "report_rectification": "/my/{cycle}/{unit}",
    "submit_scoring": "/scoring/{cycle}/{unit}",
    "cast_ballot": "/ballot/{cycle}/{cohort}",
}

STRINGS: dict[str, dict[str, str]] = {
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
}
for _key, _entry in STRINGS.items():
    i18n.STRINGS.setdefault(_key, _entry)

GRADE_EN = {"excellent": "Excellent", "good": "Good", "average": "Average", "poor": "Poor"}
#: Prefixes of the API's error fields that belong to one evaluation point (``scores.1.1.2``).
POINT_FIELDS = ("scores.", "evidence.", "na_reasons.", "comments.")


# ------------------------------------------------------------------ helpers


def error_of(err: Exception) -> tuple[int, dict[str, Any]]:
    """The API's status and ``{code, message, field}`` for a refused command."""
    if isinstance(err, DomainError):
        return STATUS.get(err.kind, 400), err.to_dict()
    if isinstance(err, HTTPException):
        detail = err.detail if isinstance(err.detail, dict) else {"code": f"http_{err.status_code}", "message": str(err.detail)}
        return err.status_code, detail
    raise err


def errors_by_place(error: dict[str, Any] | None, keys: list[str], prefixes: tuple[str, ...] = POINT_FIELDS) -> tuple[dict[str, str], str | None]:
    """Where an API error goes: beside one key (a point code, a unit) or above the form."""
    if not error:
        return {}, None
    field = str(error.get("field") or "")
    for prefix in prefixes:
        if field.startswith(prefix) and field[len(prefix):] in keys:
            return {field[len(prefix):]: error["message"]}, None
    return {}, error["message"]


def new_idem() -> str:
    return uuid.uuid4().hex


def idem_of(form: Any) -> str | None:
    value = str(form.get("idem") or "").strip()
    return value or None


def scheme_tree(svc, cycle: str, cohort: str, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The unit's scheme as level-1 groups → level-2 groups → points, the flat points, and the total."""
    c = svc.app.cycle(cycle)
    if cohort not in c.schemes:
        raise NotFound("scheme_not_found", f"周期 {cycle} 没有 {cohort} 的指标体系 / no scheme for this org type", "cohort")
    scheme = parse_scheme(c.schemes[cohort])
    name = lambda x: (x.name_en or x.name) if lang == "en" else x.name  # noqa: E731
    by_code = {i.code: i for i in scheme.indicators}
    points = {p.code: p for p in scheme.points}
    groups, flat = [], []
    for ind1 in (i for i in scheme.indicators if i.level == 1):
        children = []
        for code2 in ind1.children:
            ind2 = by_code[code2]
            rows = []
            for code3 in ind2.children:
                p = points[code3]
                row = {"code": p.code, "name": name(p), "max": fmt(p.max)}
                rows.append(row)
                flat.append(row)
            children.append({"code": ind2.code, "name": name(ind2), "max": fmt(ind2.max), "points": rows})
        groups.append({"code": ind1.code, "name": name(ind1), "max": fmt(ind1.max), "children": children})
    return groups, flat, fmt(scheme.total)


def fmt(value: Any) -> str:
    """A decimal without trailing zeros: ``6``, ``3.5``."""
    if value is None:
        return ""
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(d.normalize(), "f")
    return text


def total_of(values: dict[str, Any]) -> str:
    total = Decimal(0)
    for v in values.values():
        try:
            total += Decimal(str(v)) if v not in (None, "") else 0
        except InvalidOperation:
            pass
    return fmt(total)


def require_stage(cycle_view: dict[str, Any], stage: str) -> bool:
    return cycle_view["stages"].get(stage) == "open"


async def cycle_of(svc, key: str) -> dict[str, Any]:
    return cycles_api.cycle_view(await run_in_threadpool(cycles_api._cycle_row, svc, key))


def see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


# ------------------------------------------------------------------ unit: self-review


def self_review_form(form: Any, codes: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Scores and evidence as typed: blank scores are left out (the API asks for them on submit)."""
    scores = {c: str(form.get(f"score.{c}") or "").strip() for c in codes}
    evidence = {c: str(form.get(f"evidence.{c}") or "") for c in codes}
    return {c: v for c, v in scores.items() if v}, {c: v for c, v in evidence.items() if v.strip()}


async def render_self_review(
    request: Request, user: User, cycle: str, unit: str, *, status: int = 200,
    typed: tuple[dict[str, str], dict[str, str]] | None = None, error: dict[str, Any] | None = None, idem: str | None = None,
) -> Response:
    svc = services(request)
    require(user, "unit")
    view = await units_api.get_unit(cycle, unit, user, svc)  # the API's unit scope: 403 for another unit
    cyc = await cycle_of(svc, cycle)
    groups, points, total = await run_in_threadpool(scheme_tree, svc, cycle, view["cohort"], request.state.lang)
    carried = await rect_api.carried(cycle, unit, user, svc)
    submitted = view["self_review"] != "pending"
    if typed is not None:
        scores, evidence = typed
    elif submitted:
        scores, evidence = view.get("self_scores") or {}, view.get("self_evidence") or {}
    else:
        draft = view.get("draft") or {}
        scores, evidence = draft.get("scores") or {}, draft.get("evidence") or {}
    scores = {k: fmt(v) if v is not None else "" for k, v in scores.items()}
    codes = [p["code"] for p in points]
    field_errors, form_error = errors_by_place(error, codes)
    return await render_page(
        request, "people_self_review.html", user, status,
        cycle=cyc, unit=view, groups=groups, points=points, total=total, scores=scores, evidence=evidence,
        typed_total=total_of(scores), carried=carried, submitted=submitted, stage_open=require_stage(cyc, "self_review"),
        field_errors=field_errors, form_error=form_error, idem=idem or new_idem(), item_status=item_status,
    )


def item_status(lang: str, status: str) -> str:
    return i18n.t(lang, f"pp_item_{status}") if f"pp_item_{status}" in i18n.STRINGS else status


@router.get("/self-review/{cycle}/{unit}")
async def self_review_page(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await render_self_review(request, user, cycle, unit)


@router.post("/self-review/{cycle}/{unit}/draft")
async def self_review_draft(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    """Save the draft as the user types (``fetch`` from the form): the API's PUT …/self-review/draft."""
    form = await checked_form(request)
    svc = services(request)
    view = await units_api.get_unit(cycle, unit, user, svc)
    _, points, _ = await run_in_threadpool(scheme_tree, svc, cycle, view["cohort"], request.state.lang)
    scores, evidence = self_review_form(form, [p["code"] for p in points])
    try:
        await units_api.save_draft(cycle, unit, SelfReviewIn(scores=scores, evidence=evidence), user, svc)
    except (DomainError, HTTPException) as err:
        status, body = error_of(err)
        return JSONResponse({"saved": False, "error": body}, status_code=status)
    return JSONResponse({"saved": True, "message": i18n.t(request.state.lang, "pp_draft_saved")})


@router.post("/self-review/{cycle}/{unit}")
async def self_review_submit(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    svc = services(request)
    require(user, "unit")
    view = await units_api.get_unit(cycle, unit, user, svc)
    _, points, _ = await run_in_threadpool(scheme_tree, svc, cycle, view["cohort"], request.state.lang)
    typed = self_review_form(form, [p["code"] for p in points])
    body = SelfReviewIn(scores=typed[0], evidence=typed[1])
    try:
        await units_api.submit_self_review(cycle, unit, body, user, svc, idem_of(form))
    except (DomainError, HTTPException) as err:
        status, error = error_of(err)
        return await render_self_review(request, user, cycle, unit, status=status, typed=typed, error=error, idem=new_idem())
    return see_other(f"/self-review/{quote(cycle)}/{quote(unit)}?submitted=1")


# ------------------------------------------------------------------ unit: results, feedback, rectification


async def render_my(
    request: Request, user: User, cycle: str, unit: str, *, status: int = 200,
    item_error: tuple[str, dict[str, Any]] | None = None, typed_text: dict[str, str] | None = None,
    notice: str | None = None, ack_error: dict[str, Any] | None = None,
) -> Response:
    svc = services(request)
    lang = request.state.lang
    require(user, "unit")
    view = await units_api.get_unit(cycle, unit, user, svc)
    cyc = await cycle_of(svc, cycle)
    result = None
    if cyc["status"] in ("published", "closed"):
        doc = await cycles_api.results(cycle, user, svc)
        result = doc["units"].get(unit)
        if result:
            grade = result.get("grade")
            result = {**result, "grade_name": (GRADE_EN if lang == "en" else GRADE_NAMES).get(grade, grade or "")}
    feedback = None
    try:
        feedback = await rect_api.feedback(cycle, unit, user, svc)
    except NotFound:
        feedback = None
    items = await rect_api.list_items(cycle, user, svc)
    items = [i for i in items if i["unit"] == unit] + await rect_api.carried(cycle, unit, user, svc)
    errors: dict[str, str] = {}
    if item_error:
        errors[item_error[0]] = item_error[1]["message"]
    return await render_page(
        request, "people_my.html", user, status,
        cycle=cyc, unit=view, result=result, feedback=feedback, items=items, item_errors=errors,
        typed_text=typed_text or {}, notice=notice, ack_error=ack_error, item_status=item_status, fmt=fmt,
    )


@router.get("/my/files/{sha256}")  # before /my/{cycle}/{unit}, which would take it
async def my_file(request: Request, sha256: str, user: PageUser) -> Response:
    """An evidence file of the user's unit (the API's download and its scope)."""
    return await rect_api.download(sha256, user, services(request))


@router.get("/my/{cycle}/{unit}")
async def my_page(request: Request, cycle: str, unit: str, user: PageUser, done: str | None = None) -> Response:
    notice = {"ack": "pp_acknowledged", "report": "pp_reported"}.get(done or "")
    return await render_my(request, user, cycle, unit, notice=i18n.t(request.state.lang, notice) if notice else None)


@router.post("/my/{cycle}/{unit}/acknowledge")
async def my_acknowledge(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    svc = services(request)
    require_unit_scope(user, unit)
    try:
        await units_api.acknowledge(cycle, unit, user, svc, idem_of(form))
    except (DomainError, HTTPException) as err:
        status, error = error_of(err)
        if status == 403:
            raise
        return await render_my(request, user, cycle, unit, status=status, ack_error=error)
    return see_other(f"/my/{quote(cycle)}/{quote(unit)}?done=ack")


@router.post("/my/{cycle}/{unit}/items/{item_cycle}/{item}")
async def my_item_report(request: Request, cycle: str, unit: str, item_cycle: str, item: str, user: PageUser) -> Response:
    """A progress report or the completion of an item, with evidence files (the API's store)."""
    form = await checked_form(request)
    svc = services(request)
    require(user, "unit")
    require_unit_scope(user, unit)
    text = str(form.get("text") or "")
    action = str(form.get("action") or "progress")
    try:
        attachments = []
        for file in form.getlist("files"):
            if isinstance(file, UploadFile) and file.filename:
                await rect_api.uploader(user)
                attachments.append(await rect_api.upload(user, svc, file))
        body = rect_api.ReportIn(text=text, attachments=attachments)
        call = rect_api.submit if action == "submit" else rect_api.progress
        await call(item_cycle, item, body, user, svc, idem_of(form))
    except (DomainError, HTTPException) as err:
        status, error = error_of(err)
        if status == 403:
            raise
        return await render_my(request, user, cycle, unit, status=status, item_error=(item, error), typed_text={item: text})
    return see_other(f"/my/{quote(cycle)}/{quote(unit)}?done=report#item-{quote(item)}")


@router.get("/my/{cycle}/{unit}/feedback.docx")
async def my_feedback_docx(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await reports_api.feedback_docx(cycle, unit, user, services(request))


# ------------------------------------------------------------------ evaluator: the scoring sheet


def scoring_form(form: Any, codes: list[str]) -> dict[str, Any]:
    """The sheet as typed: per point the score, N/A and its reason, the comment."""
    return {
        "scores": {c: str(form.get(f"score.{c}") or "").strip() for c in codes},
        "na": {c for c in codes if form.get(f"na.{c}")},
        "na_reasons": {c: str(form.get(f"na_reason.{c}") or "") for c in codes},
        "comments": {c: str(form.get(f"comment.{c}") or "") for c in codes},
    }


async def render_scoring(
    request: Request, user: User, cycle: str, unit: str, *, status: int = 200,
    typed: dict[str, Any] | None = None, error: dict[str, Any] | None = None, idem: str | None = None,
) -> Response:
    svc = services(request)
    require(user, "evaluator")
    view = await units_api.get_unit(cycle, unit, user, svc)
    cyc = await cycle_of(svc, cycle)
    groups, points, total = await run_in_threadpool(scheme_tree, svc, cycle, view["cohort"], request.state.lang)
    codes = [p["code"] for p in points]
    if typed is None:
        saved = view.get("scores") or {}
        typed = {
            "scores": {c: fmt(v) if v is not None else "" for c, v in saved.items()},
            "na": {c for c, v in saved.items() if v is None},
            "na_reasons": view.get("na_reasons") or {},
            "comments": view.get("comments") or {},
        }
    self_scores = {c: fmt(v) if v is not None else "" for c, v in (view.get("self_scores") or {}).items()}
    field_errors, form_error = errors_by_place(error, codes)
    running = total_of({c: v for c, v in typed["scores"].items() if c not in typed["na"]})
    return await render_page(
        request, "people_scoring.html", user, status,
        cycle=cyc, unit=view, groups=groups, points=points, total=total, typed=typed, self_scores=self_scores,
        self_total=total_of(self_scores), running=running, field_errors=field_errors, form_error=form_error,
        stage_open=require_stage(cyc, "scoring"), idem=idem or new_idem(),
    )


@router.get("/scoring/{cycle}/{unit}")
async def scoring_page(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    return await render_scoring(request, user, cycle, unit)


@router.post("/scoring/{cycle}/{unit}")
async def scoring_submit(request: Request, cycle: str, unit: str, user: PageUser) -> Response:
    form = await checked_form(request)
    svc = services(request)
    require(user, "evaluator")
    view = await units_api.get_unit(cycle, unit, user, svc)
    _, points, _ = await run_in_threadpool(scheme_tree, svc, cycle, view["cohort"], request.state.lang)
    codes = [p["code"] for p in points]
    typed = scoring_form(form, codes)
    scores: dict[str, Any] = {}
    for c in codes:
        if c in typed["na"]:
            scores[c] = None
        elif typed["scores"][c]:
            scores[c] = typed["scores"][c]
    body = ScoringIn(
        scores=scores,
        na_reasons={c: v for c, v in typed["na_reasons"].items() if c in typed["na"] and v.strip()},
        comments={c: v for c, v in typed["comments"].items() if v.strip()},
    )
    try:
        await units_api.submit_scoring(cycle, unit, body, user, svc, idem_of(form))
    except (DomainError, HTTPException) as err:
        status, error = error_of(err)
        return await render_scoring(request, user, cycle, unit, status=status, typed=typed, error=error, idem=new_idem())
    return see_other(f"/scoring/{quote(cycle)}/{quote(unit)}?submitted=1")


# ------------------------------------------------------------------ representative: the ballot


async def session_of(request: Request, user: User, cycle: str, cohort: str) -> dict[str, Any]:
    require(user, "representative")
    for s in await debrief_api.sessions(cycle, user, services(request)):
        if s["cohort"] == cohort:
            return s
    raise PageError(404, f"{cohort} 的述职评议尚未开启 / no debrief session for this cohort")


async def render_ballot(
    request: Request, user: User, cycle: str, cohort: str, *, status: int = 200,
    typed: dict[str, str] | None = None, category: str = "", error: dict[str, Any] | None = None,
    idem: str | None = None, just_cast: bool = False,
) -> Response:
    session = await session_of(request, user, cycle, cohort)
    cyc = await cycle_of(services(request), cycle)
    units = [s["unit"] for s in session["secretaries"]]
    field_errors, form_error = errors_by_place(error, units, ("scores.",))
    if error and error.get("field") == "category":
        field_errors, form_error = {"__category": error["message"]}, None
    return await render_page(
        request, "people_ballot.html", user, status,
        cycle=cyc, session=session, cohort_name=cohort if request.state.lang == "en" else ORG_TYPES.get(cohort, cohort), typed=typed or {}, category=category, categories=list((cyc.get("categories") or {}).keys()),
        field_errors=field_errors, form_error=form_error, idem=idem or new_idem(), just_cast=just_cast,
    )


@router.get("/ballot/{cycle}/{cohort}")
async def ballot_page(request: Request, cycle: str, cohort: str, user: PageUser, done: str | None = None) -> Response:
    return await render_ballot(request, user, cycle, cohort, just_cast=done == "1")


@router.post("/ballot/{cycle}/{cohort}")
async def ballot_cast(request: Request, cycle: str, cohort: str, user: PageUser) -> Response:
    form = await checked_form(request)
    session = await session_of(request, user, cycle, cohort)
    typed = {s["unit"]: str(form.get(f"score.{s['unit']}") or "").strip() for s in session["secretaries"]}
    category = str(form.get("category") or "").strip()
    body = BallotIn(scores={u: v for u, v in typed.items() if v}, category=category or None)
    try:
        await debrief_api.cast(cycle, cohort, body, user, services(request), idem_of(form))
    except (DomainError, HTTPException) as err:
        status, error = error_of(err)
        return await render_ballot(request, user, cycle, cohort, status=status, typed=typed, category=category, error=error, idem=new_idem())
    return see_other(f"/ballot/{quote(cycle)}/{quote(cohort)}?done=1")
