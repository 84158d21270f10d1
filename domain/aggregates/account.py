"""A person's account (``Account``, 账号) as the audit trail knows it: who created it, who gave
it which role and unit, who reset its password, deactivated or reactivated it — each with when
and why, in the same hash-chained log as the assessment's events.

The credentials (the Argon2 hash, the tokens) are not events: they stay in the accounts table,
which is also the account's current state for signing in, written in step by the service layer
(``services.people``). Events carry no password, not even a hashed one.

Every event carries the actor, their role (``role``: of the person acting), the command's
idempotency key and the reason; the account's own role is ``account_role``.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from domain.aggregates.base import KaoheAggregate, account_id


class Account(KaoheAggregate):
    """One person's account: its role, unit and whether it is active, and every change to them."""

    @staticmethod
    def create_id(username: str, **_: Any) -> uuid.UUID:
        return account_id(username)

    # ------------------------------------------------------------------ events

    class AccountCreated(Aggregate.Created):
        """``existing``: the account was in the accounts table before accounts were recorded as
        events, and is recorded now, as it stands, on its first change (actor ``system``)."""

        class_version = 1
        username: str
        account_role: str
        unit: str | None
        display_name: str
        active: bool
        existing: bool
        reason: str
        actor: str
        role: str
        command_id: str

    class AccessChanged(Aggregate.Event):
        """A role granted (the previous one revoked) or a unit attached or detached."""

        class_version = 1
        account_role: str
        unit: str | None
        previous_role: str
        previous_unit: str | None
        reason: str
        actor: str
        role: str
        command_id: str

    class PasswordReset(Aggregate.Event):
        """An admin set a new password (what it is, is nowhere in the log)."""

        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class AccountDeactivated(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    class AccountReactivated(Aggregate.Event):
        class_version = 1
        reason: str
        actor: str
        role: str
        command_id: str

    # ------------------------------------------------------------------ commands

    @event(AccountCreated)
    def __init__(self, username: str, account_role: str, unit: str | None, display_name: str, active: bool, existing: bool,
                 reason: str, actor: str, role: str, command_id: str) -> None:
        self.username = username
        self.account_role = account_role
        self.unit = unit
        self.display_name = display_name
        self.active = active
        self.command_ids = {command_id: True}

    @event(AccessChanged)
    def change_access(self, account_role: str, unit: str | None, previous_role: str, previous_unit: str | None,
                      reason: str, actor: str, role: str, command_id: str) -> None:
        self.account_role = account_role
        self.unit = unit
        self._mark(command_id)

    @event(PasswordReset)
    def reset_password(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self._mark(command_id)

    @event(AccountDeactivated)
    def deactivate(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.active = False
        self._mark(command_id)

    @event(AccountReactivated)
    def reactivate(self, reason: str, actor: str, role: str, command_id: str) -> None:
        self.active = True
        self._mark(command_id)
