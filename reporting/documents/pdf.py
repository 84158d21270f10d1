"""The special report as PDF, in the built-in CID font ``STSong-Light`` (no font file needed)."""

from __future__ import annotations

import io
from typing import Any, Mapping

from reporting.documents.layout import PDF_FONT, report_blocks


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
    from reportlab.platypus import (
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    _register_pdf_font()
    blocks = report_blocks(report)
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


