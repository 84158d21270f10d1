"""The evaluator's scoring drafts: a private working copy of one evaluator's sheet for one unit,
kept as they type and shown again when they come back.

Kept in a small table beside the accounts, not as domain events, on purpose. What an auditor
must be able to prove is what was *decided*: the scoring an evaluator submitted
(``UnitAssessment.ScoringSubmitted``, hash-chained, with its actor and time) — and that stays
exactly as it was. A draft decides nothing, is seen by no one but its author, and changes with
every keystroke; logging it would grow the audit trail with noise (twenty evaluators × 300 units
× every pause in typing), and would put an evaluator's second thoughts on record where the
SPEC records only the sheet they stand by. The self-review draft differs: the unit's draft is
the unit's own statement, read by the unit's other users, so it stays an event.

The table is not a read model: a projection rebuild leaves it alone. A unit's drafts are
deleted once its scoring is submitted (``discard``); a draft holds only values that passed the
scheme's checks (the service validates before it saves)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, String, delete
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class ScoringDraftBase(DeclarativeBase):
    """Not read models: a projection rebuild leaves them alone."""


class ScoringDraftRow(ScoringDraftBase):
    __tablename__ = "scoring_drafts"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    evaluator: Mapped[str] = mapped_column(String(64), primary_key=True)
    sheet: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class ScoringDrafts:
    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        ScoringDraftBase.metadata.create_all(engine)

    def save(self, cycle: str, unit: str, evaluator: str, sheet: dict[str, Any]) -> datetime:
        """Keep ``sheet`` (``{scores, na_reasons, comments}``) as the evaluator's draft of ``unit``,
        replacing the one before; answers when it was saved."""
        now = datetime.now(timezone.utc)
        with self.sessions.begin() as db:
            row = db.get(ScoringDraftRow, (cycle, unit, evaluator))
            if row is None:
                db.add(ScoringDraftRow(cycle=cycle, unit=unit, evaluator=evaluator, sheet=sheet, saved_at=now))
            else:
                row.sheet, row.saved_at = sheet, now
        return now

    def get(self, cycle: str, unit: str, evaluator: str) -> dict[str, Any] | None:
        """The evaluator's draft of ``unit`` with ``saved_at`` (ISO), or None."""
        with self.sessions() as db:
            row = db.get(ScoringDraftRow, (cycle, unit, evaluator))
            if row is None:
                return None
            return {**row.sheet, "saved_at": _aware(row.saved_at).isoformat()}

    def discard(self, cycle: str, unit: str) -> None:
        """Every evaluator's draft of ``unit`` (its scoring was submitted: the drafts are spent)."""
        with self.sessions.begin() as db:
            db.execute(delete(ScoringDraftRow).where(ScoringDraftRow.cycle == cycle, ScoringDraftRow.unit == unit))
