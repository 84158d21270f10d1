"""A QR code as a small inline SVG (one path, no style attribute, no script), drawn with reportlab's
QR encoder (the same one the printed ballot codes use)."""

from __future__ import annotations

import itertools

from markupsafe import Markup


def qr_svg(data: str, label: str, border: int = 4) -> Markup:
    from reportlab.graphics.barcode.qr import QrCodeWidget

    qr = QrCodeWidget(data, barLevel="M").qr
    qr.make()
    n = qr.getModuleCount()
    path = []
    for r, row in enumerate(qr.modules):
        c = 0
        for dark, run in itertools.groupby(map(bool, row)):
            count = len(list(run))
            if dark:
                path.append(f"M{c + border} {r + border}h{count}v1h-{count}z")
            c += count
    size = n + 2 * border
    from markupsafe import escape

    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" width="220" height="220" role="img" '
        f'aria-label="{escape(label)}" shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(path)}"/></svg>'
    )
