"""Uploaded spreadsheets are parsed safely (issue 12, gap 8): through ``defusedxml`` (no XML
entities), never unpacked past a bound (a zip bomb is refused unread), never read past a row
and column bound (a declared or sparse million rows is refused, not materialised).

The readers of api/web/sheets.py are what the organizer's upload pages call; a refusal is
the user's input error naming the field, as for any unreadable file."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from openpyxl import Workbook

from api.web import sheets
from domain.errors import InvalidInput

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def units_xlsx(rows: int = 2) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["单位编号", "单位名称", "类型"])
    for i in range(1, rows):
        ws.append([f"U{i}", f"第{i}支部", "grassroots_branch"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def with_sheet(xml: str) -> bytes:
    """A real .xlsx whose first sheet's XML is replaced by ``xml``."""
    src = zipfile.ZipFile(io.BytesIO(units_xlsx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            z.writestr(item.filename, xml if item.filename == SHEET else src.read(item.filename))
    return out.getvalue()


def refused(data: bytes, code: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        sheets.read_units_xlsx(data)
    assert caught.value.code == code and caught.value.field == "file", caught.value
    return caught.value


def test_an_ordinary_units_sheet_is_read():
    units, numbers = sheets.read_units_xlsx(units_xlsx(1001))
    assert len(units) == 1000 and units[0]["key"] == "U1" and numbers[-1] == 1001


def test_openpyxl_parses_through_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


def test_a_sheet_with_an_xml_entity_is_refused():
    """Before, the entity was expanded and its text became a unit's name (and a billion-laughs
    file would have been expanded too); defusedxml refuses any entity declaration."""
    xml = (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x "邪恶">]><worksheet {NS}><sheetData>'
           '<row r="1"><c r="A1" t="inlineStr"><is><t>单位编号</t></is></c><c r="B1" t="inlineStr"><is><t>单位名称</t></is></c>'
           '<c r="C1" t="inlineStr"><is><t>类型</t></is></c></row>'
           '<row r="2"><c r="A2" t="inlineStr"><is><t>U1</t></is></c><c r="B2" t="inlineStr"><is><t>&x;</t></is></c>'
           '<c r="C2" t="inlineStr"><is><t>grassroots_branch</t></is></c></row></sheetData></worksheet>')
    refused(with_sheet(xml), "invalid_xlsx")


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    """A 100 MiB sheet that compresses to a few hundred KiB: refused from the zip directory."""
    xml = f'<?xml version="1.0"?><worksheet {NS}><sheetData>' + " " * (100 * 1024 * 1024) + "</sheetData></worksheet>"
    data = with_sheet(xml)
    assert len(data) < sheets.MAX_UPLOAD
    started = time.monotonic()
    err = refused(data, "xlsx_too_large")
    assert time.monotonic() - started < 1.0  # nothing was inflated
    assert "50 MiB" in str(err)


def test_a_sheet_of_a_million_rows_is_refused_without_reading_them():
    """Two cells a million rows apart: openpyxl fills the gap with empty rows; only the first
    MAX_ROWS + 1 are ever made, then the upload is refused."""
    xml = (f'<?xml version="1.0"?><worksheet {NS}><dimension ref="A1:XFD1048576"/><sheetData>'
           '<row r="1"><c r="A1" t="inlineStr"><is><t>单位编号</t></is></c></row>'
           '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>U1</t></is></c></row></sheetData></worksheet>')
    started = time.monotonic()
    refused(with_sheet(xml), "too_many_rows")
    assert time.monotonic() - started < 5.0


def test_a_file_past_the_upload_limit_is_refused():
    refused(b"PK" + b"\0" * (sheets.MAX_UPLOAD + 1), "file_too_large")


def test_a_scheme_bomb_is_refused_naming_the_schemes_field():
    xml = f'<?xml version="1.0"?><worksheet {NS}><sheetData>' + " " * (60 * 1024 * 1024) + "</sheetData></worksheet>"
    with pytest.raises(InvalidInput) as caught:
        sheets.scheme_from_xlsx(with_sheet(xml), "scheme.xlsx")
    assert caught.value.field == "schemes" and caught.value.code == "xlsx_too_large"
