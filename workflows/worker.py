"""The Temporal worker: the cycle, unit and debrief workflows and the use-case activity."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.application import Assessments
from workflows.activities import KaoheActivities
from workflows.claims import Claims
from workflows.cycle import CycleWorkflow
from workflows.debrief import DebriefWorkflow
from workflows.rectification import RectificationWorkflow
from workflows.unit import UnitWorkflow

WORKFLOWS = [CycleWorkflow, UnitWorkflow, DebriefWorkflow, RectificationWorkflow]


class RefusalsAreNotFailures(logging.Filter):
    """The SDK logs every failed activity as a warning with its traceback. A domain refusal
    (``kaohe.*`` application error: a stage not open, a tie to resolve) is an answer to the
    person who asked, not a fault of the worker: leave those out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        err = record.exc_info[1] if record.exc_info else None
        return not (isinstance(err, ApplicationError) and (err.type or "").startswith("kaohe."))


logging.getLogger("temporalio.activity").addFilter(RefusalsAreNotFailures())


async def connect(address: str, namespace: str = "default", tls: TLSConfig | bool = False) -> Client:
    """A client of the Temporal frontend; ``tls`` from ``Settings.temporal_tls()`` (False: plain)."""
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter, tls=tls)


def workflow_runner() -> SandboxedWorkflowRunner:
    # domain/ is pure and deterministic: pass it through instead of re-importing per run.
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("domain", "workflows.messages")
    )


def build_worker(
    client: Client, app: Assessments, task_queue: str, threads: int = 8, *, claims: Claims
) -> tuple[Worker, ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kaohe-activity")
    activities = KaoheActivities(app, claims)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities.all(),
        activity_executor=executor,
        workflow_runner=workflow_runner(),
        graceful_shutdown_timeout=timedelta(seconds=10),  # let running activities finish their write
    )
    return worker, executor
