"""The way in: starts cycle workflows and sends their updates, turning Temporal's refusals back
into the domain's errors. The API (and anything else that writes) calls this."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import Bilingual, Conflict, DomainError, NotFound, Unavailable, rebuild_error
from domain.aggregates import Cycle
from domain.rules import Actor
from workflows import cycle as cycle_workflow
from workflows import debrief as debrief_workflow
from workflows import rectification as item_workflow
from workflows import unit as unit_workflow
from workflows.claims import Claims
from workflows.messages import (
    CycleState,
    cycle_workflow_id,
    session_workflow_id,
    unit_workflow_id,
)


def initial_state(c: Cycle, point_max: dict[str, dict[str, str]]) -> CycleState:
    return CycleState(
        cycle=c.key,
        units={k: u["org_type"] for k, u in c.units.items()},
        point_max=point_max,
        categories=dict(c.categories),
        deadlines=dict(c.deadlines),
        stages=dict(c.stages),
        status=c.status,
    )


def _translate(err: Exception) -> DomainError:
    cause = err.cause if isinstance(err, WorkflowUpdateFailedError) else err
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = getattr(cause, "cause", None)
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        d = cause.details[0]
        return rebuild_error(d.get("kind", "invalid"), d.get("code", "rejected"), d.get("message", cause.message), d.get("field"),
                             d.get("message_zh"), d.get("message_en"))
    if isinstance(cause, ApplicationError):
        return Conflict("rejected", cause.message)
    raise err


#: Temporal's answers that mean "not now": the server is overloaded (at most 10 updates in flight
#: per workflow), restarting, or unreachable. The command may be retried with the same id.
TRANSIENT = {
    RPCStatusCode.RESOURCE_EXHAUSTED: 1,
    RPCStatusCode.UNAVAILABLE: 3,
    RPCStatusCode.DEADLINE_EXCEEDED: 2,
    RPCStatusCode.CANCELLED: 2,
    RPCStatusCode.ABORTED: 1,
}

BUSY = Bilingual("系统繁忙，请稍后用相同的 Idempotency-Key 重试", "the system is busy; retry with the same Idempotency-Key")
DOWN = Bilingual("流程服务暂时不可用，请稍后用相同的 Idempotency-Key 重试", "the workflow service is unavailable; retry with the same Idempotency-Key")


def unavailable(err: BaseException) -> Unavailable | None:
    """The 503 an error of the Temporal client stands for, or None if it is not a transient one."""
    if isinstance(err, RPCTimeoutOrCancelledError):
        return Unavailable("busy", BUSY, retry_after=2)
    if isinstance(err, RPCError):
        if err.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            return Unavailable("busy", BUSY, retry_after=TRANSIENT[err.status])
        if err.status in TRANSIENT:
            return Unavailable("temporal_unavailable", DOWN, retry_after=TRANSIENT[err.status])
        text = str(err).lower()
        if err.status in (RPCStatusCode.UNKNOWN, RPCStatusCode.INTERNAL) and any(
            w in text for w in ("transport", "connect", "connection", "broken pipe", "reset", "unavailable", "timed out")
        ):
            return Unavailable("temporal_unavailable", DOWN, retry_after=3)
        return None
    if isinstance(err, (ConnectionError, TimeoutError)):
        return Unavailable("temporal_unavailable", DOWN, retry_after=3)
    if isinstance(err, RuntimeError) and any(w in str(err).lower() for w in ("client connect", "transport error", "tonic::transport")):
        return Unavailable("temporal_unavailable", DOWN, retry_after=3)  # the core client's "Failed client connect: …"
    return None


#: How often an update that met a run continuing as new is sent again to the next run.
CONTINUED_RETRIES = 5


class Gateway:
    """Every command it sends carries the actor's claim signed with ``claims``' key
    (``workflows.claims``): the worker records nothing it cannot check."""

    def __init__(self, client: Client, task_queue: str, claims: Claims) -> None:
        self.client = client
        self.task_queue = task_queue
        self.claims = claims

    async def _update(self, workflow_id: str, update: Any, arg: Any, command_id: str) -> dict[str, Any]:
        handle = self.client.get_workflow_handle(workflow_id)
        for attempt in range(CONTINUED_RETRIES + 1):
            try:
                return await handle.execute_update(update, arg, id=command_id, result_type=dict)
            except WorkflowUpdateFailedError as err:
                raise _translate(err) from None
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    raise await self._why_not_running(handle) from None
                if err.status == RPCStatusCode.FAILED_PRECONDITION:
                    # The run it reached had just continued as new: the next run takes the same
                    # update id (completed ids are carried over), so sending it again is safe.
                    if attempt < CONTINUED_RETRIES and await self._running(handle):
                        await asyncio.sleep(0.05 * (attempt + 1))
                        continue
                    raise Conflict("workflow_closed", zh="该流程已结束", en="this workflow has finished", field=None) from None
                raise unavailable(err) or err from None
            except Exception as err:
                raise unavailable(err) or err from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _running(self, handle: Any) -> bool:
        """Whether the workflow (its newest run) is still running."""
        try:
            return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except Exception:  # noqa: BLE001 - cannot tell: do not retry
            return False

    async def _why_not_running(self, handle: Any) -> DomainError:
        try:
            await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return NotFound("not_open", zh="该环节尚未开启", en="this step has not been opened", field=None)
            return unavailable(err) or NotFound("not_open", zh="该环节尚未开启", en="this step has not been opened", field=None)
        except Exception as err:
            translated = unavailable(err)
            if translated is None:
                raise
            return translated
        return Conflict("step_closed", zh="该环节已结束，不再接受操作", en="this step has finished", field=None)

    # -- cycle
    async def open_cycle(self, c: Cycle, point_max: dict[str, dict[str, str]], actor: Actor, command_id: str) -> dict:
        try:
            await self.client.start_workflow(
                cycle_workflow.CycleWorkflow.run,
                initial_state(c, point_max),
                id=cycle_workflow_id(self.task_queue, c.key),
                task_queue=self.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )
        except Exception as err:
            raise unavailable(err) or err from None
        return await self.cycle_update(c.key, "open", cycle_workflow.OpenCycle(actor), command_id)

    async def cycle_update(self, cycle: str, name: str, arg: Any, command_id: str) -> dict:
        update = getattr(cycle_workflow.CycleWorkflow, name)
        signed = self.claims.signed("Cycle", name, arg, {"cycle": cycle}, command_id)
        return await self._update(cycle_workflow_id(self.task_queue, cycle), update, signed, command_id)

    async def unit_update(self, cycle: str, unit: str, name: str, arg: Any, command_id: str) -> dict:
        update = getattr(unit_workflow.UnitWorkflow, name)
        signed = self.claims.signed("UnitAssessment", name, arg, {"cycle": cycle, "unit": unit}, command_id)
        return await self._update(unit_workflow_id(cycle_workflow_id(self.task_queue, cycle), unit), update, signed, command_id)

    async def session_update(self, cycle: str, cohort: str, name: str, arg: Any, command_id: str) -> dict:
        update = getattr(debrief_workflow.DebriefWorkflow, name)
        signed = self.claims.signed("DebriefSession", name, arg, {"cycle": cycle, "cohort": cohort}, command_id)
        return await self._update(session_workflow_id(cycle_workflow_id(self.task_queue, cycle), cohort), update, signed, command_id)

    async def item_update(self, cycle: str, item: str, name: str, arg: Any, command_id: str) -> dict:
        update = getattr(item_workflow.RectificationWorkflow, name)
        workflow_id = item_workflow.rectification_workflow_id(cycle_workflow_id(self.task_queue, cycle), item)
        signed = self.claims.signed("RectificationItem", name, arg, {"cycle": cycle, "item": item}, command_id)
        return await self._update(workflow_id, update, signed, command_id)
