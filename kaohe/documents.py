"""Documents (issue 4 item 5): the feedback letter and the special report as ``.docx``, the
special report as PDF, the results and the rectification list as ``.xlsx``.

Every builder takes plain data (a draft from :func:`domain.report.feedback_draft`, a report
from :func:`domain.report.special_report`, a results document, rectification rows) and
returns the file's bytes. Nothing is computed here beyond layout: the numbers arrive as
decimal strings and are written as they are (in ``.xlsx`` as numbers, from ``Decimal``).

Chinese text: in ``.docx`` every style and every run names its East Asian font (``w:eastAsia``)
as well as its Latin one, so WPS and Word both show 宋体 / 黑体 rather than a fallback; the
PDF uses the built-in CID font ``STSong-Light`` (no font file needed).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from domain.policy import GRADE_NAMES, GRADES
from domain.report import RECTIFICATION_STATUS_NAMES, code_key
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


def _s(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _grade(code: str | None) -> str:
    return GRADE_NAMES.get(code or "", "未定")


def _cohort(code: str | None) -> str:
    return ORG_TYPES.get(code or "", code or "")


def _table_or(blocks: list, header: list[str], rows: list[list[str]], weights: list[int], empty: str) -> None:
    if rows:
        blocks.append(("table", header, rows, weights))
    else:
        blocks.append(("para", empty))


def _feedback_blocks(draft: Mapping[str, Any]) -> list[tuple]:
    s = draft["scores"]
    g = draft["grade"]
    blocks: list[tuple] = [
        ("title", f"{draft.get('cycle_name') or draft['cycle']} 考核反馈意见书"),
        ("para", f"被考核单位：{draft['name']}（{draft['unit']}）"),
        ("para", f"党组织类型：{_s(draft.get('cohort_name'))}"),
        ("heading", "一、考核等次和得分", 1),
    ]
    rows = [
        ["考核等次", g["name"]],
        ["党建工作评分（W）", _s(s.get("work_score"))],
        ["书记抓党建述职评议得分（D）", _s(s.get("debrief_score"))],
        ["综合得分（C）", _s(s.get("composite"))],
        ["加分（B）", _s(s.get("bonus"))],
        ["最终得分（F）", _s(s.get("final_score"))],
        ["同类型单位排名", _s(s.get("rank"))],
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
        "考核中未发现明显失分的评价要点。",
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
        return f"{_s(a.get('points'))} 分"
    if a.get("kind") == "downgrade":
        return f"{_s(a.get('levels'))} 档"
    if a.get("kind") == "veto":
        return "定为较差"
    return "—"


def _report_blocks(report: Mapping[str, Any]) -> list[tuple]:
    cycle = report["cycle"]
    title = f"{cycle.get('name') or cycle.get('key')} 专项报告"
    year = f"（{cycle['year']}年度）" if cycle.get("year") else ""
    blocks: list[tuple] = [("title", title), ("subtitle", f"考核周期：{cycle.get('key')}{year}")]

    blocks.append(("heading", "一、考核等次分布", 1))
    header = ["党组织类型", "单位数", *[GRADE_NAMES[g] for g in GRADES], "未定", "优秀率"]
    rows = []
    for d in report["distribution"]:
        rows.append([d["cohort_name"], str(d["units"]), *[str(d["counts"][g]) for g in GRADES], str(d["undecided"]), _s(d["shares"]["excellent"])])
    t = report["distribution_total"]
    rows.append(["合计", str(t["units"]), *[str(t["counts"][g]) for g in GRADES], str(t["undecided"]), _s(t["shares"]["excellent"])])
    blocks.append(("table", header, rows, [4, 2, 2, 2, 2, 2, 2, 2]))

    blocks.append(("heading", "二、得分统计", 1))
    labels = {"final_score": "最终得分（F）", "work_score": "党建工作评分（W）", "debrief_score": "述职评议得分（D）"}
    rows = []
    for st in report["statistics"]:
        for key, label in labels.items():
            v = st[key]
            rows.append([st["cohort_name"], label, str(v["count"]), _s(v["mean"]), _s(v["median"]), _s(v["min"]), _s(v["max"])])
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
        blocks.append(("para", f"整改事项共 {rect['total']} 项，已验收销号 {rect['closed']} 项，销号率 {_s(rect['closed_share'])}。"))

    blocks.append(("heading", "七、意见建议", 1))
    lines = [x for x in str(report.get("suggestions") or "").splitlines() if x.strip()]
    for line in lines or ["（待组织部补充。）"]:
        blocks.append(("para", line))
    return blocks


# ---------------------------------------------------------------- .docx


def _east_asian(rpr_owner: Any, font: str) -> None:
    """Name ``font`` for Latin and East Asian text on an ``<w:rPr>`` owner; drop theme fonts,
    which would otherwise win over the named ones."""
    from docx.oxml.ns import qn

    rfonts = rpr_owner.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)


def _run(paragraph: Any, text: str, font: str = SONG, size: float | None = None, bold: bool = False) -> Any:
    from docx.shared import Pt

    run = paragraph.add_run(text)
    run.font.name = font
    _east_asian(run._element, font)  # sets rPr.rFonts w:eastAsia as well
    if size is not None:
        run.font.size = Pt(size)
    if bold:
        run.bold = True
    return run


def _style_font(style: Any, font: str, size: float | None = None, bold: bool | None = None) -> None:
    from docx.shared import Pt, RGBColor

    style.font.name = font
    _east_asian(style.element, font)  # sets rPr.rFonts w:eastAsia as well
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)


def _chinese_defaults(doc: Any) -> None:
    """Document defaults: 宋体 for every script (no theme fonts) and Chinese as the East Asian
    language, so that characters shared by both scripts (quotes, dashes) are set as Chinese."""
    from docx.oxml.ns import qn

    rpr = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if rpr is None:
        return
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is not None:
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), SONG)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")


def _new_docx(title: str) -> Any:
    from docx import Document
    from docx.shared import Cm

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.0), Cm(2.5)
    _chinese_defaults(doc)
    _style_font(doc.styles["Normal"], SONG, 12)
    for name, size in (("Title", 18), ("Heading 1", 14), ("Heading 2", 12)):
        _style_font(doc.styles[name], HEI, size, True)
    _style_font(doc.styles["Table Grid"], SONG)
    doc.core_properties.title = title
    doc.core_properties.author = "Kaohe 党建工作考核系统"
    return doc


def _docx_bytes(blocks: Sequence[tuple]) -> bytes:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    title = next((b[1] for b in blocks if b[0] == "title"), "")
    doc = _new_docx(title)
    usable = 21 - 2 * 2.6
    for block in blocks:
        kind = block[0]
        if kind == "title":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.space_after = Pt(12)
            _run(p, block[1], HEI, 18, True)
        elif kind == "subtitle":
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(p, block[1], SONG, 12)
        elif kind == "heading":
            h = doc.add_heading(level=block[2])
            _run(h, block[1], HEI, 14 if block[2] == 1 else 12, True)
        elif kind == "section":
            p = doc.add_paragraph()
            _run(p, block[1], HEI, 12, True)
        elif kind == "para":
            p = doc.add_paragraph()
            p.paragraph_format.line_spacing = 1.5
            _run(p, block[1], SONG, 12)
        elif kind == "table":
            _, header, rows, weights = block
            table = doc.add_table(rows=1, cols=len(header))
            table.style = doc.styles["Table Grid"]
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            total = sum(weights)
            widths = [Cm(usable * w / total) for w in weights]
            for i, text in enumerate(header):
                cell = table.rows[0].cells[i]
                cell.width = widths[i]
                _run(cell.paragraphs[0], text, HEI, 10.5, True)
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            for row in rows:
                cells = table.add_row().cells
                for i, text in enumerate(row):
                    cells[i].width = widths[i]
                    _run(cells[i].paragraphs[0], str(text), SONG, 10.5)
            doc.add_paragraph()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def feedback_docx(draft: Mapping[str, Any]) -> bytes:
    """One unit's feedback letter (考核反馈意见书) as ``.docx``."""
    return _docx_bytes(_feedback_blocks(draft))


