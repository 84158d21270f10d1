"""What a role may see of the debrief's ballot sheets (SPEC §1 "Secret ballot"), stated once.

With the cycle's policy ``secret_ballot`` (the default), no role but the auditor sees which
representative gave which score: the others see, per category, the scores without names (in
score order, not the order they were cast, so the log's positions cannot put a name to them),
their count and mean, which were trimmed, and the turnout. The events keep the identity — the
audit checks one sheet per representative — so the rule is applied where ballots are shown,
never where they are stored. With ``secret_ballot`` false every reader of the audit trail sees
the named view, as before.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Iterable, Mapping

from domain.errors import Forbidden
from domain.rules import Role


class BallotView(StrEnum):
    NAMED = "named"  # each score with its representative and the sheet's event
    ANONYMOUS = "anonymous"  # scores without names; counts, means, trimming, turnout


NOTES = {
    (BallotView.NAMED, True): "记名：仅审计可见 / named: auditor only",
    (BallotView.NAMED, False): "记名：本周期不实行无记名评议 / named: this cycle's ballot is not secret",
    (BallotView.ANONYMOUS, True): "无记名：不显示代表姓名 / secret ballot: no representative's name is shown",
}


def ballot_view(role: str, secret_ballot: bool) -> BallotView:
    """The view of ballots ``role`` may have in a cycle whose policy says ``secret_ballot``."""
    if not secret_ballot or role == Role.AUDITOR:
        return BallotView.NAMED
    return BallotView.ANONYMOUS


def marker(view: BallotView, secret_ballot: bool, turnout: Mapping[str, Any]) -> dict[str, Any]:
    """What an explanation says of the view it gives (the one field it adds to the ballots)."""
    return {"view": str(view), "secret_ballot": secret_ballot, "note": NOTES[(view, secret_ballot)], "turnout": dict(turnout)}


def turnout(cast: int, rostered: int | None = None) -> dict[str, Any]:
    """Sheets cast (counted) in the session and how many representatives were rostered
    (``None`` for a session of a cycle from before rosters)."""
    return {"cast": cast, "rostered": rostered}


def anonymous(ballots: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One category's ballots without names or citations: the score and whether it was
    trimmed, highest first."""
    out = [{"score": b["score"], "trimmed": b.get("trimmed")} for b in ballots]
    return sorted(out, key=lambda b: Decimal(b["score"]), reverse=True)


def require_named(role: str, secret_ballot: bool, what_zh: str, what_en: str) -> None:
    """Refuse a role anything that would name who gave which score (e.g. the raw events)."""
    if ballot_view(role, secret_ballot) is not BallotView.NAMED:
        raise Forbidden(
            "secret_ballot",
            zh=f"本周期实行无记名评议，{what_zh}含各代表的评分，仅审计可取", en=f"the ballot is secret: {what_en} shows who gave which score; auditors only",
        )
