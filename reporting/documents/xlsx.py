"""Spreadsheets (.xlsx): the results, the rectification list, the HR export. Numbers are written
as numbers, from ``Decimal``; text that would be a formula is written as text
(``reporting.documents.cells.neutralise``, every cell through ``_sheet``)."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from domain.policy import GRADE_NAMES, GRADES
from domain.report import RECTIFICATION_STATUS_NAMES, code_key
from domain.scheme import ORG_TYPES
from reporting.documents.cells import neutralise_row
from reporting.documents.layout import CHINA, SONG, cohort_name, grade_name, text_of


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet(ws: Any, header: Sequence[str], rows: Iterable[Sequence[Any]], formats: Mapping[int, str] | None = None,
           wrap: Iterable[int] = (), max_width: int = 40) -> None:
    """Fill a sheet: bold shaded header frozen at A2, a filter, number formats, fitting widths."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    formats = formats or {}
    wrap = set(wrap)
    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append(neutralise_row(header))
    for cell in ws[1]:
        cell.font = Font(bold=True, name=SONG)
        cell.fill = PatternFill("solid", fgColor="E8E8E8")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    widths = [_display_width(h) for h in header]
    n = 1
    for row in rows:
        ws.append(neutralise_row(row))  # text a spreadsheet would run as a formula stays text
        n += 1
        for i, cell in enumerate(ws[n]):
            cell.font = Font(name=SONG)
            cell.border = border
            if i in formats and cell.value is not None:
                cell.number_format = formats[i]
            cell.alignment = Alignment(vertical="center", wrap_text=i in wrap)
            shown = f"{cell.value:.2f}" if isinstance(cell.value, Decimal) else cell.value
            widths[i] = max(widths[i], _display_width(shown))
    for i, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), max_width)
    ws.freeze_panes = "A2"
    if n > 1:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{n}"


def _num(value: Any) -> Decimal | None:
    """A decimal string of the results as an exact ``Decimal`` (openpyxl writes it as a number)."""
    return None if value is None or value == "" else Decimal(str(value))


def _xlsx_bytes(wb: Any) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cohort_rank(cohort: str) -> int:
    order = list(ORG_TYPES)
    return order.index(cohort) if cohort in order else len(order)


RESULT_COLUMNS = (
    "单位编号", "单位名称", "类型", "工作评分W", "述职评议D", "综合C", "加分B", "最终得分F",
    "排名", "基础等次", "降档", "否决", "调整", "等次",
)


def results_xlsx(cycle_key: str, results: Mapping[str, Any], names: Mapping[str, str]) -> bytes:
    """The results (sheet 考核结果) and the grade distribution (sheet 等次分布) as ``.xlsx``."""
    from openpyxl import Workbook

    units: Mapping[str, Mapping[str, Any]] = results.get("units", {})
    order = sorted(
        units,
        key=lambda u: (
            _cohort_rank(units[u].get("cohort", "")),
            units[u].get("cohort", ""),
            units[u].get("rank") is None,
            units[u].get("rank") or 0,
            code_key(u),
        ),
    )
    rows = []
    for u in order:
        r = units[u]
        rows.append(
            [
                u,
                names.get(u, u),
                cohort_name(r.get("cohort")),
                _num(r.get("work_score")),
                _num(r.get("debrief_score")),
                _num(r.get("composite")),
                _num(r.get("bonus")),
                _num(r.get("final_score")),
                r.get("rank"),
                grade_name(r.get("base_grade")),
                int(r.get("downgrade_levels") or 0),
                "是" if r.get("vetoed") else "否",
                "是" if r.get("overridden") else "否",
                grade_name(r.get("grade")),
            ]
        )
    wb = Workbook()
    ws = wb.active
    ws.title = "考核结果"
    _sheet(ws, RESULT_COLUMNS, rows, {i: "0.00" for i in range(3, 8)} | {8: "0", 10: "0"})

    dist = wb.create_sheet("等次分布")
    header = ["党组织类型", "单位数", *[GRADE_NAMES[g] for g in GRADES], "未定", "优秀率"]
    drows = []
    totals = {g: 0 for g in GRADES}
    total_n = 0
    cohorts = sorted(results.get("distribution", {}), key=lambda c: (_cohort_rank(c), c))
    for c in cohorts:
        counts = {g: int(results["distribution"][c].get(g, 0)) for g in GRADES}
        n = sum(1 for r in units.values() if r.get("cohort") == c) or sum(counts.values())
        drows.append([cohort_name(c), n, *[counts[g] for g in GRADES], n - sum(counts.values()), _share(counts["excellent"], n)])
        total_n += n
        for g in GRADES:
            totals[g] += counts[g]
    drows.append(["合计", total_n, *[totals[g] for g in GRADES], total_n - sum(totals.values()), _share(totals["excellent"], total_n)])
    _sheet(dist, header, drows, {7: "0.0%"})
    wb.properties.title = f"{cycle_key} 考核结果"
    wb.properties.creator = "Kaohe"
    return _xlsx_bytes(wb)


