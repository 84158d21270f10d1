"""Use of results (考核结果运用, issue 4 item 6), as pure functions over decimals.

- **Results-use policy** per cycle: grade → pay coefficient (薪酬系数), and the lowest
  party-building grade that still allows recognition (评优评先); units graded below it are
  barred.
- **HR export**: one row per unit (grade, final score, pay coefficient, recognition), as a
  stable JSON document (``kaohe-hr-export/1``).
- **Business-performance grades** (经营业绩考核等次) imported from rows or CSV text, and the
  **cross-check** (党建与业绩考核双向印证) flagging units whose two grades differ by two
  levels or more.
- **Trend**: one unit's grades across past cycles.

Everything is ``Decimal``; nothing here stores or reads events. The inputs are a results
document as :func:`domain.grading.results_document` writes it (scores as strings with two
places, ``grade`` one of :data:`domain.policy.GRADES` or ``None`` while undecided).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from domain.decimals import to_decimal
from domain.errors import Bilingual, InvalidInput
from domain.policy import GRADE_NAMES, GRADES
from domain import wording

HR_EXPORT_FORMAT = "kaohe-hr-export/1"

#: Party-building grade → level: excellent 1, good 2, average 3, poor 4.
PARTY_LEVELS: dict[str, int] = {g: i + 1 for i, g in enumerate(GRADES)}

DEFAULT_PAY: dict[str, Decimal] = {
    "excellent": Decimal("1.05"),
    "good": Decimal("1.00"),
    "average": Decimal("0.95"),
    "poor": Decimal("0.90"),
}

PAY_MAX = Decimal(2)
PAY_MAX_DECIMALS = 4

# ---------------------------------------------------------------- results-use policy


@dataclass(frozen=True)
class ResultsUsePolicy:
    """Grade → pay coefficient, and the lowest grade that may still be recognised (评优)."""

    pay: dict[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_PAY))
    recognition_min_grade: str = "good"

    def to_dict(self) -> dict[str, Any]:
        return {
            "pay": {g: str(self.pay[g]) for g in GRADES},
            "recognition_min_grade": self.recognition_min_grade,
        }

    def pay_coefficient(self, grade: str) -> Decimal:
        return self.pay[grade]

    def recognition_allowed(self, grade: str) -> bool:
        """Recognition is allowed for the minimum grade and every grade above it."""
        return PARTY_LEVELS[grade] <= PARTY_LEVELS[self.recognition_min_grade]


def _canonical_coefficient(c: Decimal) -> Decimal:
    """Trailing zeros dropped, but at least two places: ``1`` → ``1.00``, ``1.0500`` → ``1.05``,
    ``1.0525`` stays. A coefficient therefore prints the same however it was written."""
    n = c.normalize()
    if n.as_tuple().exponent > -2:  # type: ignore[operator]
        return n.quantize(Decimal("0.01"))
    return n


def parse_results_use_policy(data: Any, field: str = "results_use") -> ResultsUsePolicy:
    """Read a results-use policy; what is left out takes its default.

    ``{"pay": {"excellent": "1.05", "good": "1.00", "average": "0.95", "poor": "0.90"},
    "recognition_min_grade": "good"}``. Each coefficient: ``0 < c ≤ 2``, at most 4 decimal
    places, and ``excellent ≥ good ≥ average ≥ poor``.
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise InvalidInput("invalid_results_use", zh=f"{wording.field(field)}必须是对象", en=f"{wording.field(field, 'en')}: must be an object", field=field)
    for key in data:
        if key not in ("pay", "recognition_min_grade"):
            raise InvalidInput(
                "unknown_field", zh=f"未知的结果运用字段 {key}", en="unknown results-use field", field=f"{field}.{key}"
            )
    pay_data = data.get("pay")
    if pay_data is None:
        pay_data = {}
    if not isinstance(pay_data, Mapping):
        raise InvalidInput("invalid_results_use", zh="pay 必须是对象", en="must be an object", field=f"{field}.pay")
    for grade in pay_data:
        if grade not in GRADES:
            raise InvalidInput(
                "unknown_grade",
                zh=f"未知等次“{grade}”，应为优秀、良好、一般、较差之一", en=f"unknown grade {grade!r}: excellent, good, average or poor",
                field=f"{field}.pay.{grade}",
            )
    pay: dict[str, Decimal] = {}
    for grade in GRADES:
        f = f"{field}.pay.{grade}"
        if grade not in pay_data:
            pay[grade] = DEFAULT_PAY[grade]
            continue
        c = to_decimal(pay_data[grade], f)
        if not (0 < c <= PAY_MAX):
            raise InvalidInput(
                "pay_out_of_range",
                zh=f"{GRADE_NAMES[grade]}等次的薪酬系数须大于 0 且不超过 2（现为 {c}）", en="pay coefficient must be > 0 and ≤ 2",
                field=f,
            )
        if c.normalize().as_tuple().exponent < -PAY_MAX_DECIMALS:  # type: ignore[operator]
            raise InvalidInput(
                "pay_too_precise",
                zh=f"{GRADE_NAMES[grade]}等次的薪酬系数最多保留 4 位小数（现为 {c}）", en="pay coefficient: at most 4 decimal places",
                field=f,
            )
        pay[grade] = _canonical_coefficient(c)
    for higher, lower in zip(GRADES, GRADES[1:]):
        if pay[lower] > pay[higher]:
            raise InvalidInput(
                "pay_not_monotonic",
                zh=f"{GRADE_NAMES[lower]}等次的薪酬系数（{pay[lower]}）不能高于{GRADE_NAMES[higher]}等次（{pay[higher]}）", en="pay coefficients must not rise as the grade falls",
                field=f"{field}.pay.{lower}",
            )
    min_grade = data.get("recognition_min_grade", "good")
    if not isinstance(min_grade, str) or min_grade not in GRADES:
        raise InvalidInput(
            "unknown_grade",
            zh=f"未知等次“{min_grade}”，应为优秀、良好、一般、较差之一", en=f"unknown grade {min_grade!r}: excellent, good, average or poor",
            field=f"{field}.recognition_min_grade",
        )
    return ResultsUsePolicy(pay=pay, recognition_min_grade=min_grade)


