"""Everything the web pages ask of the system, in one file: each read and each command is one small
async function with plain arguments (``svc``, the signed-in ``user``, then the page's values).

Today they call the JSON API's own route functions (``api.routers.*``) with the signed-in user, so
every role, unit-scope and business rule is the API's rule and every error is the API's error
(``DomainError`` or ``HTTPException`` with a ``{code, message, field}`` body). Where the API has
no public function for what a page needs (a cycle's record without the API's role check, the
unit names of a cycle) the query is written here. When the service layer (``services/``) lands,
this is the one file that changes: no module under ``api/web/pages/`` imports ``api.routers``
(``tests/test_web_catalogue.py`` checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from api.accounts import User
from api.deps import Services, command_id
from api.deps import require as require  # noqa: PLC0414 - the pages' role checks come from here too
from api.deps import require_unit_scope as require_unit_scope  # noqa: PLC0414
from api.routers import adjustments as adjustments_api
from api.routers import cycles as cycles_api
from api.routers import debrief as debrief_api
from api.routers import rectification as rect_api
from api.routers import reports as reports_api
from api.routers import tasks as tasks_api
from api.routers import units as units_api
from api.schemas import (
    AdjustmentIn, BallotIn, DecisionIn, DeadlineIn, FeedbackIn, OverrideIn, Reason, ScoringIn, SelfReviewIn, TieIn,
)
from domain.errors import NotFound
from kaohe import reports
from kaohe.audit import Auditor
from projections.models import CycleRow, UnitRow

# ------------------------------------------------------------------ reads


async def my_tasks(svc: Services, user: User) -> list[dict[str, Any]]:
    return await tasks_api.my_tasks(user, svc)


async def cycles(svc: Services, user: User) -> list[dict[str, Any]]:
    return await cycles_api.list_cycles(user, svc)


async def cycle(svc: Services, user: User, key: str) -> dict[str, Any]:
    """The cycle with its stages, deadlines and progress, as the API shows it to ``user``."""
    return await cycles_api.get_cycle(key, user, svc)


def _cycle_record(svc: Services, key: str) -> dict[str, Any]:
    with svc.runner.sessions() as db:
        row = db.get(CycleRow, key)
        if row is None:
            raise NotFound("cycle_not_found", f"考核周期 {key} 不存在 / no such cycle", "cycle")
        return cycles_api.cycle_view(row)


async def cycle_record(svc: Services, key: str) -> dict[str, Any]:
    """The cycle's own record (name, status, stages, policy…) without progress: a page's header."""
    return await run_in_threadpool(_cycle_record, svc, key)


async def units(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await units_api.list_units(cycle, user, svc)


async def unit(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any]:
    """One unit in a cycle; the API's unit scope (403 for another unit)."""
    return await units_api.get_unit(cycle, unit, user, svc)


def unit_name(svc: Services, unit: str) -> str | None:
    """The unit's name in its latest cycle (blocking: call it in a thread)."""
    with svc.runner.sessions() as db:
        return db.scalar(select(UnitRow.name).where(UnitRow.unit == unit).order_by(UnitRow.cycle.desc()).limit(1))


async def unit_names(svc: Services, cycle: str) -> dict[str, str]:
    """Unit key → name, for every unit of the cycle."""

    def load() -> dict[str, str]:
        with svc.runner.sessions() as db:
            return {u.unit: u.name for u in db.scalars(select(UnitRow).where(UnitRow.cycle == cycle).order_by(UnitRow.unit))}

    return await run_in_threadpool(load)


async def scheme(svc: Services, cycle: str, cohort: str) -> dict[str, Any] | None:
    """The scheme tree (as stored) the cycle assesses ``cohort`` with, or None."""
    return (await run_in_threadpool(lambda: svc.app.cycle(cycle).schemes)).get(cohort)