def _share(count: int, n: int) -> Decimal | None:
    """count / n as an exact-enough decimal fraction (4 places, shown as a percentage)."""
    if not n:
        return None
    return (Decimal(count) / Decimal(n)).quantize(Decimal("0.0001"))


def _deadline(value: Any) -> Any:
    """An ISO 8601 deadline as a calendar date in China Standard Time (Excel has no zones)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return text_of(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return moment.date()


RECTIFICATION_COLUMNS = ("编号", "单位编号", "单位名称", "评价要点", "问题描述", "整改时限", "状态", "责任人")


def rectification_xlsx(items: Sequence[Mapping[str, Any]]) -> bytes:
    """The rectification list (sheet 整改事项) and counts by status (sheet 状态统计) as ``.xlsx``."""
    from openpyxl import Workbook

    overdue = any("overdue" in i for i in items)
    header = list(RECTIFICATION_COLUMNS) + (["逾期"] if overdue else [])
    order = sorted(items, key=lambda i: (code_key(str(i.get("unit", ""))), str(i.get("point") or ""), str(i.get("deadline") or "")))
    rows = []
    counts: dict[str, int] = {s: 0 for s in RECTIFICATION_STATUS_NAMES}
    for it in order:
        status = str(it.get("status") or "")
        counts[status] = counts.get(status, 0) + 1
        row = [
            str(it.get("id") or ""),
            str(it.get("unit") or ""),
            str(it.get("unit_name") or it.get("unit") or ""),
            str(it.get("point") or "—"),
            str(it.get("description") or ""),
            _deadline(it.get("deadline")) if it.get("deadline") else "—",
            RECTIFICATION_STATUS_NAMES.get(status, status),
            str(it.get("owner") or ""),
        ]
        if overdue:
            row.append("是" if it.get("overdue") else "否")
        rows.append(row)
    wb = Workbook()
    ws = wb.active
    ws.title = "整改事项"
    _sheet(ws, header, rows, {5: "yyyy-mm-dd"}, wrap={4}, max_width=60)
    # the description column wraps at a fixed width rather than growing with the longest text
    ws.column_dimensions["E"].width = 50

    st = wb.create_sheet("状态统计")
    total = sum(counts.values())
    closed = counts.get("closed", 0)
    srows = [[RECTIFICATION_STATUS_NAMES.get(s, s), n] for s, n in counts.items()]
    srows.append(["合计", total])
    srows.append(["销号率", _share(closed, total)])
    _sheet(st, ["状态", "事项数"], srows)
    st.cell(row=len(srows) + 1, column=2).number_format = "0.0%"
    wb.properties.title = "整改事项清单"
    wb.properties.creator = "Kaohe"
    return _xlsx_bytes(wb)


def hr_xlsx(export: Mapping[str, Any], cross: Sequence[Mapping[str, Any]] = ()) -> bytes:
    """The HR export (use of results) as a spreadsheet; with a cross-check sheet if given."""
    from openpyxl import Workbook
    from openpyxl.styles import PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "结果运用"
    rows = [
        [u["unit"], u["name"] or "", cohort_name(u["cohort"]), u.get("grade_name") or grade_name(u["grade"]), _num(u["final_score"]),
         _num(u["pay_coefficient"]), "是" if u["recognition_eligible"] else "否", u.get("recognition_note") or ""]
        for u in export["units"]
    ]
    _sheet(ws, ["单位编码", "单位名称", "党组织类型", "考核等次", "最终得分", "薪酬系数", "可否评优", "说明"], rows,
           formats={4: "0.00", 5: "0.00##"}, wrap=[7])
    if cross:
        cs = wb.create_sheet("双向印证")
        crows = [[c["unit"], c.get("name") or "", grade_name(c.get("party_grade")), c.get("business_level") or "",
                  c.get("difference") if c.get("difference") is not None else "", "是" if c.get("flagged") else "", c.get("note") or ""]
                 for c in cross]
        _sheet(cs, ["单位编码", "单位名称", "党建考核等次", "业绩考核等级", "等级差", "需关注", "说明"], crows, wrap=[6])
        flag = PatternFill("solid", fgColor="FCE4D6")
        for r, c in enumerate(cross, 2):
            if c.get("flagged"):
                for cell in cs[r]:
                    cell.fill = flag
    return _xlsx_bytes(wb)
