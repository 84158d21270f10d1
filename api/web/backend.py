"""Everything the web pages ask of the system, in one file: each read and each command is one small
async function with plain arguments (``svc``, the signed-in ``user``, then the page's values),
calling the service layer (``services/``) — the same use cases, role table and errors as the
JSON API. Queries run in a worker thread. No module under ``api/web/pages/`` imports
``api.routers`` (``tests/test_web_catalogue.py`` and ``tests/test_architecture.py`` check it).
"""

from __future__ import annotations

import time

from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from adapters.accounts import User
from api.deps import download
from domain.rules import check_evaluator_for
from projections.models import UnitRow
from services import Services, inbox, overview, results_use, review, setup
from services import adjustments as adjustments_service
from services import allocation as allocation_service
from services import audit as audit_service
from services import committee as committee_service
from services import debrief as debrief_service
from services import feedback as feedback_service
from services import people as people_service
from services import rectification as rectification_service
from services.permissions import allow, in_scope, may

__all__ = ["may"]  # whether a role may: for what a page shows


def may_open(user: User, action: str) -> None:
    """A page for ``action`` opens only for whom the role table lets take it (403 page otherwise)."""
    allow(user, action)


def require_unit_scope(user: User, unit: str) -> None:
    in_scope(user, unit)


# ------------------------------------------------------------------ reads


async def my_tasks(svc: Services, user: User) -> list[dict[str, Any]]:
    return await run_in_threadpool(inbox.tasks, svc, user)


async def cycles(svc: Services, user: User) -> list[dict[str, Any]]:
    return await run_in_threadpool(setup.cycles, svc, user)


async def cycle(svc: Services, user: User, key: str) -> dict[str, Any]:
    """The cycle with its stages, deadlines and progress, as the API shows it to ``user``."""
    return await run_in_threadpool(setup.cycle, svc, user, key)


async def cycle_record(svc: Services, key: str) -> dict[str, Any]:
    """The cycle's own record (name, status, stages, policy…) without progress: a page's header."""
    return await run_in_threadpool(lambda: setup.cycle_view(setup.cycle_row(svc, key)))


