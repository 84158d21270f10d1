"""A ballot sheet as the two ballot pages read it (``/ballot/{cycle}/{cohort}`` and the phone ballot
``/b/{code}``): per secretary a score, or an explicit abstention (弃权, the ``abstain.<unit>``
box). A sheet is complete when every row is one or the other; the pages say which rows are not,
all at once, before they ask to confirm it, and send an abstention to the API as ``null``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.web import catalogue
from api.web.forms import text


@dataclass(frozen=True)
class Sheet:
    typed: dict[str, str]  # unit → the score as typed ("" when none)
    abstained: dict[str, bool]  # unit → the abstain box is ticked

    def scores(self) -> dict[str, str | None]:
        """The sheet for the API: each scored row its score, each abstained row ``None``."""
        out: dict[str, str | None] = {u: v for u, v in self.typed.items() if v and not self.abstained.get(u)}
        out.update({u: None for u, a in self.abstained.items() if a and not self.typed.get(u)})
        return out


def read(form: Any, secretaries: list[dict[str, Any]]) -> Sheet:
    units = [s["unit"] for s in secretaries]
    return Sheet({u: text(form, f"score.{u}") for u in units}, {u: bool(text(form, f"abstain.{u}")) for u in units})


def problems(lang: str, sheet: Sheet, secretaries: list[dict[str, Any]]) -> tuple[dict[str, str], str | None]:
    """Every row that is neither scored nor abstained (or both), beside its row, and one line above
    the sheet naming them: ``({unit: message}, summary)``; ``({}, None)`` for a complete sheet."""
    errors: dict[str, str] = {}
    for s in secretaries:
        unit, scored, abstained = s["unit"], bool(sheet.typed.get(s["unit"])), sheet.abstained.get(s["unit"], False)
        if scored and abstained:
            errors[unit] = catalogue.t(lang, "cf_ballot_both")
        elif not scored and not abstained:
            errors[unit] = catalogue.t(lang, "cf_ballot_blank", name=s["name"])
    if not errors:
        return {}, None
    names = "、".join(s["name"] for s in secretaries if s["unit"] in errors) if lang == "zh" else ", ".join(
        s["name"] for s in secretaries if s["unit"] in errors)
    return errors, catalogue.t(lang, "cf_ballot_incomplete", names=names)


def summary(lang: str, sheet: Sheet, secretaries: list[dict[str, Any]]) -> list[str]:
    """The confirmation's rows: each secretary's score, or that the sheet abstains."""
    rows = []
    for s in secretaries:
        if sheet.abstained.get(s["unit"]):
            rows.append(catalogue.t(lang, "cf_ballot_row_abstain", name=s["name"]))
        else:
            rows.append(catalogue.t(lang, "cf_ballot_row", name=s["name"], score=sheet.typed.get(s["unit"], "")))
    return rows
