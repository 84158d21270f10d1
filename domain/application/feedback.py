"""Feedback to each unit: edited from its draft, issued (opening a rectification item per problem
it names), acknowledged by the unit.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from domain import rules
from domain.aggregates import RectificationItem, rectification_id
from domain.application.recording import Recorded, UseCases, _once_more_on_collision, already_recorded
from domain.decimals import to_decimal
from domain.policy import parse_policy
from domain.report import problem_finding, share_words
from domain.rules import Actor


class Feedback(UseCases):
    """Stage 7 (SPEC §3)."""

    def issue_feedback(self, cycle: str, unit: str, text: Any, actor: Actor, command_id: str) -> Recorded:
        """Issue the unit's feedback (the draft's text unless edited) and open a rectification
        item for each problem the draft names, due in ``RECTIFICATION_DAYS``."""
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id, lambda: {"items": self._items_of(cycle, command_id)}):
            return done
        c = self.cycle_to_read(cycle)
        draft = ua.feedback_draft or {}
        if not (isinstance(text, str) and text.strip()):
            text = draft.get("text", "")
        rules.check_issue_feedback(c.stages, actor, ua.feedback_status, text)
        ua.issue_feedback(text=text.strip(), actor=actor.user, role=actor.role, command_id=command_id)
        deadline = (datetime.now(timezone.utc) + timedelta(days=rules.RECTIFICATION_DAYS)).isoformat()
        items = []
        # A draft made before the policy's rectification_share listed the five lowest points,
        # however high: only those below the cycle's share become items, worded as found.
        share = parse_policy(c.policy).rectification_share
        required = share_words(share)
        problems = [
            {**p, "required": p.get("required") or required}
            for p in draft.get("problems", [])
            if to_decimal(p.get("score"), "score") < share * to_decimal(p.get("max"), "max")
        ]
        for i, problem in enumerate(problems):
            description = f"{problem.get('code')} {problem_finding(problem)}"
            if problem.get("comment"):
                description += f"；评价意见：{problem['comment']}"
            item = RectificationItem(
                cycle=cycle, unit=unit, point=problem.get("code"), description=description[:2000], deadline=deadline,
                source="feedback", index=i, actor=actor.user, role=actor.role, command_id=command_id,
            )
            items.append(item)
        # The cycle aggregate is left alone here: units' feedback is issued concurrently.
        out = self._save(ua, *items)
        out.data["items"] = [{"id": str(i.id), "unit": unit, "deadline": i.deadline} for i in items]
        return out

    def _items_of(self, cycle: str, command_id: str) -> list[dict[str, Any]]:
        out = []
        for i in range(100):
            key = rectification_id(cycle, command_id, i)
            if key not in self.repository:
                break
            item = self.repository.get(key)
            out.append({"id": str(key), "unit": item.unit, "deadline": item.deadline})
        return out

    def edit_feedback_draft(self, cycle: str, unit: str, text: Any, actor: Actor, command_id: str) -> Recorded:
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id):
            return done
        c = self.cycle(cycle)
        rules.check_issue_feedback(c.stages, actor, ua.feedback_status, text)
        draft = dict(ua.feedback_draft or {})
        draft["text"] = rules.check_text(text, "text", 20000, "反馈内容")
        ua.draft_feedback(draft=draft, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua)

    def acknowledge_feedback(self, cycle: str, unit: str, actor: Actor, command_id: str) -> Recorded:
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id):
            return done
        rules.check_acknowledge(actor, unit, ua.feedback_status)
        ua.acknowledge_feedback(actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua)

    @_once_more_on_collision
    def remind_unit(self, cycle: str, unit: str, stage: Any, note: Any, open_items: int, actor: Actor, command_id: str) -> Recorded:
        """The organizer reminds (催办) a unit of a step it has not taken (``open_items``: its
        rectification items not closed, as the read models count them). A retry with the same
        key records nothing twice."""
        ua = self.unit(cycle, unit)
        if done := already_recorded(ua, command_id, {"unit": unit, "stage": stage}):
            return done
        c = self.cycle_to_read(cycle)
        stage = rules.check_remind(c.stages, actor, stage, ua.self_review_status, ua.feedback_status, open_items)
        text = rules.check_text(note, "note", 500, "催办说明") if isinstance(note, str) and note.strip() else ""
        ua.remind(stage=stage, note=text, actor=actor.user, role=actor.role, command_id=command_id)
        return self._save(ua, unit=unit, stage=stage)