async def units(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await run_in_threadpool(review.units, svc, user, cycle)


async def unit(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any]:
    """One unit in a cycle; the API's unit scope (403 for another unit)."""
    return await run_in_threadpool(review.unit, svc, user, cycle, unit)


async def may_score(svc: Services, user: User, cycle: str, unit: str) -> None:
    """The scoring page opens only for an evaluator who may score this unit (assigned to it, or
    no one assigned; never their own unit): the domain's rule, asked before the form is shown."""
    assigned = (await run_in_threadpool(review.assignments, svc, user, cycle)).get(unit)
    check_evaluator_for(user.actor, unit, assigned)


def unit_name(svc: Services, unit: str) -> str | None:
    """The unit's name in its latest cycle (blocking: call it in a thread)."""
    with svc.runner.sessions() as db:
        return db.scalar(select(UnitRow.name).where(UnitRow.unit == unit).order_by(UnitRow.cycle.desc()).limit(1))


_PEOPLE: dict[int, tuple[float, dict[str, str]]] = {}
#: How long a page may show a display name after it changed (seconds).
PEOPLE_TTL = 10.0


def display_names(svc: Services) -> dict[str, str]:
    """Login → display name for every account (blocking: call it in a thread; cached briefly)."""
    now = time.monotonic()
    hit = _PEOPLE.get(id(svc))
    if hit is not None and now - hit[0] < PEOPLE_TTL:
        return hit[1]
    names = {u.username: u.display_name for u in svc.accounts.list()}
    _PEOPLE[id(svc)] = (now, names)
    return names


async def unit_names(svc: Services, cycle: str) -> dict[str, str]:
    """Unit key → name, for every unit of the cycle."""

    def load() -> dict[str, str]:
        with svc.runner.sessions() as db:
            return {u.unit: u.name for u in db.scalars(select(UnitRow).where(UnitRow.cycle == cycle).order_by(UnitRow.unit))}

    return await run_in_threadpool(load)


async def scheme(svc: Services, cycle: str, cohort: str) -> dict[str, Any] | None:
    """The scheme tree (as stored) the cycle assesses ``cohort`` with, or None."""
    return (await run_in_threadpool(lambda: svc.app.cycle(cycle).schemes)).get(cohort)


async def overview_units(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    """Every unit with its state per step (done, not done, overdue), its items and reminders."""
    return await run_in_threadpool(overview.units, svc, user, cycle)


def progress_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Step → cohort (``""``: all) → done, not done, overdue: of :func:`overview_units`'s rows."""
    return overview.summary(rows)


item_late = overview.item_late


def remindable(unit: dict[str, Any], step: str, stages: dict[str, str]) -> bool:
    """Whether the console offers to remind this unit of this step."""
    return overview.remindable(unit, step, stages)


async def sessions(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await run_in_threadpool(debrief_service.sessions, svc, user, cycle)


async def adjustments(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await run_in_threadpool(adjustments_service.adjustments, svc, user, cycle)


async def items(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await run_in_threadpool(rectification_service.items, svc, user, cycle)


async def carried_items(svc: Services, user: User, cycle: str, unit: str) -> list[dict[str, Any]]:
    return await run_in_threadpool(rectification_service.carried, svc, user, cycle, unit)


async def feedback(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any]:
    return await run_in_threadpool(feedback_service.feedback, svc, user, cycle, unit)


async def allocation(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    return await run_in_threadpool(allocation_service.allocation, svc, user, cycle)


async def results(svc: Services, user: User, cycle: str) -> dict[str, Any]:
    """The published results (a unit user sees only its own row); Conflict before publication."""
    return await run_in_threadpool(allocation_service.results, svc, user, cycle)


async def evidence_file(svc: Services, user: User, sha256: str, name: str | None = None) -> Response:
    """An evidence file, for whoever the API lets read it (the role table, a unit user's own unit);
    saved under ``name`` (the name it was uploaded with) when the page gives it."""
    path = await run_in_threadpool(rectification_service.attachment, svc, user, sha256)
    return FileResponse(path, filename=name or sha256)


async def feedback_docx(svc: Services, user: User, cycle: str, unit: str) -> Response:
    return download(*await run_in_threadpool(feedback_service.letter, svc, user, cycle, unit))


async def document(svc: Services, user: User, builder: str, cycle: str) -> tuple[bytes, str, str]:
    """A document of the cycle (``results``, ``report-docx``…): bytes, media type, file name."""
    return await run_in_threadpool(results_use.document, svc, user, cycle, builder)


# ------------------------------------------------------------------ the auditor's reads


async def audit_timeline(svc: Services, user: User, cycle: str, filters: dict[str, str | None]) -> tuple[list, list, dict[str, Any]]:
    """The whole timeline, the entries the filters keep, and the current digest."""

    def load():
        everything = audit_service.cycle_timeline(svc, user, cycle)
        shown = audit_service.cycle_timeline(svc, user, cycle, unit=filters["unit"], actor=filters["actor"], stage=filters["stage"], event=filters["type"])
        return everything, shown, audit_service.head_digest(svc, user)

    return await run_in_threadpool(load)


async def audit_entries(svc: Services, user: User, cycle: str, filters: dict[str, str | None]) -> list:
    return await run_in_threadpool(lambda: audit_service.cycle_timeline(
        svc, user, cycle, unit=filters["unit"], actor=filters["actor"], stage=filters["stage"], event=filters["type"]))


async def explain_grade(svc: Services, user: User, cycle: str, unit: str) -> Any:
    return await run_in_threadpool(audit_service.explain_grade, svc, user, cycle, unit)


async def whatif(svc: Services, user: User, cycle: str, change: dict[str, Any]) -> dict[str, Any]:
    """The cycle's grades recomputed under its policy with ``change`` laid over; writes nothing."""
    return await run_in_threadpool(audit_service.whatif, svc, user, cycle, change)


async def integrity(svc: Services, user: User) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """The hash-chain check (as a dict and as one line) and the current digest."""

    def check():
        digest = audit_service.head_digest(svc, user)
        report = audit_service.verify_report(svc, user)
        return report.to_dict(), report.line(), digest

    return await run_in_threadpool(check)


async def may_export_bundle(svc: Services, user: User, cycle: str) -> bool:
    return await run_in_threadpool(audit_service.may_export_bundle, svc, user, cycle)


async def export_bundle(svc: Services, user: User, cycle: str, path: Path) -> None:
    await run_in_threadpool(audit_service.export_bundle, svc, user, cycle, path)


# ------------------------------------------------------------------ organizer commands


async def create_cycle(svc: Services, user: User, key: str, year: Any, name: str, policy: dict[str, Any],
                       schemes: dict[str, Any], categories: dict[str, str] | None, idem: str | None) -> None:
    """A form's raw text goes to the domain as typed (a year typed as words is the domain's to word)."""
    await setup.create_cycle(svc, user, key, year, name, policy, schemes, categories, None, idem)


async def evaluator_choices(svc: Services, user: User) -> list[dict[str, Any]]:
    """The evaluators an organizer may assign (username, the unit each belongs to)."""
    return await run_in_threadpool(review.evaluators, svc, user)


async def assignments(svc: Services, user: User, cycle: str) -> dict[str, list[str]]:
    """Unit → its assigned evaluators (a unit not named: every evaluator)."""
    return await run_in_threadpool(review.assignments, svc, user, cycle)


async def assign_evaluators(svc: Services, user: User, cycle: str, unit: str, evaluators: list[str], idem: str | None) -> None:
    await review.assign_evaluators(svc, user, cycle, unit, evaluators, idem)


async def register_units(svc: Services, user: User, cycle: str, units: list[dict[str, Any]], idem: str | None) -> int:
    """The number registered."""
    return int((await setup.register_units(svc, user, cycle, units, idem))["registered"])


async def open_cycle(svc: Services, user: User, cycle: str, idem: str | None) -> None:
    await setup.open_cycle(svc, user, cycle, idem)


async def open_stage(svc: Services, user: User, cycle: str, stage: str, idem: str | None) -> None:
    await setup.open_stage(svc, user, cycle, stage, idem)


async def close_stage(svc: Services, user: User, cycle: str, stage: str, idem: str | None) -> None:
    await setup.close_stage(svc, user, cycle, stage, "", idem)


async def set_deadline(svc: Services, user: User, cycle: str, stage: str, deadline: str | None, idem: str | None) -> None:
    await setup.set_deadline(svc, user, cycle, stage, deadline, idem)


async def close_session(svc: Services, user: User, cycle: str, cohort: str, idem: str | None, reason: str | None = None) -> None:
    await debrief_service.close_session(svc, user, cycle, cohort, idem, reason)


async def debrief_session(svc: Services, user: User, cycle: str, cohort: str) -> dict[str, Any]:
    return await run_in_threadpool(debrief_service.session_view, svc, user, cycle, cohort)


async def set_rosters(svc: Services, user: User, cycle: str, rosters: dict[str, Any], idem: str | None) -> dict[str, Any]:
    return await debrief_service.set_rosters(svc, user, cycle, rosters, idem)


async def ballot_codes_pdf(svc: Services, user: User, cycle: str, cohort: str, base_url: str) -> bytes:
    return await debrief_service.codes_pdf(svc, user, cycle, cohort, base_url)


def file_download(data: bytes, media: str, name: str) -> Response:
    return download(data, media, name)


async def code_ballot(svc: Services, code: str) -> dict[str, Any]:
    return await run_in_threadpool(debrief_service.code_ballot, svc, code)


async def cast_by_code(svc: Services, code: str, scores: dict[str, str]) -> dict[str, Any]:
    return await debrief_service.cast_by_code(svc, code, scores)


async def propose_adjustment(svc: Services, user: User, cycle: str, *, unit: str, kind: str, reason: str,
                             points: str | None, levels: str | None, evidence: str, idem: str | None) -> None:
    await adjustments_service.propose(svc, user, cycle, unit, kind, reason, points, levels, evidence, idem)


async def verify_item(svc: Services, user: User, cycle: str, item: str, decision: str, reason: str, idem: str | None) -> None:
    await rectification_service.verify(svc, user, cycle, item, decision, reason, idem)


async def remind_unit(svc: Services, user: User, cycle: str, unit: str, stage: str, note: str, idem: str | None) -> None:
    await overview.remind(svc, user, cycle, unit, stage, note, idem)


async def issue_feedback(svc: Services, user: User, cycle: str, unit: str, text: str, idem: str | None) -> None:
    await feedback_service.issue(svc, user, cycle, unit, text, idem)


async def edit_feedback_draft(svc: Services, user: User, cycle: str, unit: str, text: str, idem: str | None) -> None:
    await feedback_service.edit_draft(svc, user, cycle, unit, text, idem)


# ------------------------------------------------------------------ committee commands


# Each is a proposal at a meeting (``meeting``: its date and minute number); it takes effect when
# the quorum of committee members has confirmed it. Each answers whether it took effect at once
# (``effective``: a quorum of one).


async def decide_adjustment(svc: Services, user: User, cycle: str, adjustment: str, decision: str, reason: str,
                            idem: str | None, meeting: dict[str, Any] | None = None) -> dict[str, Any]:
    return await adjustments_service.decide(svc, user, cycle, adjustment, decision, reason, idem, **(meeting or {}))


async def override_grade(svc: Services, user: User, cycle: str, unit: str, grade: str, reason: str, idem: str | None,
                         meeting: dict[str, Any] | None = None) -> dict[str, Any]:
    return await allocation_service.override(svc, user, cycle, unit, grade, reason, idem, **(meeting or {}))


async def resolve_tie(svc: Services, user: User, cycle: str, cohort: str, units: list[str], reason: str,
                      idem: str | None, meeting: dict[str, Any] | None = None) -> dict[str, Any]:
    return await allocation_service.resolve_tie(svc, user, cycle, cohort, units, reason, idem, **(meeting or {}))


async def approve_allocation(svc: Services, user: User, cycle: str, reason: str, idem: str | None,
                             meeting: dict[str, Any] | None = None) -> dict[str, Any]:
    return await allocation_service.approve(svc, user, cycle, reason, idem, **(meeting or {}))


async def reject_allocation(svc: Services, user: User, cycle: str, reason: str, idem: str | None,
                            meeting: dict[str, Any] | None = None) -> dict[str, Any]:
    return await allocation_service.reject(svc, user, cycle, reason, idem, **(meeting or {}))


async def proposals(svc: Services, user: User, cycle: str) -> list[dict[str, Any]]:
    return await run_in_threadpool(committee_service.proposals, svc, user, cycle)


async def confirm_proposal(svc: Services, user: User, cycle: str, proposal: str, idem: str | None) -> dict[str, Any]:
    return await committee_service.confirm(svc, user, cycle, proposal, idem)


async def object_proposal(svc: Services, user: User, cycle: str, proposal: str, reason: str, idem: str | None) -> None:
    await committee_service.object_to(svc, user, cycle, proposal, reason, idem)


# ------------------------------------------------------------------ unit, evaluator and representative commands


async def save_self_review_draft(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, str],
                                 evidence: dict[str, str]) -> None:
    await review.save_draft(svc, user, cycle, unit, scores, evidence)


async def submit_self_review(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, str],
                             evidence: dict[str, str], idem: str | None) -> None:
    await review.submit_self_review(svc, user, cycle, unit, scores, evidence, idem)


async def acknowledge_feedback(svc: Services, user: User, cycle: str, unit: str, idem: str | None) -> None:
    await feedback_service.acknowledge(svc, user, cycle, unit, idem)


async def may_upload_evidence(svc: Services, user: User, cycle: str, item: str, files: list[UploadFile]) -> None:
    """Before any file of a report is stored: the role, the item is the user's unit's, at most 20
    files, within the unit's quota."""
    size = sum(f.size or 0 for f in files)
    await run_in_threadpool(rectification_service.may_upload_to, svc, user, cycle, item, len(files), size)


async def upload_evidence(svc: Services, user: User, file: UploadFile) -> dict[str, Any]:
    """One evidence file into the attachment store (who may upload is checked before it is read)."""
    rectification_service.may_upload(user)
    data = await file.read(svc.attachments.max_bytes + 1)
    return await rectification_service.upload(svc, user, file.filename or "file", data)


async def report_progress(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]],
                          idem: str | None) -> None:
    await rectification_service.report_progress(svc, user, cycle, item, text, attachments, idem)


async def submit_completion(svc: Services, user: User, cycle: str, item: str, text: str, attachments: list[dict[str, Any]],
                            idem: str | None) -> None:
    await rectification_service.submit(svc, user, cycle, item, text, attachments, idem)


async def submit_scoring(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, Any],
                         na_reasons: dict[str, str], comments: dict[str, str], idem: str | None) -> None:
    await review.submit_scoring(svc, user, cycle, unit, scores, na_reasons, comments, idem)


async def save_scoring_draft(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, Any],
                             na_reasons: dict[str, str], comments: dict[str, str]) -> dict[str, Any]:
    return await review.save_scoring_draft(svc, user, cycle, unit, scores, na_reasons, comments)


