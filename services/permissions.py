"""Who may do what: the one table every door is checked against (SPEC §1).

Each use case of the service layer names its action here and calls :func:`allow` first. A
unit user acts for their own unit only (:func:`in_scope`). The separation of duties that depends
on the case itself — the proposer of an adjustment does not decide it, a committee member
attached to a unit abstains, an evaluator does not score twice — is the domain's
(``domain/rules.py``), checked where the decision is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import wording
from domain.errors import Bilingual, Forbidden, halves
from domain.rules import ROLES

ORGANIZER, EVALUATOR, UNIT, REPRESENTATIVE, COMMITTEE, AUDITOR, ADMIN = ROLES
EVERYONE = ROLES
READERS = (ORGANIZER, COMMITTEE, AUDITOR)  # of reports, documents, the audit trail
#: The admin keeps the accounts, and sees accounts, not assessment data: no unit's scores,
#: ballots, adjustments, results or rectification items (ASVS V4: least privilege).
ASSESSMENT_READERS = (ORGANIZER, COMMITTEE, AUDITOR, UNIT)


@dataclass(frozen=True)
class Rule:
    roles: tuple[str, ...]
    #: What a refused caller is told; by default, which roles may do it.
    refusal: str | None = None

    def message(self) -> Bilingual:
        """What the refused caller reads, in both languages (roles by name, never their keys)."""
        if self.refusal:
            return Bilingual(*halves(self.refusal))
        return Bilingual(f"此操作须由{wording.roles(self.roles)}执行", f"this needs {wording.roles(self.roles, 'en')}")


def _everyone_but(*roles: str, refusal: str) -> Rule:
    return Rule(tuple(r for r in ROLES if r not in roles), refusal)


#: action → who may take it. Grouped as the service layer is, by stage.
TABLE: dict[str, Rule] = {
    # setup: cycles, units, stages, deadlines
    "cycle.create": Rule((ORGANIZER,)),
    "cycle.read": Rule(EVERYONE),
    "units.register": Rule((ORGANIZER,)),
    "cycle.open": Rule((ORGANIZER,)),
    "stage.open": Rule((ORGANIZER,)),
    "stage.close": Rule((ORGANIZER,)),
    "deadline.set": Rule((ORGANIZER,)),
    "cycle.close": Rule((ORGANIZER,)),
    # the organizer's overview: who is done, who is not, who is overdue; reminders (催办)
    "overview.read": Rule((ORGANIZER,)),
    "unit.remind": Rule((ORGANIZER,)),
    # self-review and scoring
    "units.read": _everyone_but(REPRESENTATIVE, ADMIN, refusal="参会代表请使用述职评议页面；系统管理员只管理账号 / "
                                                             "representatives use the debrief pages; the admin keeps accounts only"),
    "self_review.save_draft": Rule((UNIT,)),
    "self_review.submit": Rule((UNIT,)),
    "scoring.submit": Rule((EVALUATOR,)),
    "scoring.save_draft": Rule((EVALUATOR,)),  # the evaluator's own working copy of a sheet (not an event)
    "evaluators.assign": Rule((ORGANIZER,)),  # which evaluators score a unit (default: all)
    # debrief
    "debrief.read": _everyone_but(UNIT, ADMIN, refusal="单位用户和系统管理员不能查看述职评议 / unit users and the admin cannot see ballots"),
    "ballot.cast": Rule((REPRESENTATIVE,)),
    "session.close": Rule((ORGANIZER,)),
    "roster.read": Rule((ORGANIZER, AUDITOR, COMMITTEE)),  # a session's roster, who has cast (not what), turnout
    "roster.set": Rule((ORGANIZER,)),
    "ballot_codes.issue": Rule((ORGANIZER,)),  # the one-time ballot codes and their printable sheet
    # adjustments: bonus points, downgrades, vetoes
    "adjustments.read": Rule(ASSESSMENT_READERS, "您的角色不能查看加分与降档 / your role cannot read adjustments"),
    "adjustment.propose": Rule((ORGANIZER,)),
    "adjustment.decide": Rule((COMMITTEE,)),
    # the grade allocation and the results
    "allocation.read": Rule((COMMITTEE, ORGANIZER, AUDITOR)),
    "allocation.decide": Rule((COMMITTEE,)),  # ties, overrides, approving or sending back
    "oversight.read": Rule((COMMITTEE, ORGANIZER, AUDITOR)),  # the committee's pages: adjustments, allocation
    # the committee decides as a body: proposals at a meeting, confirmed by the quorum
    "proposals.read": Rule((COMMITTEE, ORGANIZER, AUDITOR)),
    "decision.confirm": Rule((COMMITTEE,)),
    "decision.object": Rule((COMMITTEE,)),  # the committee's pages: adjustments, allocation
    "results.read": Rule(ASSESSMENT_READERS, "您的角色不能查看考核结果 / your role cannot read results"),
    # feedback
    "feedback.read": Rule((ORGANIZER, AUDITOR, UNIT, COMMITTEE), "您的角色不能查看反馈 / your role cannot read feedback"),
    "feedback.edit_draft": Rule((ORGANIZER,)),
    "feedback.issue": Rule((ORGANIZER,)),
    "feedback.acknowledge": Rule((UNIT,)),
    "feedback.download": Rule(READERS + (UNIT,), "您的角色不能下载反馈 / your role cannot download feedback"),
    # rectification items
    "rectification.read": Rule(ASSESSMENT_READERS, "您的角色不能查看整改事项 / your role cannot read rectification items"),
    "rectification.carried.read": Rule(ASSESSMENT_READERS, "您的角色不能查看整改事项 / your role cannot read rectification items"),
    "rectification.create": Rule((ORGANIZER,)),
    "rectification.report": Rule((UNIT,)),
    "rectification.verify": Rule((ORGANIZER,)),
    "attachment.upload": Rule((UNIT, ORGANIZER)),
    "attachment.read": Rule((UNIT, ORGANIZER, COMMITTEE, AUDITOR), "您的角色不能下载材料 / your role cannot download evidence"),
    # the special report and the use of results
    "reports.read": Rule(READERS),
    "report.suggest": Rule((ORGANIZER,)),
    "results_use.set": Rule((ORGANIZER,)),
    "business_grades.import": Rule((ORGANIZER,)),
    "trend.read": Rule(READERS + (UNIT,), "您的角色不能查看 / your role cannot read this"),
    # audit
    "audit.read": Rule((AUDITOR, ORGANIZER, COMMITTEE)),
    # people
    "users.read": Rule((ADMIN, ORGANIZER, AUDITOR)),
    "users.write": Rule((ADMIN,)),
    "tasks.read": Rule(EVERYONE),
}


def may(user: Any, action: str) -> bool:
    return user.role in TABLE[action].roles


def allow(user: Any, action: str, unit: str | None = None) -> None:
    """Refuse (403) unless the user's role may take ``action``; with ``unit``, a unit user must
    also be of that unit."""
    rule = TABLE[action]
    if user.role not in rule.roles:
        raise Forbidden("forbidden", rule.message())
    if unit is not None:
        in_scope(user, unit)


def in_scope(user: Any, unit: str) -> None:
    """A unit user sees and acts for their own unit only."""
    if user.role == UNIT and user.unit != unit:
        raise Forbidden("forbidden", zh=f"您只能查看和操作本单位（{user.unit}）的内容", en="you may see only your own unit")
