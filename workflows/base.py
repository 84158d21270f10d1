"""What every Kaohe workflow shares: validating with ``domain.rules`` and running a use case."""

from __future__ import annotations

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


def check(rule: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a domain rule from a validator; a refusal becomes a rejected update."""
    try:
        return rule(*args, **kwargs)
    except DomainError as err:
        raise to_application_error(err) from None


class KaoheWorkflow:
    done_updates: list[str]

    def is_retry(self) -> bool:
        """An update id already completed in an earlier run (before a continue-as-new)."""
        info = workflow.current_update_info()
        return info is not None and info.id in self.done_updates

    def remember(self) -> None:
        info = workflow.current_update_info()
        if info is not None and info.id not in self.done_updates:
            self.done_updates.append(info.id)

    async def run_use_case(self, method: str, actor: Actor, **kwargs: Any) -> dict[str, Any]:
        info = workflow.current_update_info()
        command_id = info.id if info is not None else f"{workflow.info().workflow_id}/{method}"
        return await self.run_command(Command(method, kwargs, actor, command_id))

    async def run_command(self, command: Command) -> dict[str, Any]:
        try:
            result = await workflow.execute_activity(
                "kaohe.execute",
                command,
                result_type=dict,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=RETRY,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True) from None
            raise
        self.remember()
        return result