async def scoring_draft(svc: Services, user: User, cycle: str, unit: str) -> dict[str, Any] | None:
    return await review.scoring_draft(svc, user, cycle, unit)


async def cast_ballot(svc: Services, user: User, cycle: str, cohort: str, scores: dict[str, str], category: str | None,
                      idem: str | None) -> None:
    await debrief_service.cast_ballot(svc, user, cycle, cohort, category, scores, idem)


# ------------------------------------------------------------------ accounts: the admin's, and one's own password


async def find_users(svc: Services, user: User, query: str | None, role: str | None, active: bool | None, page: int,
                     per_page: int) -> dict[str, Any]:
    return await run_in_threadpool(people_service.find_users, svc, user, query, role, active, page, per_page)


async def account(svc: Services, user: User, username: str) -> dict[str, Any]:
    return await run_in_threadpool(people_service.account, svc, user, username)


async def create_user(svc: Services, user: User, username: str, role: str, unit: str | None, display_name: str | None,
                      password: str | None, reason: str | None = None) -> tuple[dict[str, Any], str]:
    """The new account and its password (the one typed, or a generated one to show once)."""
    return await people_service.create_user(svc, user, username, role, unit, display_name, password, reason)


async def update_user(svc: Services, user: User, username: str, role: str, unit: str | None, display_name: str | None,
                      reason: str | None = None) -> dict[str, Any]:
    return await people_service.update_user(svc, user, username, role, unit, display_name, reason)


