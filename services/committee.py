"""The committee decides as a body (SPEC §1): the proposals waiting for confirmation, and a
member's confirmation or objection. Proposing is each decision's own use case
(``services.adjustments.decide``, ``services.allocation.resolve_tie`` …), which records the
meeting; every step goes to the cycle's workflow, which owns the stage and the role and runs the
effect (approving the allocation publishes the results)."""

from __future__ import annotations

from typing import Any

from adapters.accounts import User
from domain.rules import ProposalStatus
from services.context import Services, in_thread
from services.permissions import allow
from workflows import cycle as cycle_workflow


def members(svc: Services) -> dict[str, str | None]:
    """Every active committee member and the unit they are attached to (None: no unit): the
    domain refuses at once a decision that fewer members may take than the quorum needs."""
    return {u.username: u.unit for u in svc.accounts.list("committee") if u.active}


async def roster(svc: Services) -> dict[str, str | None]:
    return await in_thread(members, svc)


def proposals(svc: Services, user: User, cycle: str, pending_only: bool = False) -> list[dict[str, Any]]:
    """The cycle's committee proposals (pending ones first), with who confirmed each."""
    allow(user, "proposals.read")
    found = svc.app.proposals(cycle)
    if pending_only:
        found = [p for p in found if p["status"] == ProposalStatus.PENDING]
    return sorted(found, key=lambda p: p["status"] != ProposalStatus.PENDING)


async def confirm(svc: Services, user: User, cycle: str, proposal: str, idem: str | None = None) -> dict[str, Any]:
    allow(user, "decision.confirm")
    return await svc.cycle_command(user, cycle, "confirm_decision", cycle_workflow.ConfirmDecision(user.actor, proposal), idem)


async def object_to(svc: Services, user: User, cycle: str, proposal: str, reason: str, idem: str | None = None) -> dict[str, Any]:
    allow(user, "decision.object")
    return await svc.cycle_command(user, cycle, "object_decision", cycle_workflow.ObjectDecision(user.actor, proposal, reason), idem)
