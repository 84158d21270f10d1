"""Word (.docx) documents: the feedback letter and the special report.

Every style and every run names its East Asian font (``w:eastAsia``) as well as its Latin one,
so WPS and Word both show 宋体 / 黑体 rather than a fallback."""

from __future__ import annotations

import io
from typing import Any, Mapping, Sequence

from reporting.documents.layout import HEI, SONG, feedback_blocks, report_blocks


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
    return _docx_bytes(feedback_blocks(draft))


def report_docx(report: Mapping[str, Any]) -> bytes:
    """The special report (专项报告) as ``.docx``."""
    return _docx_bytes(report_blocks(report))


