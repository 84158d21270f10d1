"""What every Kaohe aggregate shares: deterministic ids and the memory of applied commands.

Ids are uuid5 of a readable key (``cycle/2026-annual``, ``unit/2026-annual/U01`` …), so a use
case finds an aggregate from the names in a request, and a second creation of the same thing
collides in the store instead of making a twin.
"""

from __future__ import annotations

import uuid

from eventsourcing.domain import Aggregate

#: Namespace of Kaohe's deterministic aggregate ids (uuid5).
NAMESPACE = uuid.UUID("6f1c2d9e-6c1b-5c57-9d43-3b0f4e2a8a11")


def cycle_id(cycle: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"cycle/{cycle}")


def unit_id(cycle: str, unit: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"unit/{cycle}/{unit}")


def session_id(cycle: str, cohort: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"debrief/{cycle}/{cohort}")


def sheet_id(cycle: str, cohort: str, representative: str) -> uuid.UUID:
    """One ballot sheet per representative per session: a second one collides by its id."""
    return uuid.uuid5(NAMESPACE, f"ballot/{cycle}/{cohort}/{representative}")


def roster_id(cycle: str, cohort: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"roster/{cycle}/{cohort}")


def account_id(username: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"account/{username}")


def adjustment_id(cycle: str, command_id: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"adjustment/{cycle}/{command_id}")


def rectification_id(cycle: str, command_id: str, index: int = 0) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"rectification/{cycle}/{command_id}/{index}")


class KaoheAggregate(Aggregate):
    """Remembers the idempotency keys of the commands it has applied (``self.command_ids``).

    Every event of every aggregate carries ``actor``, ``role`` and ``command_id``; each event
    is declared as a class nested in its aggregate, with its fields and its ``class_version``,
    and an ``upcast_vN_vN+1`` static method for each change of its shape."""

    def seen(self, command_id: str) -> bool:
        return command_id in self.command_ids

    def _mark(self, command_id: str) -> None:
        self.command_ids[command_id] = True


def proposal_id(cycle: str, command_id: str) -> str:
    """A committee proposal's id: from the command that made it (a retry finds the same one)."""
    return str(uuid.uuid5(NAMESPACE, f"proposal/{cycle}/{command_id}"))
