"""One rule for every cell Kaohe writes into a spreadsheet or a CSV file: text that a spreadsheet
would read as a formula is written as text (CSV/formula injection, OWASP).

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe (``'=HYPERLINK(…)``): Excel, WPS and LibreOffice show it as text and run
nothing. A number stays a number: ``Decimal``/``int`` values are not text, and a text that is
a plain number (``-3``, ``+1.50``) is left as it is, since a spreadsheet reads it as that number
and nothing else. Used by ``reporting.documents.xlsx`` (every sheet goes through ``_sheet``) and
``services.audit.to_csv`` (the timeline, on the API, the pages and the CLI).
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell (only text is ever changed)."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_row(row: Any) -> list[Any]:
    return [neutralise(v) for v in row]