# ---------------------------------------------------------------- applying it to results


def _units(results: Any, field: str = "results") -> Mapping[str, Mapping[str, Any]]:
    units = results.get("units") if isinstance(results, Mapping) else None
    if not isinstance(units, Mapping):
        raise InvalidInput("invalid_results", zh=f"{wording.field(field)}不是考核结果文档", en=f"{wording.field(field, 'en')}: not a results document", field=field)
    return units


def apply(results: Mapping[str, Any], names: Mapping[str, str], policy: ResultsUsePolicy) -> list[dict]:
    """One row per unit of ``results`` (ordered by unit key): the pay coefficient of its grade
    and whether it may be recognised. A unit without a grade gets no coefficient and is not
    eligible until it is graded."""
    rows = []
    min_grade = policy.recognition_min_grade
    for unit, r in sorted(_units(results).items()):
        grade = r.get("grade")
        if grade is None:
            coefficient, eligible = None, False
            note = "尚未评定党建工作考核等次，暂不能参加评优评先"
        elif grade not in PARTY_LEVELS:
            raise InvalidInput("unknown_grade", zh=f"单位 {unit} 的等次 {grade!r} 未知", en="unknown grade", field=f"results.units.{unit}.grade")
        else:
            coefficient = str(policy.pay[grade])
            eligible = policy.recognition_allowed(grade)
            note = (
                None
                if eligible
                else f"党建工作考核等次为“{GRADE_NAMES[grade]}”，低于“{GRADE_NAMES[min_grade]}”，当年不得参加评优评先"
            )
        rows.append(
            {
                "unit": unit,
                "name": names.get(unit),
                "cohort": r.get("cohort"),
                "grade": grade,
                "final_score": r.get("final_score"),
                "pay_coefficient": coefficient,
                "recognition_eligible": eligible,
                "recognition_note": note,
            }
        )
    return rows


