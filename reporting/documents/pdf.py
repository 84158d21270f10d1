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




def ballot_codes_pdf(title: str, session: str, slips: list[Mapping[str, Any]]) -> bytes:
    """The printable sheet of a debrief session's one-time ballot codes: per representative a
    slip with the session's name, the representative's name, a QR code of their phone ballot
    page (``slip["url"]``, drawn with reportlab's own ``QrCodeWidget``) and the address in
    print, for a phone that cannot scan. Two columns, four rows to an A4 page; cut along the
    lines."""
    from reportlab.graphics import renderPDF
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen import canvas as pdfcanvas

    _register_pdf_font()
    buf = io.BytesIO()
    c = pdfcanvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"{title} {session}")
    c.setAuthor("Kaohe 党建工作考核系统")
    width, height = A4
    cols, rows = 2, 4
    margin = 1.2 * cm
    cell_w, cell_h = (width - 2 * margin) / cols, (height - 2 * margin) / rows
    # The code (with its quiet zone) fits between the address lines below it and the session's
    # name above it: a code drawn over text cannot be scanned.
    below, above = 1.6 * cm, 1.4 * cm + 0.3 * cm
    qr_size = min(4.6 * cm, cell_h - below - above)
    if not slips:
        c.setFont(PDF_FONT, 12)
        c.drawString(margin, height - margin - 12, f"{session}：没有需要发放评议码的代表 / no representative needs a code")
    for i, slip in enumerate(slips):
        if i and i % (cols * rows) == 0:
            c.showPage()
        k = i % (cols * rows)
        x = margin + (k % cols) * cell_w
        y = height - margin - (k // cols + 1) * cell_h
        c.setDash(3, 3)
        c.rect(x, y, cell_w, cell_h)
        c.setDash()
        c.setFont(PDF_FONT, 10)
        c.drawCentredString(x + cell_w / 2, y + cell_h - 0.8 * cm, str(title)[:40])
        c.setFont(PDF_FONT, 11)
        c.drawCentredString(x + cell_w / 2, y + cell_h - 1.4 * cm, str(session)[:40])
        widget = QrCodeWidget(str(slip["url"]), barLevel="M")
        x0, y0, x1, y1 = widget.getBounds()
        drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, c, x + (cell_w - qr_size) / 2, y + below)
        c.setFont(PDF_FONT, 12)
        c.drawCentredString(x + cell_w / 2, y + 1.05 * cm, f"代表 Representative：{slip['name']}")
        c.setFont("Helvetica", 6)
        c.drawCentredString(x + cell_w / 2, y + 0.45 * cm, str(slip["url"]))
    c.showPage()
    c.save()
    return buf.getvalue()