async def sessions(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await debrief_api.sessions(cycle, user, svc)


async def adjustments(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await adjustments_api.list_adjustments(cycle, user, svc)


async def items(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await rect_api.list_items(cycle, user, svc)


async def carried_items(svc: Services, user: User, cycle: str, unit: str) -> list[dict[str, Any]]:
    return await rect_api.carried(cycle, unit, user, svc)


async def feedback(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any]:
    return await rect_api.feedback(cycle, unit, user, svc)


async def allocation(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    return await cycles_api.get_allocation(cycle, user, svc)


async def results(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    """The published results (a unit user sees only its own row); Conflict before publication."""
    return await cycles_api.results(cycle, user, svc)


async def evidence_file(svc: Services, user: User, sha256: str) -> Response:
    return await rect_api.download(sha256, user, svc)


async def feedback_docx(svc: Services, user: User, cycle: str, unit: str) -> Response:
    return await reports_api.feedback_docx(cycle, unit, user, svc)


async def document(svc: Services, builder: str, cycle: str) -> tuple[bytes, str, str]:
    """A document of the cycle (``results``, ``report-docx``…): bytes, media type, file name."""
    return await run_in_threadpool(reports.build, svc.app, builder, cycle)


# ------------------------------------------------------------------ the auditor's reads


async def audit_timeline(svc: Services, cycle: str, filters: dict[str, str | None]) -> tuple[list, list, dict[str, Any]]:
    """The whole timeline, the entries the filters keep, and the current digest."""

    def load():
        auditor = Auditor(svc.app)
        everything = auditor.timeline(cycle)
        shown = auditor.timeline(cycle, unit=filters["unit"], actor=filters["actor"], stage=filters["stage"], event=filters["type"])
        return everything, shown, auditor.digest(svc.signing_key)

    return await run_in_threadpool(load)


async def audit_entries(svc: Services, cycle: str, filters: dict[str, str | None]) -> list:
    return await run_in_threadpool(lambda: Auditor(svc.app).timeline(
        cycle, unit=filters["unit"], actor=filters["actor"], stage=filters["stage"], event=filters["type"]))


async def explain_grade(svc: Services, cycle: str, unit: str) -> Any:
    return await run_in_threadpool(lambda: Auditor(svc.app).explain(cycle, unit))


async def integrity(svc: Services) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The hash-chain check (as a dict and as one line) and the current digest."""

    def check():
        auditor = Auditor(svc.app)
        digest = auditor.digest(svc.signing_key)
        report = auditor.verify()
        return report.to_dict(), report.line(), digest

    return await run_in_threadpool(check)


async def export_bundle(svc: Services, cycle: str, path: Path) -> None:
    await run_in_threadpool(lambda: Auditor(svc.app).export(cycle, path, svc.signing_key))


# ------------------------------------------------------------------ organizer commands


async def create_cycle(svc: Services, user: User, key: str, year: Any, name: str, policy: dict[str, Any],
                       schemes: dict[str, Any], categories: dict[str, str] | None, idem: str | None) -> None:
    """The domain call ``POST /cycles`` makes, without its request model (which would refuse a
    form's raw text, a year typed as words, before the domain words the error)."""
    out = await run_in_threadpool(
        svc.app.create_cycle, key, year, name, policy, schemes, categories, None, user.actor, command_id(user, idem),
    )
    await svc.settle(out.to_dict())


async def register_units(svc: Services, user: User, cycle: str, units: list[dict[str, Any]], idem: str | None) -> int:
    """The domain call ``POST /cycles/{key}/units`` makes; the number registered."""
    out = await run_in_threadpool(svc.app.register_units, cycle, units, user.actor, command_id(user, idem))
    await svc.settle(out.to_dict())
    return int(out.data.get("registered", 0))


async def open_cycle(svc: Services, user: User, cycle: str, idem: str | None) -> None:
    await cycles_api.open_cycle(cycle, user, svc, idem=idem)


async def open_stage(svc: Services, user: User, cycle: str, stage: str, idem: str | None) -> None:
    await cycles_api.open_stage(cycle, stage, user, svc, idem=idem)


async def close_stage(svc: Services, user: User, cycle: str, stage: str, idem: str | None) -> None:
    await cycles_api.close_stage(cycle, stage, user, svc, body=None, idem=idem)


async def set_deadline(svc: Services, user: User, cycle: str, stage: str, deadline: str | None, idem: str | None) -> None:
    await cycles_api.set_deadline(cycle, stage, DeadlineIn(deadline=deadline), user, svc, idem=idem)


async def close_session(svc: Services, user: User, cycle: str, cohort: str, idem: str | None) -> None:
    await debrief_api.close(cycle, cohort, user, svc, idem=idem)


async def propose_adjustment(svc: Services, user: User, cycle: str, *, unit: str, kind: str, reason: str,
                             points: str | None, levels: str | None, evidence: str, idem: str | None) -> None:
    body = AdjustmentIn(unit=unit, kind=kind, reason=reason, points=points, levels=levels, evidence=evidence)
    await adjustments_api.propose(cycle, body, user, svc, idem=idem)


async def verify_item(svc: Services, user: User, cycle: str, item: str, decision: str, reason: str, idem: str | None) -> None:
    await rect_api.verify(cycle, item, rect_api.VerifyIn(decision=decision, reason=reason), user, svc, idem=idem)


async def issue_feedback(svc: Services, user: User, cycle: str, unit: str, text: str, idem: str | None) -> None:
    await units_api.issue_feedback(cycle, unit, FeedbackIn(text=text), user, svc, idem=idem)


async def edit_feedback_draft(svc: Services, user: User, cycle: str, unit: str, text: str, idem: str | None) -> None:
    await rect_api.edit_draft(cycle, unit, rect_api.DraftIn(text=text), user, svc, idem=idem)


# ------------------------------------------------------------------ committee commands


async def decide_adjustment(svc: Services, user: User, cycle: str, adjustment: str, decision: str, reason: str,
                            idem: str | None) -> None:
    await adjustments_api.decide(cycle, adjustment, DecisionIn(decision=decision, reason=reason), user, svc, idem)


async def override_grade(svc: Services, user: User, cycle: str, unit: str, grade: str, reason: str, idem: str | None) -> None:
    await cycles_api.override(cycle, OverrideIn(unit=unit, grade=grade, reason=reason), user, svc, idem)


async def resolve_tie(svc: Services, user: User, cycle: str, cohort: str, units: list[str], reason: str,
                      idem: str | None) -> None:
    await cycles_api.resolve_tie(cycle, TieIn(cohort=cohort, units=units, reason=reason), user, svc, idem)


async def approve_allocation(svc: Services, user: User, cycle: str, reason: str, idem: str | None) -> None:
    await cycles_api.approve(cycle, user, svc, Reason(reason=reason), idem)


async def reject_allocation(svc: Services, user: User, cycle: str, reason: str, idem: str | None) -> None:
    await cycles_api.reject(cycle, Reason(reason=reason), user, svc, idem)


# ------------------------------------------------------------------ unit, evaluator and representative commands


async def save_self_review_draft(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, str],
                                 evidence: dict[str, str]) -> None:
    await units_api.save_draft(cycle, unit, SelfReviewIn(scores=scores, evidence=evidence), user, svc)


async def submit_self_review(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, str],
                             evidence: dict[str, str], idem: str | None) -> None:
    await units_api.submit_self_review(cycle, unit, SelfReviewIn(scores=scores, evidence=evidence), user, svc, idem)


async def acknowledge_feedback(svc: Services, user: User, cycle: str, unit: str, idem: str | None) -> None:
    await units_api.acknowledge(cycle, unit, user, svc, idem)


async def upload_evidence(svc: Services, user: User, file: UploadFile) -> dict[str, Any]:
    """One evidence file into the attachment store (the API's role check first, before it is read)."""
    await rect_api.uploader(user)
    return await rect_api.upload(user, svc, file)


async def report_progress(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]],
                          idem: str | None) -> None:
    await rect_api.progress(cycle, item, rect_api.ReportIn(text=text, attachments=attachments), user, svc, idem)


async def submit_completion(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]],
                            idem: str | None) -> None:
    await rect_api.submit(cycle, item, rect_api.ReportIn(text=text, attachments=attachments), user, svc, idem)


async def submit_scoring(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, Any],
                         na_reasons: dict[str, str], comments: dict[str, str], idem: str | None) -> None:
    body = ScoringIn(scores=scores, na_reasons=na_reasons, comments=comments)
    await units_api.submit_scoring(cycle, unit, body, user, svc, idem)


async def cast_ballot(svc: Services, user: User, cycle: str, cohort: str, scores: dict[str, str], category: str | None,
                      idem: str | None) -> None:
    await debrief_api.cast(cycle, cohort, BallotIn(scores=scores, category=category), user, svc, idem)
