"""Documents and the use of results through the API and the CLI: the files open and carry the
right content; business grades are imported (bad files refused, nothing stored) and cross-checked;
a unit's grades across cycles form a trend."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import log_position
from tests.helpers import cast, small_cycle

pytestmark = pytest.mark.temporal


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_documents_results_use_and_trend(client, stack, tmp_path):
    await cast(client)
    key = await small_cycle(client, "published")
    org, aud, u1, u2 = client.as_("org"), client.as_("aud"), client.as_("u1"), client.as_("u2")
    assert (await org.post(f"/cycles/{key}/units/U2/feedback", json={"text": ""})).status_code == 200

    # Feedback letter (.docx): U2's grade (good: F 80.90, see tests/test_cycle_api.py) and its problems.
    r = await u2.get(f"/cycles/{key}/units/U2/feedback.docx")
    assert r.status_code == 200 and "filename*=UTF-8''" in r.headers["content-disposition"]
    text = "\n".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs)
    tables = "\n".join(c.text for t in Document(io.BytesIO(r.content)).tables for row in t.rows for c in row.cells)
    assert "良好" in text + tables and "1.1.2" in tables and "要点二" in tables
    assert (await u1.get(f"/cycles/{key}/units/U2/feedback.docx")).status_code == 403
    assert (await u1.get(f"/cycles/{key}/units/U1/feedback.docx")).status_code == 422  # not issued yet

    # Special report: suggestions by the organizer, then .docx and PDF with the distribution.
    assert (await org.put(f"/cycles/{key}/report/suggestions", json={"text": "加强基层党支部标准化建设。"})).status_code == 200
    report = (await aud.get(f"/cycles/{key}/report")).json()
    assert report["suggestions"] == "加强基层党支部标准化建设。"
    pdf = await aud.get(f"/cycles/{key}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "测试周期" in pdf_text and "加强基层党支部标准化建设" in pdf_text
    rdocx = await aud.get(f"/cycles/{key}/report.docx")
    cells = [c.text for t in Document(io.BytesIO(rdocx.content)).tables for row in t.rows for c in row.cells]
    assert "优秀" in cells and "良好" in cells  # the distribution table: 1 excellent, 1 good

    # Results and rectification lists (.xlsx): frozen header, U1's row.
    wb = load_workbook(io.BytesIO((await aud.get(f"/cycles/{key}/results.xlsx")).content))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    rows = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["U1"][1] == "第一支部" and float(rows["U1"][7]) == 94.4 and rows["U1"][-1] == "优秀"
    items = load_workbook(io.BytesIO((await org.get(f"/cycles/{key}/rectifications.xlsx")).content)).worksheets[0]
    # U2's one point below the default share of 80%: 1.1.2 3/4 = 75.0% (1.1.1 5/6 = 83.3% is not)
    assert items.freeze_panes == "A2" and items.max_row == 1 + 1

    # Use of results: default coefficients, then the committee's policy; HR export.
    hr = (await aud.get(f"/cycles/{key}/hr-export")).json()
    assert {u["unit"]: u["pay_coefficient"] for u in hr["units"]} == {"U1": "1.05", "U2": "1.00"}
    r = await org.put(f"/cycles/{key}/results-use", json={"pay": {"excellent": "1.10"}, "recognition_min_grade": "excellent"})
    assert r.status_code == 200, r.text
    hr = (await aud.get(f"/cycles/{key}/hr-export")).json()
    by = {u["unit"]: u for u in hr["units"]}
    assert by["U1"]["pay_coefficient"] == "1.10" and by["U2"]["recognition_eligible"] is False
    before = log_position(stack)
    # good 1.20 above excellent's (default) 1.05: coefficients may not rise as the grade falls.
    bad = await org.put(f"/cycles/{key}/results-use", json={"pay": {"good": "1.20"}})
    assert bad.status_code == 422 and bad.json()["code"] == "pay_not_monotonic" and log_position(stack) == before

    # Business grades: unknown unit or grade refused, nothing stored; then the cross-check.
    for rows_in, code in (([{"unit": "U9", "grade": "A"}], "unknown_unit"), ([{"unit": "U1", "grade": "Z"}], "unknown_business_grade")):
        r = await org.post(f"/cycles/{key}/business-grades", json={"rows": rows_in})
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert log_position(stack) == before
    csv_text = "unit,grade\nU1,D\nU2,B\n".encode()
    r = await org.post(f"/cycles/{key}/business-grades/file", files={"file": ("业绩.csv", csv_text, "text/csv")})
    assert r.status_code == 200 and r.json()["imported"] == 2
    cross = {c["unit"]: c for c in (await aud.get(f"/cycles/{key}/cross-check")).json()}
    # U1: party excellent (1) vs business D (4): differ by 3 → flagged; U2: good (2) vs B (2) → not.
    assert cross["U1"]["flagged"] is True and cross["U2"]["flagged"] is False
    hx = load_workbook(io.BytesIO((await aud.get(f"/cycles/{key}/hr-export.xlsx")).content))
    assert [ws.title for ws in hx.worksheets] == ["结果运用", "双向印证"]

    # Trend: a second cycle for the same units.
    key2 = await small_cycle(client, "published", key="c2", scores={"U1": {"1.1.1": "5", "1.1.2": "3"}, "U2": {"1.1.1": "6", "1.1.2": "3.5"}})
    trend = (await u1.get("/units/U1/trend")).json()
    assert [(t["cycle"], t["grade"]) for t in trend] == [(key, "excellent"), (key2, "good")]
    assert (await u1.get("/units/U2/trend")).status_code == 403

    # The CLI writes the same documents from the event store.
    kaohe = str(Path(sys.executable).parent / "kaohe")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env["KAOHE_DATA_DIR"] = str(stack.settings.data_dir)
    out = tmp_path / "r.xlsx"
    p = subprocess.run([kaohe, "download", "results", "--cycle", key, "--out", str(out)], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert load_workbook(out).worksheets[0]["A2"].value == "U1"
    p = subprocess.run([kaohe, "download", "report-pdf", "--cycle", "nope"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and p.stderr.startswith("kaohe:")
