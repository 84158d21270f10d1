"""What the organizer uploads or types in bulk, read into the command's fields: units from an
.xlsx, a scheme from an .xlsx, ballot categories from a text box, debrief rosters from an .xlsx
or a text box. A file that cannot be read is
the user's input error (``InvalidInput`` naming the field), never a crash."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from api.web import catalogue
from domain.errors import InvalidInput
from domain.scheme import ORG_TYPES, tree_from_rows

MAX_UPLOAD = 5 * 1024 * 1024
#: What an uploaded .xlsx may unpack to (all its parts together, as its zip directory declares;
#: Python's zipfile never inflates a part past its declared size) and how much of its first
#: sheet is read: a unit a row for a thousand units, a representative a row, a scheme's points
#: are far below these. Past them the file is refused before a cell is parsed or kept.
MAX_UNPACKED = 50 * 1024 * 1024
MAX_PARTS = 500
MAX_ROWS = 20_000
MAX_COLUMNS = 64
#: The key of a scheme read from an .xlsx whose file name gives none.
EXCEL_SCHEME_KEY = "excel"

#: Header names accepted in a units sheet (Chinese or the API's field names) → the unit's field.
HEADERS = {"单位编号": "key", "编号": "key", "key": "key", "单位名称": "name", "名称": "name", "name": "name",
           "类型": "org_type", "党组织类型": "org_type", "org_type": "org_type"}
#: The columns a units sheet must have, in the order the error names them.
REQUIRED = (("xlsx_col_key", "key"), ("xlsx_col_name", "name"), ("xlsx_col_org_type", "org_type"))


def zh_org_types() -> dict[str, str]:
    """Org type by key or by Chinese name (with the ``/`` halves of 基层党总支/党支部 too)."""
    out = {}
    for key, name in ORG_TYPES.items():
        out[key] = key
        out[name] = key
        for half in name.split("/"):
            out[half] = key
    return out


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_xlsx(data: bytes, field: str = "file", code: str = "invalid_xlsx") -> None:
    """An upload that is not a zip, or would unpack past :data:`MAX_UNPACKED`, is refused unread.
    Its XML is parsed by openpyxl through ``defusedxml`` (no entities, no DTD fetched): refuse
    to parse at all if that protection is missing."""
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency; never parse uploads without it
        raise RuntimeError("defusedxml is not installed: uploaded spreadsheets are not parsed")
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("file_too_large", **catalogue.texts("limits_sheet_too_large", size=MAX_UPLOAD // (1024 * 1024)), field=field)
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise InvalidInput(code, **catalogue.texts("err_invalid_xlsx", error=type(e).__name__), field=field) from None
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise InvalidInput("xlsx_too_large", **catalogue.texts("limits_sheet_unpacks_too_large", size=MAX_UNPACKED // (1024 * 1024)), field=field)


def sheet_rows(data: bytes, field: str = "file", code: str = "invalid_xlsx") -> list[tuple]:
    """The first sheet's rows (values, not formulas), at most :data:`MAX_ROWS` rows of
    :data:`MAX_COLUMNS` cells (a sheet's declared dimension is not trusted: it may claim a
    million rows of 16,384 columns); an unreadable file is the user's input error."""
    from openpyxl import load_workbook

    check_xlsx(data, field, code)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's input error
        raise InvalidInput(code, **catalogue.texts("err_invalid_xlsx", error=type(e).__name__), field=field) from None
    try:
        rows = list(wb.worksheets[0].iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True)) if wb.worksheets else []
    except Exception as e:  # noqa: BLE001 - a part that does not parse (or an entity refused by defusedxml)
        raise InvalidInput(code, **catalogue.texts("err_invalid_xlsx", error=type(e).__name__), field=field) from None
    finally:
        wb.close()
    if len(rows) > MAX_ROWS:
        raise InvalidInput("too_many_rows", **catalogue.texts("limits_sheet_too_many_rows", rows=MAX_ROWS), field=field)
    return rows


def first_sheet_rows(data: bytes) -> list[tuple]:
    """The first sheet's rows (values, not formulas); an unreadable or empty file is the user's
    input error, naming the file field."""
    rows = sheet_rows(data)
    if not rows:
        raise InvalidInput("empty_xlsx", **catalogue.texts("err_empty_xlsx"), field="file")
    return rows


