"""SQLAlchemy read models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class ReadModel(DeclarativeBase):
    """Tables that are rebuilt from the event log."""


class Tracking(ReadModel):
    """How far each projection has read the log (updated in the same transaction as its rows)."""

    __tablename__ = "proj_tracking"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CycleRow(ReadModel):
    __tablename__ = "proj_cycles"
    __table_args__ = (Index("ix_proj_cycles_status", "status"),)  # the inbox: cycles not closed
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    stages: Mapped[dict] = mapped_column(JSON)
    deadlines: Mapped[dict] = mapped_column(JSON)
    policy: Mapped[dict] = mapped_column(JSON)
    categories: Mapped[dict] = mapped_column(JSON)
    org_types: Mapped[list] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stage_changed_at: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UnitRow(ReadModel):
    __tablename__ = "proj_units"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cohort: Mapped[str] = mapped_column(String(40))
    self_review: Mapped[str] = mapped_column(String(20), default="pending")
    self_review_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    self_scores: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    self_evidence: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    draft: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    scored: Mapped[bool] = mapped_column(Boolean, default=False)
    scored_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scores: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    na_reasons: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    comments: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    feedback: Mapped[str] = mapped_column(String(20), default="none")
    feedback_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    feedback_draft: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SessionRow(ReadModel):
    __tablename__ = "proj_sessions"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    secretaries: Mapped[list] = mapped_column(JSON)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ballots: Mapped[int] = mapped_column(Integer, default=0)
    #: The roster, ``[{"representative", "category"}]`` (copied from ``RosterRow`` when the session
    #: opens, kept in step after); turnout = ``ballots`` / ``len(roster)``.
    roster: Mapped[list] = mapped_column(JSON, default=list)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RosterRow(ReadModel):
    """A debrief session's roster, also before the session exists (it is registered beforehand)."""

    __tablename__ = "proj_rosters"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(40), primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    entries: Mapped[list] = mapped_column(JSON, default=list)


class BallotRow(ReadModel):
    """Who cast a sheet in which session (not the scores: ballots are read by the rules only)."""

    __tablename__ = "proj_ballots"
    # "have I cast in this cycle" (inbox, debrief page): by cycle and representative.
    __table_args__ = (Index("ix_proj_ballots_cycle_rep", "cycle", "representative"),)
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(40), primary_key=True)
    representative: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    cast_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssignmentRow(ReadModel):
    """An evaluator assigned to score a unit (SPEC §1 "Evaluators"). A unit with no row is
    scored by every evaluator (the default)."""

    __tablename__ = "proj_assignments"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    evaluator: Mapped[str] = mapped_column(String(64), primary_key=True)


class AdjustmentRow(ReadModel):
    __tablename__ = "proj_adjustments"
    __table_args__ = (Index("ix_proj_adjustments_cycle_status", "cycle", "status"),)  # counts; pending ones
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cycle: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[str | None] = mapped_column(String(20), nullable=True)
    levels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    proposer: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ResultRow(ReadModel):
    __tablename__ = "proj_results"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(40))
    result: Mapped[dict] = mapped_column(JSON)


class DistributionRow(ReadModel):
    __tablename__ = "proj_distribution"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort: Mapped[str] = mapped_column(String(40), primary_key=True)
    counts: Mapped[dict] = mapped_column(JSON)


class NoticeRow(ReadModel):
    """Things the organizer must see: missed deadlines, rejected allocations."""

    __tablename__ = "proj_notices"
    __table_args__ = (Index("ix_proj_notices_cycle_resolved", "cycle", "resolved"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # log position
    cycle: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(40), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)


class RectificationRow(ReadModel):
    __tablename__ = "proj_rectifications"
    __table_args__ = (Index("ix_proj_rectifications_status_deadline", "status", "deadline"),)  # open items, by deadline
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cycle: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(64), index=True)
    point: Mapped[str | None] = mapped_column(String(40), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    deadline: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="open")
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    reports: Mapped[list] = mapped_column(JSON, default=list)
    last_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    carried_to: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReminderRow(ReadModel):
    """The organizer's reminders (催办) of one unit for one step: how many, the last one's who,
    when and note. The unit's inbox shows it until the unit has taken the step."""

    __tablename__ = "proj_reminders"
    cycle: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit: Mapped[str] = mapped_column(String(64), primary_key=True)
    stage: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_by: Mapped[str] = mapped_column(String(64))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class AccountChangeRow(ReadModel):
    """One change to an account (``Account`` events): the account's history as the admin and
    the auditor read it, newest first by position."""

    __tablename__ = "proj_account_changes"
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(40))
    account_role: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


#: Bump when a read model's shape changes: the runner then rebuilds every table from the log.
#: 3: indexes for the inbox and the progress counts.
#: 4: evaluators assigned to units (``proj_assignments``).
#: 5: debrief rosters (``RosterRow``, ``SessionRow.roster``, ``SessionRow.close_reason``).
#: 6: the organizer's reminders (``ReminderRow``).
#: 7: accounts' changes (``AccountChangeRow``).
SCHEMA_VERSION = 7