async def set_user_active(svc: Services, user: User, username: str, active: bool, reason: str | None = None) -> dict[str, Any]:
    return await people_service.set_active(svc, user, username, active, reason)


async def reset_password(svc: Services, user: User, username: str, password: str | None, reason: str | None = None) -> str:
    return await people_service.reset_password(svc, user, username, password, reason)


async def import_users(svc: Services, user: User, rows: list[tuple[int, dict[str, Any]]], reason: str | None = None) -> list[dict[str, Any]]:
    """Every account of the sheet with its password, or ``people_service.ImportRefused`` (every bad row) and nothing written."""
    return await people_service.import_users(svc, user, rows, reason)


ImportRefused = people_service.ImportRefused


async def change_own_password(svc: Services, user: User, token: str | None, current: str, new: str, repeated: str) -> None:
    await people_service.change_own_password(svc, user, token, current, new, repeated)
# ------------------------------------------------------------------ checks before a confirmation (nothing stored)


async def check_self_review(svc: Services, user: User, cycle: str, unit: str, scores: dict[str, str]) -> None:
    """Refuse now what submitting this self-review would refuse (before the page asks to confirm it)."""
    await run_in_threadpool(review.check_self_review, svc, user, cycle, unit, scores)


async def check_ballot(svc: Services, user: User, cycle: str, cohort: str, scores: dict[str, str | None]) -> None:
    """Refuse now what casting this sheet would refuse of its scores (before the page asks to confirm it)."""
    await run_in_threadpool(debrief_service.check_ballot, svc, user, cycle, cohort, scores)


