"""Exact decimal helpers. Scores are ``Decimal`` end to end; binary floats are refused."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation

from domain.errors import InvalidInput
from domain import wording

TWO_PLACES = Decimal("0.01")


def round2(value: Decimal) -> Decimal:
    """Round to 2 places, half up (SPEC §4)."""
    return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def floor_int(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def to_decimal(value: object, field: str) -> Decimal:
    """Read a JSON number or string as an exact decimal.

    JSON numbers must be parsed with ``parse_float=Decimal`` upstream; a Python ``float``
    reaching here is converted through its shortest repr, so ``0.1`` stays ``0.1``.
    """
    if isinstance(value, bool) or value is None:
        raise InvalidInput("not_a_number", zh=f"{wording.field(field)}必须是数字", en=f"{wording.field(field, 'en')}: must be a number", field=field)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(
                "not_a_number", zh=f"{wording.field(field)}不是有效数字：{value!r}", en=f"{wording.field(field, 'en')}: is not a number", field=field
            ) from None
    else:
        raise InvalidInput("not_a_number", zh=f"{wording.field(field)}必须是数字", en=f"{wording.field(field, 'en')}: must be a number", field=field)
    if not result.is_finite():
        raise InvalidInput("not_a_number", zh=f"{wording.field(field)}必须是有限数字", en=f"{wording.field(field, 'en')}: must be finite", field=field)
    return result


def fmt2(value: Decimal) -> str:
    """A decimal as a string with exactly two places."""
    return str(round2(value))
