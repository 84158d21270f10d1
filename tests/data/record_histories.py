"""Record the Temporal histories that ``tests/test_replay.py`` replays.

Runs one small cycle end to end on the real pieces — the embedded Temporal dev server, the
Kaohe worker (``workflows.worker.build_worker``), a ``Assessments`` on a temporary SQLite event
store and ``adapters.gateway.Gateway`` (no HTTP) — and writes the histories of the cycle
workflow, one unit workflow, the debrief workflow and one rectification item's workflow to
``tests/data/histories/v3/``.

The cycle covers: self-reviews (one unit misses its own), the organizer closing
self-review, a scoring deadline that passes (a durable timer fires), scoring, a debrief
session with three ballots closed by the organizer, an adjustment approved and one
rejected, an allocation sent back and approved after a grade override, feedback issued and
acknowledged, a rectification item sent back once and then verified, a deadline set on the
feedback stage, and the cycle closed.

Regenerate (from the repository root) only when a workflow change is *meant* to break
replay of running cycles::

    .venv/bin/python tests/data/record_histories.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from domain.application import Assessments  # noqa: E402
from domain.rules import Actor  # noqa: E402
from domain.scheme import parse_scheme  # noqa: E402
from kaohe.devserver import temporal_path  # noqa: E402
from kaohe.runtime import hard_exit  # noqa: E402
from tests.helpers import TINY_SCHEME  # noqa: E402
from workflows import cycle as cycle_workflow  # noqa: E402
from workflows import debrief as debrief_workflow  # noqa: E402
from workflows import rectification as item_workflow  # noqa: E402
from workflows import unit as unit_workflow  # noqa: E402
from adapters.gateway import Gateway  # noqa: E402
from workflows.messages import cycle_workflow_id, session_workflow_id, unit_workflow_id  # noqa: E402
from workflows.claims import Claims  # noqa: E402
from workflows.worker import build_worker  # noqa: E402

CLAIMS = Claims("record-histories-key-" * 2)

#: Histories of the current workflow code. ``histories/`` itself holds those recorded before the
#: typed local steps (v1): both sets must keep replaying.
OUT = Path(__file__).resolve().parent / "histories" / "v3"
TASK_QUEUE = "kaohe-record"
CYCLE = "replay-2026"
COHORT = "grassroots_branch"

ORG = Actor("org", "organizer")
EVA = Actor("eva", "evaluator")
COM = Actor("com", "committee")
COM2 = Actor("com2", "committee")
#: Each committee decision is proposed at a meeting and confirmed by a second member (quorum 2).
MEETING = {"meeting_date": "2026-03-20", "minute_number": "党委会〔2026〕3号"}
U1 = Actor("u1", "unit", "U1")
U2 = Actor("u2", "unit", "U2")


def cid() -> str:
    return f"record/{uuid.uuid4()}"


def point_max(app: Assessments, key: str) -> dict[str, dict[str, str]]:
    c = app.cycle(key)
    return {org: {k: str(v) for k, v in parse_scheme(t).point_max.items()} for org, t in c.schemes.items()}


def event_names(app: Assessments) -> list[str]:
    return [type(app.mapper.to_domain_event(n)).__qualname__ for n in app.recorder.select_notifications(start=1, limit=10_000)]


RECTIFIED: list[str] = []


async def drive(client: Client, app: Assessments) -> None:
    g = Gateway(client, TASK_QUEUE, CLAIMS)
    app.create_cycle(CYCLE, 2026, "回放测试周期", None, {COHORT: TINY_SCHEME}, None, None, ORG, cid())
    app.register_units(
        CYCLE,
        [{"key": "U1", "name": "第一支部", "org_type": COHORT}, {"key": "U2", "name": "第二支部", "org_type": COHORT}],
        ORG,
        cid(),
    )
    await g.open_cycle(app.cycle(CYCLE), point_max(app, CYCLE), ORG, cid())

    # Self-review: U1 submits, U2 does not; the organizer opens scoring and closes self-review.
    await g.unit_update(CYCLE, "U1", "submit_self_review", unit_workflow.SubmitSelfReview(U1, {"1.1.1": "5", "1.1.2": "3"}, {"1.1.1": "会议记录"}), cid())
    await g.cycle_update(CYCLE, "open_stage", cycle_workflow.StageCommand(ORG, "scoring"), cid())
    await g.cycle_update(CYCLE, "close_stage", cycle_workflow.StageCommand(ORG, "self_review", "U2 逾期未交"), cid())

    # A scoring deadline a few seconds ahead: the durable timer fires and the miss is recorded.
    soon = (datetime.now(timezone.utc) + timedelta(seconds=3)).isoformat()
    await g.cycle_update(CYCLE, "set_deadline", cycle_workflow.SetDeadline(ORG, "scoring", soon), cid())
    until = time.monotonic() + 30
    while "Cycle.StageDeadlineMissed" not in event_names(app):
        if time.monotonic() > until:
            raise RuntimeError("the scoring deadline did not fire")
        await asyncio.sleep(0.3)

    await g.unit_update(CYCLE, "U1", "submit_scoring", unit_workflow.SubmitScoring(EVA, {"1.1.1": "6", "1.1.2": "3.5"}, comments={"1.1.1": "扎实"}), cid())
    await g.unit_update(CYCLE, "U2", "submit_scoring", unit_workflow.SubmitScoring(EVA, {"1.1.1": "5", "1.1.2": None}, {"1.1.2": "本年度无此项工作"}), cid())
    await g.cycle_update(CYCLE, "close_stage", cycle_workflow.StageCommand(ORG, "scoring"), cid())

    # Debrief: three ballot sheets; the organizer closes the session, then the stage.
    await g.cycle_update(CYCLE, "open_stage", cycle_workflow.StageCommand(ORG, "debrief"), cid())
    # only rostered representatives cast (SPEC §1): the organizer registers them first
    app.set_rosters(CYCLE, {COHORT: [{"representative": r} for r in ("R1", "R2", "R3")]}, ORG, cid())
    for rep, (a, b) in {"R1": ("95", "85"), "R2": ("93", "83"), "R3": ("91", "81")}.items():
        # sheets go straight to the domain, as the API sends them
        app.cast_ballot(CYCLE, COHORT, rep, None, {"U1": a, "U2": b}, Actor(rep, "representative"), cid())
    await g.session_update(CYCLE, COHORT, "close", debrief_workflow.CloseSession(ORG), cid())
    await g.cycle_update(CYCLE, "close_stage", cycle_workflow.StageCommand(ORG, "debrief"), cid())

    # Adjustments: a bonus approved, a veto rejected.
    await g.cycle_update(CYCLE, "open_stage", cycle_workflow.StageCommand(ORG, "adjustments"), cid())
    bonus = await g.cycle_update(CYCLE, "propose_adjustment", cycle_workflow.ProposeAdjustment(ORG, "U2", "bonus", "获评先进基层党组织", points="2", evidence="表彰文件"), cid())
    async def confirmed(proposed: dict, member: Actor = COM2) -> dict:
        return await g.cycle_update(CYCLE, "confirm_decision", cycle_workflow.ConfirmDecision(member, proposed["proposal"]), cid())

    await confirmed(await g.cycle_update(CYCLE, "decide_adjustment", cycle_workflow.DecideAdjustment(COM, bonus["adjustment"], "approve", "属实", **MEETING), cid()))
    veto = await g.cycle_update(CYCLE, "propose_adjustment", cycle_workflow.ProposeAdjustment(ORG, "U1", "veto", "信访举报"), cid())
    await confirmed(await g.cycle_update(CYCLE, "decide_adjustment", cycle_workflow.DecideAdjustment(COM, veto["adjustment"], "reject", "经核查不属实", **MEETING), cid()))
    await g.cycle_update(CYCLE, "close_stage", cycle_workflow.StageCommand(ORG, "adjustments"), cid())

    # Allocation: sent back once, then an override and the approval.
    await confirmed(await g.cycle_update(CYCLE, "reject_allocation", cycle_workflow.Decision(COM, "请复核加分依据", **MEETING), cid()))
    await g.cycle_update(CYCLE, "close_stage", cycle_workflow.StageCommand(ORG, "adjustments"), cid())
    await confirmed(await g.cycle_update(CYCLE, "override_grade", cycle_workflow.OverrideGrade(COM, "U2", "average", "党委会研究决定", **MEETING), cid()))
    approved = await confirmed(await g.cycle_update(CYCLE, "approve_allocation", cycle_workflow.Decision(COM2, "同意", **MEETING), cid()), COM)
    grades = {u: r["grade"] for u, r in approved["results"]["units"].items()}
    assert grades == {"U1": "excellent", "U2": "average"}, grades

    # Feedback, a deadline on it, and the end of the cycle.
    items = {}
    for unit, user in (("U1", U1), ("U2", U2)):
        issued = await g.unit_update(CYCLE, unit, "issue_feedback", unit_workflow.IssueFeedback(ORG, f"{unit}：成绩与问题"), cid())
        items[unit] = [i["id"] for i in issued.get("items", [])]
        await g.unit_update(CYCLE, unit, "acknowledge_feedback", unit_workflow.AcknowledgeFeedback(user), cid())
    # One of U1's rectification items to closure: progress, a send-back, completion, verification.
    item = items["U1"][0]
    await g.item_update(CYCLE, item, "report_progress", item_workflow.ReportItem(U1, "正在整改"), cid())
    await g.item_update(CYCLE, item, "submit", item_workflow.ReportItem(U1, "已完成"), cid())
    await g.item_update(CYCLE, item, "verify", item_workflow.VerifyItem(ORG, "reject", "佐证不足"), cid())
    await g.item_update(CYCLE, item, "submit", item_workflow.ReportItem(U1, "补充佐证"), cid())
    await g.item_update(CYCLE, item, "verify", item_workflow.VerifyItem(ORG, "approve"), cid())
    RECTIFIED.append(item)
    later = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    await g.cycle_update(CYCLE, "set_deadline", cycle_workflow.SetDeadline(ORG, "feedback", later), cid())
    await g.cycle_update(CYCLE, "close_cycle", cycle_workflow.Decision(ORG, "年度考核结束"), cid())


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kaohe-record-") as tmp:
        app = Assessments(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{tmp}/events.sqlite", "CREATE_TABLE": "y"})
        env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_path(), data_converter=pydantic_data_converter)
        try:
            worker, executor = build_worker(env.client, app, TASK_QUEUE, claims=CLAIMS)
            async with worker:
                await drive(env.client, app)
                wid = cycle_workflow_id(TASK_QUEUE, CYCLE)
                targets = {
                    "cycle": wid,
                    "unit": unit_workflow_id(wid, "U1"),
                    "debrief": session_workflow_id(wid, COHORT),
                    "rectification": item_workflow.rectification_workflow_id(wid, RECTIFIED[0]),
                }
                for name, workflow_id in targets.items():
                    handle = env.client.get_workflow_handle(workflow_id)
                    await asyncio.wait_for(handle.result(), timeout=30)  # each has completed
                    history = await handle.fetch_history()
                    path = OUT / f"{name}.json"
                    path.write_text(history.to_json(), "utf-8")
                    print(f"{path.relative_to(ROOT)}: {workflow_id}, {len(history.events)} events")
                # Replay needs each history's own workflow id (child ids are derived from it).
                (OUT / "ids.json").write_text(json.dumps(targets, indent=2) + "\n", "utf-8")
            executor.shutdown(wait=True)
        finally:
            await env.shutdown()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except BaseException:  # noqa: BLE001 - report, then exit without the Temporal client's teardown crash
        import traceback

        traceback.print_exc()
        hard_exit(1)
    hard_exit(0)
