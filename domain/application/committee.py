"""The committee decides as a body (SPEC §1): every committee decision — an adjustment's
approval or rejection, a tie resolution, an override, approving or sending back the
allocation — is proposed by one member at a meeting (its date and minute number), confirmed by
others, and takes effect only when ``policy.committee_quorum`` distinct members have confirmed
it and none has objected. The proposal is the proposer's confirmation; an objection ends it.

A proposal lives on the aggregate its effect is recorded on: an adjustment's decision on the
``Adjustment``, the allocation's decisions on the ``Cycle``. The rules (who may propose or
confirm, whether the quorum is reached or can be) are ``domain.rules``' functions.

``members`` (every committee member and the unit they are attached to, or None) comes from the
caller, which can list accounts; with it, a proposal that fewer members may decide than the
quorum needs is refused at once, naming the unit.
"""

from __future__ import annotations

from typing import Any, Mapping

from domain import grading, rules
from domain.aggregates import Adjustment, Cycle, proposal_id
from domain.application.recording import Recorded, UseCases, already_recorded
from domain.errors import Conflict, InvalidInput, NotFound
from domain.grading import Override
from domain.rules import Actor, AdjustmentStatus, Decision, ProposalStatus, Subject
from domain.stages import Stage

#: The allocation's decisions that exclude any other pending one on the cycle.
WHOLE_ALLOCATION = (Subject.APPROVE_ALLOCATION, Subject.REJECT_ALLOCATION)


def proposal_view(p: Mapping[str, Any], quorum: int) -> dict[str, Any]:
    """A proposal as the service layer and the pages read it."""
    view = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in p.items()}
    view.pop("effect_command", None)
    view["status"] = str(p["status"])
    view["quorum"] = quorum
    view["missing"] = max(quorum - len(set(p["confirmed_by"])), 0) if p["status"] == ProposalStatus.PENDING else 0
    view["subject_name"] = rules.SUBJECT_NAMES.get(p["subject"], p["subject"])
    return view


