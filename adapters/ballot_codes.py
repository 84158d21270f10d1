"""One-time ballot codes for signing in on site (the QR slips of a debrief session).

Kept in a small table beside the accounts, not as domain events: a code is a credential (like a
bearer token), not a decision. Only its SHA-256 is stored, so neither the log nor a database dump
can cast a sheet; the event log stays free of credentials and the audit trail does not grow with
every reprint. What the code leads to — the ballot sheet — is a domain event as ever
(``BallotSheet.BallotSheetCast``, attributed to the representative the code was issued to).

A code is scoped to one representative and one session, single-use (``claim`` marks it spent in
one conditional UPDATE, so two phones racing with one code cast once), and worthless once the
session closes (the service checks the session; the domain refuses a sheet after the cut-off).

Re-issuing a session's codes revokes every unspent code of those representatives and issues new
ones: plain codes are never stored, so an old slip cannot be printed again, only replaced.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Boolean, DateTime, Engine, String, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from domain.errors import Conflict, NotFound


class BallotCodeBase(DeclarativeBase):
    """Not read models: a projection rebuild leaves them alone."""


class BallotCodeRow(BallotCodeBase):
    __tablename__ = "ballot_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    cycle: Mapped[str] = mapped_column(String(64), index=True)
    cohort: Mapped[str] = mapped_column(String(40))
    representative: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    spent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class BallotCode:
    """What a code stands for (never the code itself)."""

    digest: str
    cycle: str
    cohort: str
    representative: str
    spent: bool


def digest(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def unknown_code() -> NotFound:
    return NotFound(
        "ballot_code_unknown",
        zh="无效的评议码：请核对二维码，或向会务组索取新的评议码", en="this ballot code is not valid: check the QR code or ask the organizers for a new one",
        field="code",
    )


def spent_code(representative: str) -> Conflict:
    return Conflict(
        "ballot_code_spent",
        zh=f"此评议码已使用过：代表 {representative} 的评议表已经提交，每个评议码只能使用一次", en=f"this ballot code has been used: representative {representative}'s sheet was cast; a code is single-use",
        field="code",
    )


def revoked_code() -> Conflict:
    return Conflict(
        "ballot_code_revoked",
        zh="此评议码已作废（会务组已重新发放评议码），请使用新的评议码", en="this ballot code was replaced by a newer one",
        field="code",
    )


class BallotCodes:
    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        BallotCodeBase.metadata.create_all(engine)

    def issue(self, cycle: str, cohort: str, representatives: list[str], issued_by: str) -> dict[str, str]:
        """New codes for ``representatives`` (representative → plain code), in one transaction
        that revokes their unspent codes of this session."""
        codes = {rep: secrets.token_urlsafe(16) for rep in representatives}
        now = _now()
        with self.sessions.begin() as db:
            if representatives:
                db.execute(
                    update(BallotCodeRow)
                    .where(BallotCodeRow.cycle == cycle, BallotCodeRow.cohort == cohort,
                           BallotCodeRow.representative.in_(representatives), BallotCodeRow.spent_at.is_(None))
                    .values(revoked=True)
                )
            for rep, code in codes.items():
                db.add(BallotCodeRow(code_hash=digest(code), cycle=cycle, cohort=cohort, representative=rep,
                                     issued_by=issued_by, issued_at=now, revoked=False))
        return codes

    def look_up(self, code: str) -> BallotCode:
        """What ``code`` stands for; refused if unknown or revoked (a spent one is returned, marked)."""
        if not isinstance(code, str) or not code or len(code) > 200:
            raise unknown_code()
        with self.sessions() as db:
            row = db.get(BallotCodeRow, digest(code))
        if row is None:
            raise unknown_code()
        if row.revoked:
            raise revoked_code()
        return BallotCode(row.code_hash, row.cycle, row.cohort, row.representative, row.spent_at is not None)

    def claim(self, code: str) -> BallotCode:
        """Spend ``code`` now (once: a second claim is refused as spent)."""
        found = self.look_up(code)
        with self.sessions.begin() as db:
            done = db.execute(
                update(BallotCodeRow)
                .where(BallotCodeRow.code_hash == found.digest, BallotCodeRow.spent_at.is_(None), BallotCodeRow.revoked.is_(False))
                .values(spent_at=_now())
            )
        if done.rowcount != 1:
            self.look_up(code)  # revoked meanwhile?
            raise spent_code(found.representative)
        return found

    def release(self, found: BallotCode) -> None:
        """Un-spend a claimed code whose sheet was refused (bad scores, session not open yet …)."""
        with self.sessions.begin() as db:
            db.execute(update(BallotCodeRow).where(BallotCodeRow.code_hash == found.digest).values(spent_at=None))

    def status(self, cycle: str, cohort: str) -> dict[str, str]:
        """representative → ``spent`` or ``issued`` (their live code), for the organizer's page."""
        with self.sessions() as db:
            rows = db.scalars(select(BallotCodeRow).where(
                BallotCodeRow.cycle == cycle, BallotCodeRow.cohort == cohort, BallotCodeRow.revoked.is_(False)))
            out: dict[str, str] = {}
            for r in rows:
                if r.spent_at is not None or out.get(r.representative) != "spent":
                    out[r.representative] = "spent" if r.spent_at is not None else "issued"
            return out
