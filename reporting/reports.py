"""Documents and the use of results, built from the event store by the domain's own code; the
API and the CLI both call these, so a download is the same file either way."""

from __future__ import annotations

from typing import Any

from domain import report as rpt
from domain import use_of_results as use
from domain.application import Assessments
from domain.errors import Conflict
from domain.scheme import parse_scheme
from reporting import documents


def _published(app: Assessments, cycle: str):
    c = app.cycle(cycle)
    if c.results is None:
        raise Conflict("results_not_published", zh="考核结果尚未公布", en="results are not published yet", field="cycle")
    return c


def feedback_docx(app: Assessments, cycle: str, unit: str) -> bytes:
    _published(app, cycle)
    ua = app.unit(cycle, unit)
    draft = dict(ua.feedback_draft or {})
    if ua.feedback_status != "none":
        draft["text"] = ua.feedback_text
    return documents.feedback_docx(draft)


def rectification_rows(app: Assessments, cycle: str) -> list[dict[str, Any]]:
    c = app.cycle(cycle)
    rows = []
    from domain.audit import read_log

    seen = set()
    for item in read_log(app):
        if item.name == "RectificationItemCreated" and item.event.cycle == cycle:
            seen.add(item.event.originator_id)
    for oid in sorted(seen, key=str):
        it = app.repository.get(oid)
        rows.append({
            "id": str(oid), "unit": it.unit, "unit_name": c.units.get(it.unit, {}).get("name", it.unit), "point": it.point,
            "description": it.description, "deadline": it.deadline, "status": it.status, "owner": it.unit,
            "overdue": it.overdue,
        })
    return rows


def special_report(app: Assessments, cycle: str) -> dict[str, Any]:
    c = _published(app, cycle)
    units, scores, self_scores = [], {}, {}
    for key, info in c.units.items():
        ua = app.unit(cycle, key)
        units.append({"unit": key, "name": info["name"], "cohort": info["org_type"]})
        scores[key] = ua.scores
        self_scores[key] = ua.self_scores if ua.self_review_status == "submitted" else {}
    adjustments = [
        {"unit": a.unit, "kind": a.kind, "points": a.points, "levels": a.levels, "reason": a.reason, "status": a.status}
        for a in (app.adjustment(x) for x in c.adjustments)
    ]
    counts: dict[str, int] = {}
    for row in rectification_rows(app, cycle):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return rpt.special_report(
        {"key": c.key, "name": c.name, "year": c.year}, c.results, units,
        {org: parse_scheme(tree) for org, tree in c.schemes.items()}, scores, self_scores, adjustments,
        counts, c.suggestions or "",
    )


def names(app: Assessments, cycle: str) -> dict[str, str]:
    return {k: u["name"] for k, u in app.cycle(cycle).units.items()}


def hr_export(app: Assessments, cycle: str) -> dict[str, Any]:
    c = _published(app, cycle)
    policy = use.parse_results_use_policy(c.results_use or {})
    return use.hr_export_json(c.key, c.year, use.apply(c.results, names(app, cycle), policy))


def cross_check(app: Assessments, cycle: str) -> list[dict[str, Any]]:
    c = _published(app, cycle)
    return use.cross_check(c.results, c.business_grades or {}, names(app, cycle))


def build(app: Assessments, what: str, cycle: str, unit: str | None = None) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of a download."""
    if what == "feedback":
        return feedback_docx(app, cycle, unit or ""), documents.DOCX_MIME, f"考核反馈-{cycle}-{unit}.docx"
    if what == "report-docx":
        return documents.report_docx(special_report(app, cycle)), documents.DOCX_MIME, f"专项报告-{cycle}.docx"
    if what == "report-pdf":
        return documents.report_pdf(special_report(app, cycle)), documents.PDF_MIME, f"专项报告-{cycle}.pdf"
    if what == "results":
        c = _published(app, cycle)
        return documents.results_xlsx(cycle, c.results, names(app, cycle)), documents.XLSX_MIME, f"考核结果-{cycle}.xlsx"
    if what == "rectifications":
        return documents.rectification_xlsx(rectification_rows(app, cycle)), documents.XLSX_MIME, f"整改清单-{cycle}.xlsx"
    if what == "hr":
        return documents.hr_xlsx(hr_export(app, cycle), cross_check(app, cycle)), documents.XLSX_MIME, f"结果运用-{cycle}.xlsx"
    raise ValueError(what)
