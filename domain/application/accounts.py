"""Accounts as events: every change an admin makes to an account, recorded with who, when and
why in the same hash-chained log as the assessment (ASVS V7: an audit trail of account changes).

The service layer (``services.people``) changes the accounts table first (its rules: the last
active admin stays, nobody changes their own role) and then records here what it changed, so
the event describes what happened, in step with the table."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain import rules
from domain.aggregates import Account, account_id
from domain.application.recording import SYSTEM, Recorded, UseCases, _once_more_on_collision, already_recorded
from domain.errors import InvalidInput
from domain.rules import Actor, Role

#: The reason recorded for an account first seen on its first change.
EXISTING = "账号早于账号事件已存在 / the account existed before account changes were recorded"


def check_reason(reason: Any) -> str:
    """An account change's reason: optional text, at most 500 characters."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise InvalidInput("invalid_reason", zh="原因须为文字", en="the reason must be text", field="reason")
    if len(reason) > 500:
        raise InvalidInput("reason_too_long", zh="原因最多 500 字", en="the reason is at most 500 characters", field="reason")
    return reason.strip()


class AccountRecords(UseCases):
    """The admin's changes to accounts, as events of ``Account``."""

    def account_record(self, username: str) -> Account | None:
        try:
            return self.repository.get(account_id(username))
        except AggregateNotFoundError:
            return None

    def _account(self, username: str, state: dict[str, Any]) -> Account:
        """The account's aggregate; one for an account older than its events, as it stood."""
        found = self.account_record(username)
        if found is not None:
            return found
        return Account(username=username, account_role=state["role"], unit=state.get("unit"),
                       display_name=state.get("display_name") or username, active=bool(state.get("active", True)),
                       existing=True, reason=EXISTING, actor=SYSTEM.user, role=SYSTEM.role, command_id=f"existing/{username}")

    @_once_more_on_collision
    def record_account_created(self, username: str, account_role: str, unit: str | None, display_name: str,
                               reason: Any, actor: Actor, command_id: str) -> Recorded:
        rules.require_role(actor, Role.ADMIN, Role.SYSTEM)
        why = check_reason(reason)
        found = self.account_record(username)
        if found is not None:
            if done := already_recorded(found, command_id):
                return done
        a = Account(username=username, account_role=account_role, unit=unit, display_name=display_name, active=True,
                    existing=False, reason=why, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(a, account=username)

    def record_accounts_created(self, people: list[dict[str, Any]], reason: Any, actor: Actor, command_id: str) -> Recorded:
        """Many accounts created at once (an import; the representatives a roster names who have
        no account yet, created by the organizer to cast by ballot code): one event each, in one write."""
        if actor.role == Role.ORGANIZER and all(p["role"] == Role.REPRESENTATIVE for p in people):
            pass  # the roster's code-only representatives (services.debrief.set_rosters)
        else:
            rules.require_role(actor, Role.ADMIN, Role.SYSTEM)
        why = check_reason(reason)
        people = [p for p in people if self.account_record(p["username"]) is None]  # a retry, or a roster racing another
        made = [Account(username=p["username"], account_role=p["role"], unit=p.get("unit"),
                        display_name=p.get("display_name") or p["username"], active=True, existing=False, reason=why,
                        actor=actor.user, role=actor.role, command_id=f"{command_id}/{i}") for i, p in enumerate(people)]
        return self._save(*made, accounts=len(made)) if made else Recorded(None, {"accounts": 0})

    @_once_more_on_collision
    def record_account_change(self, username: str, before: dict[str, Any], after: dict[str, Any], reason: Any,
                              actor: Actor, command_id: str, password_reset: bool = False) -> Recorded:
        """What changed between ``before`` and ``after`` (each ``{role, unit, active, display_name}``):
        one event per kind of change; nothing when nothing changed."""
        rules.require_role(actor, Role.ADMIN, Role.SYSTEM)
        why = check_reason(reason)
        a = self._account(username, before)
        if done := already_recorded(a, command_id):
            return done
        who = {"reason": why, "actor": actor.user, "role": actor.role, "command_id": command_id}
        if (after["role"], after.get("unit")) != (a.account_role, a.unit):
            a.change_access(account_role=after["role"], unit=after.get("unit"), previous_role=a.account_role,
                            previous_unit=a.unit, **who)
        if password_reset:
            a.reset_password(**who)
        if "active" in after and bool(after["active"]) != a.active:
            (a.reactivate if after["active"] else a.deactivate)(**who)
        if not a.pending_events:
            return Recorded(None, {"account": username})
        return self._save(a, account=username)
