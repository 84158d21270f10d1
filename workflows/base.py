"""What every Kaohe workflow shares: validating with ``domain.rules`` and running a step."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, Callable

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.errors import DomainError
    from domain.rules import Actor
    from workflows.messages import Command, to_application_error

ACTIVITY_TIMEOUT = timedelta(seconds=20)  # a write takes milliseconds; a dead worker's task is retried sooner
RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=10), maximum_attempts=20)

#: Workflows record their steps as typed local activities (one per use case, run in the
#: worker that runs the workflow task: no round trip through the server's activity queue).
#: Histories recorded before carry the name-dispatched ``kaohe.execute`` activity and replay
#: on that path.
TYPED_STEPS = "typed-local-steps-v1"

#: The activity of each step, by the step's use case name (``workflows.activities``).
STEP_NAMES = {
    "OpenCycleStep": "open_cycle", "OpenStageStep": "open_stage", "CloseStageStep": "close_stage",
    "SetDeadlineStep": "set_deadline", "DeadlineMissedStep": "record_deadline_missed",
    "SelfReviewStep": "submit_self_review", "ScoringStep": "submit_scoring", "CloseSessionStep": "close_session",
    "ProposeAdjustmentStep": "propose_adjustment", "DecideAdjustmentStep": "decide_adjustment",
    "ResolveTieStep": "resolve_tie", "OverrideGradeStep": "override_grade", "IssueFeedbackStep": "issue_feedback",
    "AcknowledgeFeedbackStep": "acknowledge_feedback", "CreateRectificationStep": "create_rectification",
    "RemindRectificationStep": "remind_rectification", "RectificationOverdueStep": "rectification_overdue",
    "VerifyRectificationStep": "verify_rectification",
    "ConfirmDecisionStep": "confirm_decision", "ObjectDecisionStep": "object_decision",
}


def check(rule: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a domain rule from a validator; a refusal becomes a rejected update."""
    try:
        return rule(*args, **kwargs)
    except DomainError as err:
        raise to_application_error(err) from None


def command_id(suffix: str = "") -> str:
    """The idempotency key of the step run now: the update's id, or the workflow's own key."""
    info = workflow.current_update_info()
    return info.id if info is not None else f"{workflow.info().workflow_id}/{suffix}"


class KaoheWorkflow:
    done_updates: list[str]
    #: Whether the last step was an update completed before (in an earlier run): its outcome
    #: is the first attempt's, and the state carried over already includes its effect.
    last_step_retried: bool = False

    def is_retry(self) -> bool:
        """An update id already completed in an earlier run (before a continue-as-new)."""
        info = workflow.current_update_info()
        return info is not None and info.id in self.done_updates

    def remember(self) -> None:
        info = workflow.current_update_info()
        if info is not None and info.id not in self.done_updates:
            self.done_updates.append(info.id)

    async def step(self, activity: Callable[[Any, Any], Any], step: Any, legacy: str | None = None) -> dict[str, Any]:
        """Record one step through its typed activity; return the outcome as a dict (the
        update's answer). ``legacy`` names the use case where it differs from the step's."""
        if workflow.patched(TYPED_STEPS):
            return await self._recorded(self._typed(activity, step))
        return await self.legacy_step(legacy or STEP_NAMES[type(step).__name__], step)

    async def legacy_step(self, method: str, step: Any) -> dict[str, Any]:
        """The step through the name-dispatched activity of earlier versions."""
        return await self._recorded(self._legacy(method, step))

    async def _typed(self, activity: Callable[[Any, Any], Any], step: Any) -> dict[str, Any]:
        outcome = await workflow.execute_local_activity_method(
            activity, step, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY
        )
        return outcome.to_dict()

    async def _recorded(self, call: Any) -> dict[str, Any]:
        self.last_step_retried = self.is_retry()
        try:
            result = await call
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
            raise
        self.remember()
        return result

    async def _legacy(self, method: str, step: Any) -> dict[str, Any]:
        fields = {f.name: getattr(step, f.name) for f in dataclasses.fields(step)}
        actor = fields.pop("actor", None)
        cid = fields.pop("command_id")
        if actor is None:
            actor = Actor("system", "system")
        return await workflow.execute_activity(
            "kaohe.execute",
            Command(method, fields, actor, cid),
            result_type=dict,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
