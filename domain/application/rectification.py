"""Rectification items (整改事项): created, reported on, submitted, verified and closed or sent
back, reminded, overdue, carried into the next cycle.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from domain import rules
from domain.aggregates import RectificationItem, rectification_id
from domain.application.recording import SYSTEM, Recorded, UseCases, already_recorded
from domain.errors import InvalidInput
from domain.rules import Actor, Decision, RectificationStatus, Role, require_role
from domain.scheme import parse_scheme


class Rectification(UseCases):
    """Stage 8 (SPEC §3)."""

    def create_rectification(
        self, cycle: str, unit: Any, point: Any, description: Any, deadline: Any, actor: Actor, command_id: str
    ) -> Recorded:
        c = self.cycle(cycle)
        key = rectification_id(cycle, command_id, 0)
        if done := already_recorded(
            c, command_id, lambda: {"items": [{"id": str(key), "unit": unit, "deadline": self.rectification(str(key)).deadline}]}
        ):
            return done
        text = rules.check_create_rectification(c.status, actor, description)
        if unit not in c.units:
            raise InvalidInput("unknown_unit", zh=f"单位 {unit} 不在本周期", en="unknown unit", field="unit")
        if point is not None:
            scheme = parse_scheme(c.schemes[c.units[unit]["org_type"]])
            if point not in scheme.point_max:
                raise InvalidInput("unknown_point", zh=f"未知的评价要点 {point}", en="unknown evaluation point", field="point")
        if deadline is None:
            due = (datetime.now(timezone.utc) + timedelta(days=rules.RECTIFICATION_DAYS)).isoformat()
        else:
            due = rules.parse_deadline(deadline, "deadline")
        item = RectificationItem(
            cycle=cycle, unit=unit, point=point, description=text, deadline=due, source="manual", index=0,
            actor=actor.user, role=actor.role, command_id=command_id,
        )
        c.file_rectification(item=str(item.id), unit=unit, actor=actor.user, role=actor.role, command_id=command_id)
        out = self._save_new(item, lambda: self.rectification(str(item.id)), c)
        out.data["items"] = [{"id": str(item.id), "unit": unit, "deadline": due}]
        return out

    def report_rectification(self, item: str, text: Any, attachments: Any, actor: Actor, command_id: str, final: bool = False) -> Recorded:
        it = self.rectification(item)
        if done := already_recorded(it, command_id, {"status": it.status}):
            return done
        body = rules.check_report(actor, it.unit, it.status, text)
        files = rules.parse_attachments(attachments)
        if final:
            it.submit(text=body, attachments=files, actor=actor.user, role=actor.role, command_id=command_id)
        else:
            it.report_progress(text=body, attachments=files, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(it, status=it.status)

    def submit_rectification(self, item: str, text: Any, attachments: Any, actor: Actor, command_id: str) -> Recorded:
        return self.report_rectification(item, text, attachments, actor, command_id, final=True)

    def verify_rectification(self, item: str, decision: Any, reason: Any, actor: Actor, command_id: str) -> Recorded:
        it = self.rectification(item)
        if done := already_recorded(it, command_id, {"status": it.status}):
            return done
        rules.check_verify(actor, it.status)
        decision = rules.check_decision(decision, reason)
        why = reason.strip() if isinstance(reason, str) else ""
        if decision == Decision.APPROVE:
            it.close(reason=why, actor=actor.user, role=actor.role, command_id=command_id)
        else:
            it.send_back(reason=why, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(it, status=it.status)

    def remind_rectification(self, item: str, days_left: int, command_id: str) -> Recorded:
        it = self.rectification(item)
        if done := already_recorded(it, command_id, {"status": it.status}):
            return done
        if it.status == RectificationStatus.CLOSED:
            return Recorded(None, {"status": it.status})
        it.remind(days_left=days_left, actor=SYSTEM.user, role=SYSTEM.role, command_id=command_id)
        return self._save(it, status=it.status)

    def rectification_overdue(self, item: str, command_id: str) -> Recorded:
        it = self.rectification(item)
        if done := already_recorded(it, command_id, {"status": it.status}):
            return done
        if it.status == RectificationStatus.CLOSED:
            return Recorded(None, {"status": it.status})
        it.mark_overdue(deadline=it.deadline, actor=SYSTEM.user, role=SYSTEM.role, command_id=command_id)
        return self._save(it, status=it.status)

    def carry_over(self, cycle: str, items: Any, actor: Actor, command_id: str) -> Recorded:
        """Items still open for this cycle's units are carried into it (listed in their self-review).
        The organizer's: it happens when they open the cycle."""
        require_role(actor, Role.ORGANIZER)
        c = self.cycle(cycle)
        touched = []
        for key in items or []:
            it = self.rectification(key)
            if it.seen(command_id) or it.status == RectificationStatus.CLOSED or it.cycle == cycle or it.unit not in c.units:
                continue
            it.carry_over(to_cycle=cycle, actor=actor.user, role=actor.role, command_id=command_id)
            touched.append(it)
        return self._save(*touched, carried=[str(t.id) for t in touched]) if touched else Recorded(None, {"carried": []})