def read_units_xlsx(data: bytes) -> tuple[list[dict[str, Any]], list[int]]:
    """Units from the first sheet: a header row (单位编号, 单位名称, 类型), then one unit a row.
    Returns the units and the sheet row number of each."""
    rows = first_sheet_rows(data)
    columns = {}
    for i, head in enumerate(rows[0]):
        name = HEADERS.get(cell(head).lower() if cell(head).isascii() else cell(head))
        if name and name not in columns:
            columns[name] = i
    missing = [catalogue.t("zh", label) for label, k in REQUIRED if k not in columns]
    if missing:
        raise InvalidInput("missing_columns", **catalogue.texts("err_missing_columns", zh="、".join(missing), en=", ".join(missing)), field="file")
    types = zh_org_types()
    units, numbers = [], []
    for n, row in enumerate(rows[1:], start=2):
        values = {k: cell(row[i]) if i < len(row) else "" for k, i in columns.items()}
        if not any(values.values()):
            continue
        values["org_type"] = types.get(values["org_type"], values["org_type"])
        units.append(values)
        numbers.append(n)
    return units, numbers


def scheme_from_xlsx(data: bytes, filename: str) -> dict[str, Any]:
    """The first sheet of an uploaded .xlsx as a scheme tree (header row first; one row per
    evaluation point, ``domain.scheme.SCHEME_COLUMNS``)."""
    try:
        rows = sheet_rows(data, "schemes", "invalid_scheme")[1:]
    except InvalidInput as err:
        if err.code != "invalid_scheme":
            raise
        raise InvalidInput("invalid_scheme", **catalogue.texts("err_invalid_scheme_xlsx"), field="schemes") from None
    name = filename.rsplit(".", 1)[0]
    return tree_from_rows(rows, name[:64] or EXCEL_SCHEME_KEY, name or catalogue.t("zh", "excel_scheme_name"), "schemes")


def parse_categories_text(raw: str) -> dict[str, str] | None:
    """``名称 权重`` per line (or ``名称=权重``); blank means the default single category."""
    if not raw.strip():
        return None
    out: dict[str, str] = {}
    for line in raw.splitlines():
        line = line.strip()
        if not line:
            continue
        name, _, weight = line.replace("=", " ").replace("：", " ").replace(":", " ").rpartition(" ")
        if not name.strip():
            raise InvalidInput("invalid_categories", **catalogue.texts("err_invalid_categories", line=line), field="categories")
        out[name.strip()] = weight.strip()
    return out


#: Header names accepted in a roster sheet → the entry's field.
ROSTER_HEADERS = {"代表": "representative", "代表用户名": "representative", "用户名": "representative",
                  "representative": "representative", "类别": "category", "代表类别": "category", "category": "category",
                  "党组织类型": "cohort", "场次": "cohort", "类型": "cohort", "cohort": "cohort"}
ROSTER_REQUIRED = (("xlsx_col_representative", "representative"), ("xlsx_col_cohort", "cohort"))


def read_roster_xlsx(data: bytes) -> tuple[dict[str, list[dict[str, str]]], dict[tuple[str, int], int]]:
    """Rosters from the first sheet: a header row (代表, 类别, 党组织类型), then one representative
    a row; a representative may appear once per cohort. Returns cohort → entries, and the sheet
    row of each ``(cohort, index)``. Unknown cohorts and categories and doubles are the domain's
    to refuse (all or nothing)."""
    rows = first_sheet_rows(data)
    columns: dict[str, int] = {}
    for i, head in enumerate(rows[0]):
        name = ROSTER_HEADERS.get(cell(head).lower() if cell(head).isascii() else cell(head))
        if name and name not in columns:
            columns[name] = i
    missing = [catalogue.t("zh", label) for label, k in ROSTER_REQUIRED if k not in columns]
    if missing:
        raise InvalidInput("missing_columns", **catalogue.texts("err_missing_columns", zh="、".join(missing), en=", ".join(missing)), field="file")
    types = zh_org_types()
    rosters: dict[str, list[dict[str, str]]] = {}
    where: dict[tuple[str, int], int] = {}
    for n, row in enumerate(rows[1:], start=2):
        values = {k: cell(row[i]) if i < len(row) else "" for k, i in columns.items()}
        if not any(values.values()):
            continue
        cohort = types.get(values["cohort"], values["cohort"])
        entry = {"representative": values["representative"]}
        if values.get("category"):
            entry["category"] = values["category"]
        where[(cohort, len(rosters.setdefault(cohort, [])))] = n
        rosters[cohort].append(entry)
    if not rosters:
        raise InvalidInput("empty_xlsx", **catalogue.texts("err_empty_xlsx"), field="file")
    return rosters, where


def parse_roster_text(raw: str) -> list[dict[str, str]]:
    """``代表 类别`` per line (the category may be left out when the cycle has one)."""
    out = []
    for line in raw.splitlines():
        parts = line.replace("，", " ").replace(",", " ").split()
        if not parts:
            continue
        out.append({"representative": parts[0], **({"category": parts[1]} if len(parts) > 1 else {})})
    return out
