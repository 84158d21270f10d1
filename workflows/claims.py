"""The actor claim: who a command says it comes from, signed by the API, checked by the activity.

Temporal is not trusted to say who acts. Anyone who reaches its port can start a workflow or
send it an update naming any actor, and the workflows' validators only check the role the
payload names. So the API (``adapters.gateway``) signs every command it sends: an HMAC-SHA256,
with a key the API and the worker share (``KAOHE_COMMAND_KEY``), over a canonical encoding of

* the use case (``confirm_decision``: a claim for one step cannot be spent on another),
* the command id (the idempotency key: a claim copied from a history under a new id fails,
  under the same id the use case answers its first outcome and stores nothing),
* the actor (user, role, unit),
* every field of the step the activity will record — the payload and the target the workflow
  adds (cycle, unit, cohort or item): an altered grade or another cycle fails,
* the moment it was signed: a claim older than ``ttl`` (default an hour) fails, so a command
  refused once cannot be replayed much later when the stage it needed is open.

The claim travels in the command's actor (``workflows.messages.SignedActor``, an optional
field: histories recorded before still decode). The activity that records the step
(``workflows.activities``) recomputes the HMAC from the step it received and refuses an
unsigned, altered or expired claim with a non-retryable error before anything is stored.
Steps the workflows take on their own (a missed deadline, a reminder) name no actor and carry
no claim.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Callable

from pydantic_core import to_jsonable_python
from temporalio.exceptions import ApplicationError

from domain.rules import Actor
from workflows import steps
from workflows.messages import SignedActor

log = logging.getLogger("kaohe.claims")

VERSION = "v1"
#: Fields of a step that are not part of its signed payload (signed on their own).
UNSIGNED_FIELDS = ("actor", "command_id")
#: How far a claim may be dated in the future (clocks of API and worker hosts differ a little).
CLOCK_SKEW_SECONDS = 300

#: The use case and step each update of each workflow records: what the API signs for.
USE_CASES: dict[tuple[str, str], tuple[str, type]] = {
    ("Cycle", "open"): ("open_cycle", steps.OpenCycleStep),
    ("Cycle", "open_stage"): ("open_stage", steps.OpenStageStep),
    ("Cycle", "close_stage"): ("close_stage", steps.CloseStageStep),
    ("Cycle", "set_deadline"): ("set_deadline", steps.SetDeadlineStep),
    ("Cycle", "propose_adjustment"): ("propose_adjustment", steps.ProposeAdjustmentStep),
    ("Cycle", "decide_adjustment"): ("decide_adjustment", steps.DecideAdjustmentStep),
    ("Cycle", "resolve_tie"): ("resolve_tie", steps.ResolveTieStep),
    ("Cycle", "override_grade"): ("override_grade", steps.OverrideGradeStep),
    ("Cycle", "approve_allocation"): ("approve_allocation", steps.AllocationDecisionStep),
    ("Cycle", "reject_allocation"): ("reject_allocation", steps.AllocationDecisionStep),
    ("Cycle", "confirm_decision"): ("confirm_decision", steps.ConfirmDecisionStep),
    ("Cycle", "object_decision"): ("object_decision", steps.ObjectDecisionStep),
    ("Cycle", "create_rectification"): ("create_rectification", steps.CreateRectificationStep),
    ("Cycle", "close_cycle"): ("close_cycle", steps.CycleDecisionStep),
    ("UnitAssessment", "submit_self_review"): ("submit_self_review", steps.SelfReviewStep),
    ("UnitAssessment", "submit_scoring"): ("submit_scoring", steps.ScoringStep),
    ("UnitAssessment", "issue_feedback"): ("issue_feedback", steps.IssueFeedbackStep),
    ("UnitAssessment", "acknowledge_feedback"): ("acknowledge_feedback", steps.AcknowledgeFeedbackStep),
    ("DebriefSession", "close"): ("close_session", steps.CloseSessionStep),
    ("RectificationItem", "report_progress"): ("report_rectification", steps.ReportRectificationStep),
    ("RectificationItem", "submit"): ("submit_rectification", steps.ReportRectificationStep),
    ("RectificationItem", "verify"): ("verify_rectification", steps.VerifyRectificationStep),
}


def canonical(value: Any) -> bytes:
    """One encoding of a value on both sides: as the data converter puts it on the wire
    (a Decimal is its string, a date its ISO form, a tuple a list), keys sorted, no spaces."""
    return json.dumps(to_jsonable_python(value), sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def step_fields(step: Any) -> dict[str, Any]:
    """The signed payload of a step: every field but the actor and the command id."""
    return {f.name: getattr(step, f.name) for f in dataclasses.fields(step) if f.name not in UNSIGNED_FIELDS}


def forged(code: str, message: str) -> ApplicationError:
    """The refusal of a claim: non-retryable, a 403 if it ever reaches the API. Its type is not
    ``kaohe.*``, so the worker logs it (a forged command is an incident, not a user's mistake)."""
    details = {"kind": "forbidden", "code": code, "message": message, "field": None}
    return ApplicationError(message, details, type="ForgedCommand", non_retryable=True)


class Claims:
    """Signs and checks actor claims with one shared key."""

    def __init__(self, key: bytes | str, ttl_seconds: float = 3600.0, clock: Callable[[], float] = time.time) -> None:
        self.key = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(self.key) < 16:
            raise ValueError("KAOHE_COMMAND_KEY 太短（至少 32 个字符）/ the command key is too short (32 characters or more)")
        self.ttl = ttl_seconds
        self.clock = clock

    def _mac(self, use_case: str, command_id: str, actor: Any, fields: dict[str, Any], issued: int) -> str:
        message = canonical({
            "v": VERSION, "use_case": use_case, "command_id": command_id, "issued": issued,
            "actor": {"user": actor.user, "role": actor.role, "unit": actor.unit},
            "fields": fields,
        })
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def sign(self, use_case: str, command_id: str, actor: Any, fields: dict[str, Any]) -> str:
        issued = int(self.clock())
        return f"{VERSION}.{issued}.{self._mac(use_case, command_id, actor, fields, issued)}"

    def verify(self, use_case: str, command_id: str, actor: Any, fields: dict[str, Any]) -> None:
        """Raise ``ForgedCommand`` unless ``actor`` carries a valid claim for exactly this."""
        claim = getattr(actor, "claim", None)
        who = f"{getattr(actor, 'user', '?')} ({getattr(actor, 'role', '?')})"
        if not claim:
            raise self._refuse("unsigned_command", f"命令未经签名，拒绝记录 / an unsigned command naming {who} is refused", use_case, command_id, who)
        try:
            version, issued_text, mac = claim.split(".")
            issued = int(issued_text)
        except ValueError:
            raise self._refuse("forged_command", f"命令签名无效，拒绝记录 / a command with a malformed signature naming {who} is refused", use_case, command_id, who) from None
        expected = self._mac(use_case, command_id, actor, fields, issued)
        if version != VERSION or not hmac.compare_digest(mac, expected):
            raise self._refuse("forged_command", f"命令签名不符，拒绝记录 / a command whose signature does not match naming {who} is refused", use_case, command_id, who)
        now = self.clock()
        if issued > now + CLOCK_SKEW_SECONDS or now - issued > self.ttl:
            raise self._refuse("expired_command", f"命令签名已过期，请重新提交 / the command's signature has expired; send it again", use_case, command_id, who)

    def _refuse(self, code: str, message: str, use_case: str, command_id: str, who: str) -> ApplicationError:
        log.warning("refused %s command %s %r naming %s", code, use_case, command_id, who)
        return forged(code, message)

    # -- the API's side
    def signed(self, workflow: str, update: str, cmd: Any, target: dict[str, Any], command_id: str) -> Any:
        """``cmd`` with its actor's claim, for update ``update`` of the workflow type (its Temporal name) ``workflow``
        sent to ``target`` (the fields the workflow adds from its own state)."""
        use_case, step_type = USE_CASES[(workflow, update)]
        fields = {}
        for f in dataclasses.fields(step_type):
            if f.name in UNSIGNED_FIELDS:
                continue
            fields[f.name] = target[f.name] if f.name in target else getattr(cmd, f.name)
        actor = cmd.actor
        claim = self.sign(use_case, command_id, actor, fields)
        return dataclasses.replace(cmd, actor=SignedActor(actor.user, actor.role, actor.unit, claim))

    # -- the worker's side
    def checked(self, use_case: str, step: Any) -> Any:
        """The step, its claim verified, with a plain actor for the domain."""
        self.verify(use_case, step.command_id, step.actor, step_fields(step))
        return dataclasses.replace(step, actor=plain(step.actor))


def plain(actor: Any) -> Actor:
    """The domain's actor, without its claim."""
    return Actor(actor.user, actor.role, actor.unit)