def hr_export_json(cycle_key: str, year: int, rows: Sequence[Mapping[str, Any]]) -> dict:
    """The document HR systems read: fixed keys, units ordered by key, decimals as strings.

    ``{"format": "kaohe-hr-export/1", "cycle": KEY, "year": YEAR, "units": [{"unit", "name",
    "cohort", "grade", "grade_name", "final_score", "pay_coefficient", "recognition_eligible",
    "recognition_note"}, …]}``; ``grade_name`` is the grade in Chinese (优秀/良好/一般/较差).
    """
    if not isinstance(cycle_key, str) or not cycle_key:
        raise InvalidInput("invalid_cycle", zh="考核周期不能为空", en="cycle key required", field="cycle")
    if isinstance(year, bool) or not isinstance(year, int):
        raise InvalidInput("invalid_year", zh="年度必须是整数", en="year must be an integer", field="year")
    units = []
    for row in sorted(rows, key=lambda r: r["unit"]):
        grade = row.get("grade")
        units.append(
            {
                "unit": row["unit"],
                "name": row.get("name"),
                "cohort": row.get("cohort"),
                "grade": grade,
                "grade_name": GRADE_NAMES.get(grade) if grade else None,
                "final_score": row.get("final_score"),
                "pay_coefficient": row.get("pay_coefficient"),
                "recognition_eligible": bool(row.get("recognition_eligible")),
                "recognition_note": row.get("recognition_note"),
            }
        )
    return {"format": HR_EXPORT_FORMAT, "cycle": cycle_key, "year": year, "units": units}


# ---------------------------------------------------------------- business-performance grades

#: Accepted business-performance grade words → level (1 best … 4 worst), matching the
#: party-building levels excellent 1, good 2, average 3, poor 4:
#:
#: ====  ===================================  =======================
#: level letters / English                       Chinese
#: ====  ===================================  =======================
#: 1     ``A``, ``excellent``                 优秀
#: 2     ``B``, ``good``                      良好
#: 3     ``C``, ``average``                   一般, 称职
#: 4     ``D``, ``poor``                      较差, 不称职
#: ====  ===================================  =======================
#:
#: Letters and English words are read case-insensitively, full-width forms (``Ａ``) as
#: half-width, surrounding spaces ignored. Anything else (e.g. 基本称职, ``E``, ``1``) is refused
#: rather than guessed.
BUSINESS_GRADES: dict[str, int] = {
    "A": 1, "优秀": 1, "excellent": 1,
    "B": 2, "良好": 2, "good": 2,
    "C": 3, "一般": 3, "称职": 3, "average": 3,
    "D": 4, "较差": 4, "不称职": 4, "poor": 4,
}  # fmt: skip

_BUSINESS_LOOKUP = {k.casefold(): v for k, v in BUSINESS_GRADES.items()}
BUSINESS_LEVEL_NAMES = {1: "优秀(A)", 2: "良好(B)", 3: "一般(C)", 4: "较差(D)"}

_UNIT_HEADERS = {"unit", "单位", "单位编码"}
_GRADE_HEADERS = {"grade", "等次", "业绩等次", "经营业绩考核等次"}


def business_level(word: Any) -> int | None:
    """The level of a business-performance grade word, or ``None`` if it is not accepted."""
    if not isinstance(word, str):
        return None
    return _BUSINESS_LOOKUP.get(unicodedata.normalize("NFKC", word).strip().casefold())