class Committee(UseCases):
    """Proposing, confirming and objecting to the committee's decisions."""

    # ------------------------------------------------------------------ reading

    def proposals(self, cycle: str) -> list[dict[str, Any]]:
        """Every committee proposal of the cycle (the adjustments' first, then the allocation's)."""
        c = self.cycle(cycle)
        quorum = rules.committee_quorum(c.policy)
        out = []
        for a in c.adjustments:
            adj = self.adjustment(a)
            out.extend(proposal_view(p, quorum) for p in getattr(adj, "proposals", {}).values())
        out.extend(proposal_view(p, quorum) for p in getattr(c, "proposals", {}).values())
        return out

    def _find_proposal(self, c: Cycle, proposal: Any) -> tuple[Cycle | Adjustment, dict[str, Any]]:
        if isinstance(proposal, str):
            if proposal in getattr(c, "proposals", {}):
                return c, c.proposals[proposal]
            for a in c.adjustments:
                adj = self.adjustment(a)
                if proposal in getattr(adj, "proposals", {}):
                    return adj, adj.proposals[proposal]
        raise NotFound("proposal_not_found", zh=f"本周期没有提议 {proposal}", en="no such proposal in this cycle", field="proposal")

    def _answer(self, owner: Cycle | Adjustment, pid: str, command_id: str, quorum: int, **data: Any) -> dict[str, Any]:
        """What a proposing or confirming command answers: the proposal, and whether this very
        command made it take effect (``effective``; then ``effect`` names what took effect)."""
        p = owner.proposals[pid]
        effective = p["status"] == ProposalStatus.ADOPTED and p.get("effect_command") == command_id
        return {
            "proposal": pid,
            "subject": p["subject"],
            "proposal_status": str(p["status"]),
            "confirmed_by": list(p["confirmed_by"]),
            "quorum": quorum,
            "effective": effective,
            "effect": p["subject"] if effective else None,
            **data,
        }

    def _proposed_answer(self, owner: Cycle | Adjustment, cycle: str, command_id: str, **data: Any) -> dict[str, Any]:
        """The answer again to a proposing command already applied (a retry)."""
        pid = proposal_id(cycle, command_id)
        if pid not in getattr(owner, "proposals", {}):
            return dict(data)
        return self._answer(owner, pid, command_id, rules.committee_quorum(self.cycle(cycle).policy), **data)

    # ------------------------------------------------------------------ proposing

    def _check_meeting_and_members(self, c: Cycle, actor: Actor, concerns: list[str], meeting_date: Any, minute_number: Any,
                                   members: Mapping[str, str | None] | None) -> tuple[str, str, int]:
        rules.check_propose_decision(actor, concerns)
        day, minute = rules.parse_meeting(meeting_date, minute_number)
        quorum = rules.committee_quorum(c.policy)
        rules.check_quorum_reachable(members, concerns, quorum)
        return day, minute, quorum

    def _propose_on_cycle(
        self, c: Cycle, subject: str, details: dict[str, Any], concerns: list[str], reason: str,
        meeting_date: Any, minute_number: Any, members: Mapping[str, str | None] | None, actor: Actor, command_id: str,
    ) -> Recorded:
        """Record an allocation decision's proposal; with a quorum of one it takes effect at once."""
        day, minute, quorum = self._check_meeting_and_members(c, actor, concerns, meeting_date, minute_number, members)
        for p in c.pending_proposals():
            same = p["subject"] == subject and all(p["details"].get(k) == details.get(k) for k in ("cohort", "unit"))
            if same or p["subject"] in WHOLE_ALLOCATION or subject in WHOLE_ALLOCATION:
                raise Conflict(
                    "proposal_pending",
                    zh=f"已有待确认的提议「{rules.SUBJECT_NAMES[p['subject']]}」({p['id']})，请先确认或提出异议", en=f"a proposal ({p['subject']}) is pending: confirm it or object first",
                    field="proposal",
                )
        pid = proposal_id(c.key, command_id)
        c.propose_decision(
            proposal=pid, subject=subject, details=details, concerns=sorted(set(concerns)), reason=reason,
            meeting_date=day, minute_number=minute, actor=actor.user, role=actor.role, command_id=command_id,
        )
        return self._settle_cycle(c, pid, quorum, actor, command_id)

    def _settle_cycle(self, c: Cycle, pid: str, quorum: int, actor: Actor, command_id: str) -> Recorded:
        p = c.proposals[pid]
        if not rules.quorum_reached(p["confirmed_by"], quorum):
            return self._save(c, **self._answer(c, pid, command_id, quorum))
        aggregates, data = self._cycle_effect(c, p, actor, command_id)
        return self._save(*aggregates, **self._answer(c, pid, command_id, quorum, **data))

    def _cycle_effect(self, c: Cycle, p: Mapping[str, Any], actor: Actor, command_id: str) -> tuple[list[Any], dict[str, Any]]:
        """The decision takes effect: today's events, checked against the rules as they stand."""
        d, reason, subject = p["details"], p["reason"], p["subject"]
        who = {"actor": actor.user, "role": actor.role, "command_id": command_id}
        if subject == Subject.TIE:
            allocation = self.allocation(c.key, ties={d["cohort"]: d["units"]})
            c.resolve_tie(cohort=d["cohort"], units=list(d["units"]), reason=reason, **who)
            return [c], {"problems": allocation.problems()}
        if subject == Subject.OVERRIDE:
            before = self.allocation(c.key).unit(d["unit"]).grade
            allocation = self.allocation(c.key, overrides={d["unit"]: Override(d["grade"], reason)})
            c.override(unit=d["unit"], grade=d["grade"], previous=before, reason=reason, **who)
            return [c], {"problems": allocation.problems()}
        if subject == Subject.APPROVE_ALLOCATION:
            results = self._approvable_results(c.key)
            c.approve_allocation(reason=reason, **who)
            c.publish(results=results, **who)
            drafts = self._draft_feedback(c, results, actor, command_id)
            return [c, *drafts], {"results": results}
        if subject == Subject.REJECT_ALLOCATION:
            c.reject_allocation(reason=reason, **who)
            return [c], {}
        raise InvalidInput("unknown_subject", zh=f"未知的决定类型 {subject}", en="unknown decision", field="subject")

    def _approvable_results(self, cycle: str) -> dict:
        allocation = self.allocation(cycle)
        problems = allocation.problems()
        if problems:
            raise Conflict(
                "allocation_not_approvable",
                zh="等次方案尚不能批准：" + "；".join(p.zh for p in problems),
                en="the allocation cannot be approved yet: " + "; ".join(p.en for p in problems),
                field="allocation",
            )
        return grading.results_document(cycle, allocation)

    # ------------------------------------------------------------------ confirming and objecting

    def _check_still_open(self, c: Cycle, owner: Cycle | Adjustment, actor: Actor) -> None:
        if isinstance(owner, Adjustment):
            rules.check_decide(c.stages, actor, owner.unit, owner.proposer, AdjustmentStatus.PENDING)
        else:
            rules.require_role(actor, rules.Role.COMMITTEE)
            rules.require_stage_open(c.stages, Stage.ALLOCATION)

    def confirm_decision(self, cycle: str, proposal: Any, actor: Actor, command_id: str) -> Recorded:
        """A member confirms a pending proposal; the confirmation that reaches the quorum makes it
        take effect."""
        c = self.cycle(cycle)
        owner, p = self._find_proposal(c, proposal)
        quorum = rules.committee_quorum(c.policy)
        if owner.seen(command_id):
            return Recorded(None, self._answer(owner, proposal, command_id, quorum))
        rules.check_confirm(actor, p)
        self._check_still_open(c, owner, actor)
        owner.confirm_decision(proposal=proposal, actor=actor.user, role=actor.role, command_id=command_id)
        if isinstance(owner, Cycle):
            return self._settle_cycle(owner, proposal, quorum, actor, command_id)
        return self._settle_adjustment(owner, proposal, quorum, actor, command_id)

    def object_decision(self, cycle: str, proposal: Any, reason: Any, actor: Actor, command_id: str) -> Recorded:
        """A member objects to a pending proposal, with a reason: it ends without effect."""
        c = self.cycle(cycle)
        owner, p = self._find_proposal(c, proposal)
        quorum = rules.committee_quorum(c.policy)
        if done := already_recorded(owner, command_id, lambda: self._answer(owner, proposal, command_id, quorum)):
            return done
        rules.check_confirm(actor, p)
        self._check_still_open(c, owner, actor)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("reason_required", zh="提出异议必须说明理由", en="an objection needs a reason", field="reason")
        owner.object_to_decision(proposal=proposal, reason=reason.strip(), actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(owner, **self._answer(owner, proposal, command_id, quorum))

    # ------------------------------------------------------------------ an adjustment's decision

    def _settle_adjustment(self, a: Adjustment, pid: str, quorum: int, actor: Actor, command_id: str) -> Recorded:
        p = a.proposals[pid]
        if rules.quorum_reached(p["confirmed_by"], quorum):
            who = {"reason": p["reason"], "actor": actor.user, "role": actor.role, "command_id": command_id}
            if p["decision"] == Decision.APPROVE:
                a.approve(**who)
            else:
                a.reject(**who)
        return self._save(a, **self._answer(a, pid, command_id, quorum))