async def check_code_ballot(svc: Services, code: str, scores: dict[str, str | None]) -> None:
    await run_in_threadpool(debrief_service.check_code_ballot, svc, code, scores)


# ------------------------------------------------------------------ signing in, the second factor (pages login, totp)

sign_in = people_service.sign_in
second_step = people_service.second_step
totp_begin = people_service.totp_begin
totp_confirm = people_service.totp_confirm
totp_disable = people_service.totp_disable
finish_enrolment = people_service.finish_enrolment


async def pending_user(svc: Services, token: str, step: str) -> User | None:
    """The user of a half-done sign-in's token (``otp`` or ``enrol``), if it is still good."""
    return await run_in_threadpool(svc.accounts.pending, token, step) if token else None


async def second_factor_status(svc: Services, user: User) -> dict[str, Any]:
    accounts = svc.accounts
    enrolled = await run_in_threadpool(accounts.totp_enrolled, user.username)
    left = await run_in_threadpool(accounts.recovery_codes_left, user.username) if enrolled else 0
    return {"enrolled": enrolled, "required": accounts.totp_required(user), "codes_left": left}


async def account_timeline(svc: Services, user: User, account: str | None = None) -> list:
    """The admin's changes to accounts, from the log (the auditor's timeline of accounts)."""
    return await run_in_threadpool(audit_service.account_timeline, svc, user, account)
