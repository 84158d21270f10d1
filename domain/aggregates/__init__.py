"""The cycle's aggregates and their events, one module per aggregate.

Each command method is decorated with ``@event(EventClass)``, the event declared as a class
nested in its aggregate (fields, ``class_version``, upcasters): the method body is both the
decision's effect and its replay. Every event carries the actor, their role, the command's
idempotency key (``command_id``) and, where the step asks for one, the reason. Rules are checked
by the application (``domain.application``) with the functions of ``domain.rules`` before a
method is called.

- ``base``: ids and ``KaoheAggregate`` (the memory of applied commands)
- ``cycle``: ``Cycle``
- ``unit``: ``UnitAssessment``
- ``debrief``: ``DebriefSession``, ``DebriefRoster``, ``BallotSheet``
- ``adjustment``: ``Adjustment``
- ``rectification``: ``RectificationItem``
- ``account``: ``Account`` (who created, changed, reset, deactivated an account, and why)
- ``topics``: the topics the log was first written with (``domain.model:…``), registered here
"""

from domain.aggregates.account import Account
from domain.aggregates.adjustment import Adjustment
from domain.aggregates.base import (
    NAMESPACE,
    KaoheAggregate,
    account_id,
    adjustment_id,
    proposal_id,
    cycle_id,
    rectification_id,
    roster_id,
    session_id,
    sheet_id,
    unit_id,
)
from domain.aggregates.cycle import Cycle
from domain.aggregates.debrief import BallotSheet, DebriefRoster, DebriefSession
from domain.aggregates.rectification import RectificationItem
from domain.aggregates.unit import UnitAssessment
from domain.aggregates import topics as _topics  # noqa: F401  (registers the old topics)

__all__ = [
    "NAMESPACE",
    "Account",
    "Adjustment",
    "BallotSheet",
    "Cycle",
    "DebriefRoster",
    "DebriefSession",
    "KaoheAggregate",
    "account_id",
    "RectificationItem",
    "UnitAssessment",
    "adjustment_id",
    "proposal_id",
    "cycle_id",
    "rectification_id",
    "roster_id",
    "session_id",
    "sheet_id",
    "unit_id",
]