def _csv_rows(text: str, field: str) -> list[tuple[str, Mapping[str, Any]]]:
    """CSV text with a header naming ``unit`` and ``grade`` (or 单位 / 等次); other columns are
    ignored, blank lines skipped. Each row comes with where it is: ``line N``."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[tuple[str, Mapping[str, Any]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [unicodedata.normalize("NFKC", c).strip().casefold() for c in cells]
                cols = {}
                for i, h in enumerate(header):
                    if h in _UNIT_HEADERS:
                        cols.setdefault("unit", i)
                    elif h in _GRADE_HEADERS:
                        cols.setdefault("grade", i)
                if set(cols) != {"unit", "grade"}:
                    raise InvalidInput(
                        "invalid_csv_header",
                        zh=f"CSV 第 {reader.line_num} 行表头须包含 unit 和 grade 两列（现为 {','.join(cells)}）", en="the CSV header must name the columns unit and grade",
                        field=field,
                    )
                continue
            row = {k: (cells[i] if i < len(cells) else "") for k, i in cols.items()}
            rows.append((Bilingual(f"CSV 第 {reader.line_num} 行", f"CSV line {reader.line_num}"), row))
    except csv.Error as e:
        raise InvalidInput("invalid_csv", zh=f"CSV 格式错误：{e}", en="malformed CSV", field=field) from None
    return rows


def parse_business_grades(
    data: Sequence[Mapping[str, Any]] | str | bytes, known_units: Iterable[str], field: str = "business_grades"
) -> dict[str, int]:
    """Each unit's business-performance level (1 best … 4 worst), from ``[{"unit", "grade"}]``
    rows or CSV text with a ``unit,grade`` header (bytes: UTF-8, with or without BOM, else
    GB18030 as Excel writes it in China).

    Refused, naming the row as ``{field}[i]`` (0-based, blank CSV lines not counted): a unit not
    in ``known_units``, a grade not in :data:`BUSINESS_GRADES`, a unit listed twice, a missing
    unit or grade; and an input with no row at all.
    """
    known = set(known_units)
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                data = bytes(data).decode("gb18030")
            except UnicodeDecodeError:
                raise InvalidInput("invalid_csv", zh="CSV 文件编码无法识别", en="unreadable CSV encoding", field=field) from None
    if isinstance(data, str):
        rows = _csv_rows(data, field)
    elif isinstance(data, Sequence):
        rows = [(Bilingual(f"第 {i + 1} 条", f"row {i}"), r) for i, r in enumerate(data)]
    else:
        raise InvalidInput(
            "invalid_business_grades", zh=f"{wording.field(field)}须为行列表或 CSV 文本", en=f"{wording.field(field, 'en')}: must be rows or CSV text", field=field
        )
    if not rows:
        raise InvalidInput("empty_business_grades", zh="业绩考核等次为空", en="no business grade given", field=field)
    result: dict[str, int] = {}
    first_at: dict[str, int] = {}
    for i, (where, row) in enumerate(rows):
        f = f"{field}[{i}]"
        if not isinstance(row, Mapping):
            raise InvalidInput("invalid_business_grades", zh=f"{where.zh}：须为对象", en=f"{where.en}: must be an object", field=f)
        unit = row.get("unit")
        if not isinstance(unit, str) or not unit.strip():
            raise InvalidInput("missing_value", zh=f"{where.zh}：缺少单位", en=f"{where.en}: unit is missing", field=f"{f}.unit")
        unit = unit.strip()
        if unit not in known:
            raise InvalidInput(
                "unknown_unit", zh=f"{where.zh}：单位 {unit} 不在本考核周期中", en=f"{where.en}: unknown unit", field=f"{f}.unit"
            )
        if unit in result:
            raise InvalidInput(
                "duplicate_unit",
                zh=f"{where.zh}：单位 {unit} 重复，已见于第 {first_at[unit] + 1} 条", en=f"{where.en}: unit listed twice "
                f"(first at {field}[{first_at[unit]}])",
                field=f"{f}.unit",
            )
        grade = row.get("grade")
        if grade is None or (isinstance(grade, str) and not grade.strip()):
            raise InvalidInput("missing_value", zh=f"{where.zh}：单位 {unit} 缺少等次", en=f"{where.en}: grade is missing", field=f"{f}.grade")
        level = business_level(grade)
        if level is None:
            raise InvalidInput(
                "unknown_business_grade",
                zh=f"{where.zh}：单位 {unit} 的业绩等次 {grade!r} 无法识别，应为 A/B/C/D 或优秀/良好/一般(称职)/较差(不称职)",
                en=f"{where.en}: unknown business grade {grade!r}: A/B/C/D or excellent/good/average/poor",
                field=f"{f}.grade",
            )
        result[unit] = level
        first_at[unit] = i
    return result


# ---------------------------------------------------------------- cross-check (双向印证)

CROSS_CHECK_GAP = 2


def _cross_note(party: str, business: int, diff: int) -> str:
    p, b = GRADE_NAMES[party], BUSINESS_LEVEL_NAMES[business]
    if diff == 0:
        return f"党建考核“{p}”与业绩考核“{b}”一致"
    if abs(diff) < CROSS_CHECK_GAP:
        return f"党建考核“{p}”与业绩考核“{b}”相差一档，基本印证"
    if diff > 0:
        return (
            f"党建考核“{p}”比业绩考核“{b}”低 {diff} 档：业绩好而党建弱，"
            "需关注党建工作与生产经营是否“两张皮”"
        )
    return (
        f"党建考核“{p}”比业绩考核“{b}”高 {-diff} 档：党建评价高而业绩弱，"
        "需核实党建工作成效是否转化为发展成效"
    )


def cross_check(
    results: Mapping[str, Any], business: Mapping[str, int], names: Mapping[str, str]
) -> list[dict]:
    """党建与业绩考核双向印证: one row per unit of ``results``, ordered by unit key.

    ``status`` is ``compared`` when both grades are known: ``party_level`` (excellent 1 … poor
    4), ``business_level``, ``difference = party_level − business_level`` (positive: the
    party-building grade is the lower one), ``flagged = |difference| ≥ 2``, and a note.
    ``missing_business_grade`` when no business grade was imported for the unit,
    ``missing_party_grade`` when the unit has no party-building grade yet; neither is flagged.
    """
    units = _units(results)
    strangers = sorted(set(business) - set(units))
    if strangers:
        raise InvalidInput(
            "unknown_unit", zh=f"单位 {'、'.join(strangers)} 不在考核结果中", en="unknown unit", field="business_grades"
        )
    rows = []
    for unit, r in sorted(units.items()):
        grade = r.get("grade")
        level = business.get(unit)
        row: dict[str, Any] = {
            "unit": unit,
            "name": names.get(unit),
            "cohort": r.get("cohort"),
            "party_grade": grade,
            "party_level": PARTY_LEVELS.get(grade) if grade else None,
            "business_level": level,
            "difference": None,
            "flagged": False,
        }
        if grade is None:
            row["status"] = "missing_party_grade"
            row["note"] = "尚未评定党建工作考核等次，无法印证"
        elif level is None:
            row["status"] = "missing_business_grade"
            row["note"] = "未导入经营业绩考核等次，无法印证"
        else:
            diff = row["party_level"] - level
            row["status"] = "compared"
            row["difference"] = diff
            row["flagged"] = abs(diff) >= CROSS_CHECK_GAP
            row["note"] = _cross_note(grade, level, diff)
        rows.append(row)
    return rows


# ---------------------------------------------------------------- trend


def trend(history: Iterable[tuple[str, int, Mapping[str, Any]]], unit: str) -> list[dict]:
    """The unit's grade, final score and rank in each past cycle it took part in, ordered by
    year, then cycle key. Cycles without the unit are left out."""
    out = []
    for cycle_key, year, results in history:
        r = _units(results, f"history.{cycle_key}").get(unit)
        if r is None:
            continue
        out.append(
            {
                "cycle": cycle_key,
                "year": year,
                "grade": r.get("grade"),
                "final_score": r.get("final_score"),
                "rank": r.get("rank"),
            }
        )
    out.sort(key=lambda t: (t["year"], t["cycle"]))
    return out
