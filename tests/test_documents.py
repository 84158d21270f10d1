"""The documents of issue 4 item 5, built and READ BACK: the feedback letter (.docx), the special
report (.docx and PDF), the results and the rectification list (.xlsx).

The data is the hand-worked example of ``tests/domain/test_report.py``; the expected cells are
literals taken from its comments.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import docx
import openpyxl
from docx.oxml.ns import qn
from pypdf import PdfReader

from domain.policy import GRADE_NAMES, GRADES
from domain.report import feedback_draft, special_report
from domain.scheme import resolve_scheme
from reporting.documents import feedback_docx, rectification_xlsx, report_docx, report_pdf, results_xlsx
from tests.domain.test_report import NAMES, RESULTS, draft_of, report

ROOT = Path(__file__).resolve().parents[1]


def _docx(data: bytes):
    assert data[:2] == b"PK"
    return docx.Document(io.BytesIO(data))


def _paragraph_texts(d) -> list[str]:
    return [p.text for p in d.paragraphs]


def _table_rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _all_runs(d):
    for p in d.paragraphs:
        yield from p.runs
    for t in d.tables:
        for row in t.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    yield from p.runs


def _east_asian(element) -> str | None:
    rpr = element.rPr
    return None if rpr is None or rpr.rFonts is None else rpr.rFonts.get(qn("w:eastAsia"))


# ---------------------------------------------------------------- feedback .docx


def test_feedback_docx_reads_back_with_grade_problems_and_chinese_fonts():
    d = _docx(feedback_docx(draft_of("U2")))
    texts = _paragraph_texts(d)
    assert texts[0] == "2026年度党建工作考核 考核反馈意见书"
    assert "被考核单位：第二分公司党委（U2）" in texts
    grade, strengths, problems, adjustments = d.tables
    rows = _table_rows(grade)
    assert rows[0] == ["项目", "结果"]
    assert ["考核等次", "较差"] in rows
    assert ["最终得分（F）", "68.00"] in rows and ["同类型单位排名", "3"] in rows
    assert ["基础等次", "一般"] in rows and ["降档", "1 档"] in rows
    # strengths: 2.1 6/6 100.0%; 1.1 5/10 50.0% and 2.2 1/4 25.0% fall below U2's 12/20 = 60%
    assert _table_rows(strengths)[1:] == [["1", "2.1 组织生活", "6/6", "100.0%"]]
    # problems: 2.2.1 1/4 25.0%, 1.1.1 2/4 50.0%, 1.1.2 3/6 50.0%
    assert _table_rows(problems) == [
        ["序号", "要点", "得分/满分", "得分率", "评价意见"],
        ["1", "2.2.1 发展党员（党员队伍）", "1/4", "25.0%", "发展党员程序不规范"],
        ["2", "1.1.1 党员集中学习（理论学习）", "2/4", "50.0%", "集中学习次数不足"],
        ["3", "1.1.2 主题党日（理论学习）", "3/6", "50.0%", "—"],
    ]
    assert _table_rows(adjustments)[1:] == [
        ["加分项", "2 分", "获评先进基层党组织", "已批准"],
        ["降档项", "1 档", "巡察指出重大问题", "已批准"],
    ]
    # the letter itself follows the tables, its section titles as their own paragraphs
    assert "三、存在问题" in texts and "四、整改要求" in texts
    assert any("考核等次为“较差”" in t for t in texts)

    # Chinese fonts: every run names its East Asian font; the styles do too (宋体 body, 黑体 headings)
    runs = list(_all_runs(d))
    assert runs and all(_east_asian(r._element) in ("宋体", "黑体") for r in runs)
    assert all(r.font.name in ("宋体", "黑体") for r in runs)
    assert _east_asian(d.styles["Normal"].element) == "宋体" and d.styles["Normal"].font.name == "宋体"
    assert _east_asian(d.styles["Heading 1"].element) == "黑体"
    title_run = d.paragraphs[0].runs[0]
    assert _east_asian(title_run._element) == "黑体" and title_run.bold
    # no theme font left to override the named ones
    rfonts = d.styles["Normal"].element.rPr.rFonts
    assert rfonts.get(qn("w:eastAsiaTheme")) is None and rfonts.get(qn("w:asciiTheme")) is None
    defaults = d.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"


def test_feedback_docx_edited_text_and_no_adjustments():
    draft = draft_of("U5")
    draft["text"] = "机关第二党支部：\n一、总体评价\n经研究，反馈如下（已编辑）。"
    d = _docx(feedback_docx(draft))
    texts = _paragraph_texts(d)
    assert "经研究，反馈如下（已编辑）。" in texts
    assert "无。" in texts  # no adjustment touched U5
    assert ["考核等次", "较差"] in _table_rows(d.tables[0])


# ---------------------------------------------------------------- special report .docx and PDF


def test_report_docx_reads_back_distribution_and_sections():
    d = _docx(report_docx(report()))
    texts = _paragraph_texts(d)
    assert texts[0] == "2026年度党建工作考核 专项报告"
    assert "考核周期：2026-annual（2026年度）" in texts
    dist = _table_rows(d.tables[0])
    assert dist[0] == ["党组织类型", "单位数", "优秀", "良好", "一般", "较差", "未定", "优秀率"]
    assert dist[1:] == [
        ["二级单位党委", "3", "1", "0", "1", "1", "0", "33.3%"],  # 1/3
        ["基层党总支/党支部", "2", "1", "0", "0", "1", "0", "50.0%"],  # 1/2
        ["合计", "5", "2", "0", "1", "2", "0", "40.0%"],  # 2/5
    ]
    stats = _table_rows(d.tables[1])
    assert ["二级单位党委", "最终得分（F）", "3", "79.42", "79.50", "68.00", "90.75"] in stats
    common_sc = _table_rows(d.tables[2])
    assert common_sc[1] == ["1", "2.2.1 发展党员", "党员队伍", "4", "2", "1", "62.5%"]
    gaps = _table_rows(d.tables[4])
    assert gaps[1] == ["1", "机关第二党支部（U5）", "基层党总支/党支部", "3", "16.00", "8.00", "8.00"]
    assert "未提交自评：机关第一党支部（U4）。" in texts
    adjustments = _table_rows(d.tables[5])
    assert adjustments[1] == ["第一分公司党委（U1）", "一票否决", "定为较差", "班子成员违纪", "未批准"]
    rect = _table_rows(d.tables[6])
    assert ["已验收销号", "3"] in rect and ["合计", "8"] in rect
    assert "整改事项共 8 项，已验收销号 3 项，销号率 37.5%。" in texts
    assert "二、规范发展党员程序。" in texts
    assert all(_east_asian(r._element) in ("宋体", "黑体") for r in _all_runs(d))


def test_report_pdf_reads_back_cycle_name_and_distribution():
    data = report_pdf(report())
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    first = reader.pages[0].extract_text()
    # STSong-Light text extracts as Chinese with pypdf
    assert "2026年度党建工作考核" in first and "专项报告" in first
    assert "二级单位党委" in first and "基层党总支/党支部" in first
    assert "33.3%" in first and "40.0%" in first and "79.42" in first
    everything = "".join(p.extract_text() for p in reader.pages)
    assert "U5" in everything and "8.00" in everything and "37.5%" in everything
    assert "2.2.1" in everything and "62.5%" in everything
    assert reader.metadata.title == "2026年度党建工作考核 专项报告"
    assert report_pdf(report()) == data  # invariant: the same report gives the same bytes


# ---------------------------------------------------------------- .xlsx


def test_results_xlsx_reads_back():
    wb = openpyxl.load_workbook(io.BytesIO(results_xlsx("2026-annual", RESULTS, NAMES)))
    assert wb.sheetnames == ["考核结果", "等次分布"]
    ws = wb["考核结果"]
    assert [c.value for c in ws[1]] == [
        "单位编号", "单位名称", "类型", "工作评分W", "述职评议D", "综合C", "加分B", "最终得分F",
        "排名", "基础等次", "降档", "否决", "调整", "等次",
    ]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b
    # cohort by cohort (secondary first), in rank order: U3, U1, U2, then U4, U5
    assert [ws.cell(row=r, column=1).value for r in range(2, 7)] == ["U3", "U1", "U2", "U4", "U5"]
    u2 = [c.value for c in ws[4]]
    assert u2[:3] == ["U2", "第二分公司党委", "二级单位党委"]
    assert [Decimal(str(v)) for v in u2[3:8]] == [Decimal("60"), Decimal("80"), Decimal("66"), Decimal("2"), Decimal("68")]
    assert u2[8:] == [3, "一般", 1, "否", "否", "较差"]
    u3 = [c.value for c in ws[2]]
    assert Decimal(str(u3[7])) == Decimal("90.75") and u3[13] == "优秀"
    assert all(isinstance(c.value, (int, float)) for c in ws[2][3:8])  # numbers, not text
    assert ws["H2"].number_format == "0.00"
    assert ws.column_dimensions["B"].width >= 16  # 第二分公司党委: 7 CJK characters

    dist = wb["等次分布"]
    assert dist.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in dist.iter_rows()]
    assert rows[0] == ["党组织类型", "单位数", "优秀", "良好", "一般", "较差", "未定", "优秀率"]
    assert rows[1][:7] == ["二级单位党委", 3, 1, 0, 1, 1, 0]
    assert rows[2][:7] == ["基层党总支/党支部", 2, 1, 0, 0, 1, 0]
    assert rows[3][:7] == ["合计", 5, 2, 0, 1, 2, 0]
    assert Decimal(str(rows[3][7])) == Decimal("0.4")  # 2/5
    assert dist["H2"].number_format == "0.0%"


def test_rectification_xlsx_reads_back():
    items = [
        {"id": "it-2", "unit": "U2", "unit_name": "第二分公司党委", "point": "2.2.1",
         "description": "发展党员程序不规范", "deadline": "2026-09-30T16:00:00+00:00",
         "status": "closed", "owner": "张三"},
        {"id": "it-1", "unit": "U1", "unit_name": "第一分公司党委", "point": "2.1.1",
         "description": "“三会一课”落实不到位", "deadline": "2026-10-08T09:00:00+08:00",
         "status": "in_progress", "owner": "李四", "overdue": True},
        {"id": "it-3", "unit": "U2", "unit_name": "第二分公司党委", "point": None,
         "description": "手工添加的事项", "deadline": "2026-12-31T00:00:00+08:00",
         "status": "open", "owner": "张三"},
    ]
    wb = openpyxl.load_workbook(io.BytesIO(rectification_xlsx(items)))
    ws = wb["整改事项"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    assert [c.value for c in ws[1]] == ["编号", "单位编号", "单位名称", "评价要点", "问题描述", "整改时限", "状态", "责任人", "逾期"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    # by unit, then point (no point sorts before "2.2.1")
    assert [r[0] for r in rows] == ["it-1", "it-3", "it-2"]
    # 2026-09-30 16:00 UTC is 2026-10-01 00:00 in China (UTC+8): the deadline is 1 October
    assert rows[2][:8] == ["it-2", "U2", "第二分公司党委", "2.2.1", "发展党员程序不规范", datetime(2026, 10, 1), "已验收销号", "张三"]
    assert rows[0][5] == datetime(2026, 10, 8) and rows[0][6] == "整改中" and rows[0][8] == "是"
    assert rows[1][3] == "—"
    assert ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["E2"].alignment.wrap_text and ws.column_dimensions["E"].width == 50
    st = [[c.value for c in row] for row in wb["状态统计"].iter_rows()]
    # open 1, in_progress 1, submitted 0, closed 1 → 3 items, 1 closed → 1/3 = 0.3333
    assert st[0] == ["状态", "事项数"]
    assert st[1:5] == [["待整改", 1], ["整改中", 1], ["已提交待验收", 0], ["已验收销号", 1]]
    assert st[5] == ["合计", 3]
    assert st[6][0] == "销号率" and Decimal(str(st[6][1])) == Decimal("0.3333")


# ---------------------------------------------------------------- the shipped scenario (smoke)


def test_scenario_documents_build_for_every_unit():
    """The example scenario (default 43-point scheme and a grassroots scheme, 12 units): a draft
    and a letter per unit, and the report in every format, consistent with the results file."""
    scenario = json.loads((ROOT / "examples" / "scenario-2026.json").read_text("utf-8"))
    results = json.loads((ROOT / "examples" / "scenario-2026.results.json").read_text("utf-8"))
    schemes = {k: resolve_scheme(v, k) for k, v in scenario["schemes"].items()}
    units = [{"unit": u["key"], "name": u["name"], "cohort": u["org_type"]} for u in scenario["units"]]
    adjustments = [
        {**a, "points": a.get("points"), "levels": a.get("levels"),
         "status": "rejected" if a.get("decision") == "reject" else "approved"}
        for a in scenario.get("adjustments", [])
    ]
    for u in units:
        draft = feedback_draft(
            scenario["cycle"]["key"], u["unit"], u["name"], results["units"][u["unit"]], schemes[u["cohort"]],
            scenario["scores"][u["unit"]], {}, [a for a in adjustments if a["unit"] == u["unit"]],
            cycle_name=scenario["cycle"]["name"],
        )
        d = _docx(feedback_docx(draft))
        assert d.paragraphs[0].text == "2026年度党建工作考核 考核反馈意见书"
        # The letter's first table says the unit's grade in words and its final score, as published.
        first = {row.cells[0].text: row.cells[1].text for row in d.tables[0].rows}
        assert first["考核等次"] == GRADE_NAMES[results["units"][u["unit"]]["grade"]]
        assert first["最终得分（F）"] == results["units"][u["unit"]]["final_score"]
    rep = special_report(
        scenario["cycle"], results, units, schemes, scenario["scores"], scenario.get("self_review", {}),
        adjustments, {"open": 3, "closed": 1}, "加强基层党组织建设。",
    )
    # The report's totals add the cohorts' counts up (not copied from anywhere): 12 units in all.
    total = rep["distribution_total"]
    assert sum(total["counts"].values()) == len(units) == 12
    for grade in GRADES:
        assert total["counts"][grade] == sum(d["counts"][grade] for d in rep["distribution"])
    assert _docx(report_docx(rep)).tables
    assert PdfReader(io.BytesIO(report_pdf(rep))).pages
    names = {u["unit"]: u["name"] for u in units}
    ws = openpyxl.load_workbook(io.BytesIO(results_xlsx(scenario["cycle"]["key"], results, names)))["考核结果"]
    assert ws.max_row == 1 + len(units)