def report_docx(report: Mapping[str, Any]) -> bytes:
    """The special report (专项报告) as ``.docx``."""
    return _docx_bytes(_report_blocks(report))


# ---------------------------------------------------------------- PDF


def _register_pdf_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))


def _xml(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def report_pdf(report: Mapping[str, Any]) -> bytes:
    """The special report (专项报告) as PDF (A4, 宋体 via the CID font STSong-Light)."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_pdf_font()
    blocks = _report_blocks(report)
    title = next((b[1] for b in blocks if b[0] == "title"), "")
    base = dict(fontName=PDF_FONT, wordWrap="CJK")
    styles = {
        "title": ParagraphStyle("title", fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6, **base),
        "subtitle": ParagraphStyle("subtitle", fontSize=11, leading=16, alignment=TA_CENTER, spaceAfter=10, **base),
        "h1": ParagraphStyle("h1", fontSize=14, leading=20, spaceBefore=10, spaceAfter=6, **base),
        "h2": ParagraphStyle("h2", fontSize=12, leading=18, spaceBefore=6, spaceAfter=4, **base),
        "para": ParagraphStyle("para", fontSize=10.5, leading=16, spaceAfter=4, **base),
        "cell": ParagraphStyle("cell", fontSize=9, leading=12, **base),
        "head": ParagraphStyle("head", fontSize=9, leading=12, alignment=TA_CENTER, **base),
    }
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2.2 * cm,
        rightMargin=2.2 * cm,
        topMargin=2.2 * cm,
        bottomMargin=2.2 * cm,
        title=title,
        author="Kaohe 党建工作考核系统",
        invariant=True,
    )
    story: list[Any] = []
    for block in blocks:
        kind = block[0]
        if kind in ("title", "subtitle", "para"):
            story.append(Paragraph(_xml(block[1]), styles[kind]))
        elif kind == "section":
            story.append(Paragraph(_xml(block[1]), styles["h2"]))
        elif kind == "heading":
            story.append(Paragraph(_xml(block[1]), styles["h1" if block[2] == 1 else "h2"]))
        elif kind == "table":
            _, header, rows, weights = block
            total = sum(weights)
            widths = [doc.width * w / total for w in weights]
            data = [[Paragraph(_xml(h), styles["head"]) for h in header]]
            data += [[Paragraph(_xml(c), styles["cell"]) for c in row] for row in rows]
            table = Table(data, colWidths=widths, repeatRows=1)
            table.setStyle(
                TableStyle(
                    [
                        ("FONTNAME", (0, 0), (-1, -1), PDF_FONT),
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8E8E8")),
                        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ]
                )
            )
            story.append(table)
            story.append(Spacer(1, 6))

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(PDF_FONT, 9)
        canvas.drawCentredString(A4[0] / 2, 1.2 * cm, f"第 {document.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


# ---------------------------------------------------------------- .xlsx


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
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True, name=SONG)
        cell.fill = PatternFill("solid", fgColor="E8E8E8")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    widths = [_display_width(h) for h in header]
    n = 1
    for row in rows:
        ws.append(list(row))
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
                _cohort(r.get("cohort")),
                _num(r.get("work_score")),
                _num(r.get("debrief_score")),
                _num(r.get("composite")),
                _num(r.get("bonus")),
                _num(r.get("final_score")),
                r.get("rank"),
                _grade(r.get("base_grade")),
                int(r.get("downgrade_levels") or 0),
                "是" if r.get("vetoed") else "否",
                "是" if r.get("overridden") else "否",
                _grade(r.get("grade")),
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
        drows.append([_cohort(c), n, *[counts[g] for g in GRADES], n - sum(counts.values()), _share(counts["excellent"], n)])
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
            return _s(value)
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
        [u["unit"], u["name"] or "", _cohort(u["cohort"]), u.get("grade_name") or _grade(u["grade"]), _num(u["final_score"]),
         _num(u["pay_coefficient"]), "是" if u["recognition_eligible"] else "否", u.get("recognition_note") or ""]
        for u in export["units"]
    ]
    _sheet(ws, ["单位编码", "单位名称", "党组织类型", "考核等次", "最终得分", "薪酬系数", "可否评优", "说明"], rows,
           formats={4: "0.00", 5: "0.00##"}, wrap=[7])
    if cross:
        cs = wb.create_sheet("双向印证")
        crows = [[c["unit"], c.get("name") or "", _grade(c.get("party_grade")), c.get("business_level") or "",
                  c.get("difference") if c.get("difference") is not None else "", "是" if c.get("flagged") else "", c.get("note") or ""]
                 for c in cross]
        _sheet(cs, ["单位编码", "单位名称", "党建考核等次", "业绩考核等级", "等级差", "需关注", "说明"], crows, wrap=[6])
        flag = PatternFill("solid", fgColor="FCE4D6")
        for r, c in enumerate(cross, 2):
            if c.get("flagged"):
                for cell in cs[r]:
                    cell.fill = flag
    return _xlsx_bytes(wb)
