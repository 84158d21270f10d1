"""What a command answers (``Recorded``), the one idempotency guard, and saving.

Every command carries an idempotency key (``command_id``): a command whose key an aggregate has
already applied stores nothing and succeeds again (``already_recorded``), so activities and HTTP
clients may retry freely. Each use case answers with the log position of what it stored (for
read-your-writes) and what it reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from typing import Any, Callable, Mapping

from eventsourcing.persistence import IntegrityError

from domain.aggregates import Cycle, KaoheAggregate
from domain.application.reading import Loading
from domain.errors import Conflict, InvalidInput
from domain.rules import Actor, Role
from domain import wording

#: The process itself, acting at a deadline or a reminder.
SYSTEM = Actor("system", Role.SYSTEM)


@dataclass
class Recorded:
    """What a command recorded: the last log position it wrote (None if it wrote nothing, as
    when it had been applied already) and what the use case reports (``data``)."""

    position: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"position": self.position, **self.data}


def already_recorded(
    aggregate: KaoheAggregate,
    command_id: str,
    data: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None = None,
) -> Recorded | None:
    """The idempotency guard of every command: if ``aggregate`` has already applied the command
    ``command_id``, the answer to give again — nothing stored (position None) and ``data`` (a
    callable is called only then, for data that costs a lookup); otherwise None, and the use
    case goes on to decide. Use as ``if done := already_recorded(c, command_id): return done``,
    right after loading the aggregate the command writes to and before any rule is checked (a
    retry succeeds even where the rule would now refuse it)."""
    if not aggregate.seen(command_id):
        return None
    given = data() if callable(data) else data
    return Recorded(None, dict(given or {}))


def _once_more_on_collision(use_case: Any) -> Any:
    """Run a use case again if another writer saved the same aggregate between our load and our
    save: the second run sees what the other stored (and refuses a second submission, or finds
    its own command already applied)."""

    @wraps(use_case)
    def run(self: Any, *args: Any, **kwargs: Any) -> Recorded:
        try:
            return use_case(self, *args, **kwargs)
        except IntegrityError:
            return use_case(self, *args, **kwargs)

    return run

class UseCases(Loading):
    """What every use-case mixin stands on: the loading helpers (``Loading``) and saving. The
    ``Application`` they are composed with supplies ``save``, ``repository`` and ``recorder``."""

    def _save(self, *aggregates: Any, **data: Any) -> Recorded:
        recordings = self.save(*aggregates)
        position = max((r.notification.id for r in recordings), default=None)
        for a in aggregates:
            if isinstance(a, Cycle):  # a cycle's step answers with the stages it leaves
                data.setdefault("stages", dict(a.stages))
                data.setdefault("status", a.status)
                data.setdefault("deadlines", dict(a.deadlines))
                break
        return Recorded(position, data)

    def _save_new(self, aggregate: Any, reload: Any, *others: Any, **data: Any) -> Recorded:
        try:
            return self._save(aggregate, *others, **data)
        except IntegrityError:
            # A retry of the same command (or a race with it) created it first.
            existing = reload()
            if done := already_recorded(existing, next(iter(aggregate.command_ids)), data):
                return done
            raise Conflict("already_exists", zh="该记录已存在", en="it already exists") from None


def _strs(values: Mapping[str, Decimal | None]) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in values.items()}

def _texts(value: Any, points: Mapping[str, Any], field: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("invalid_text", zh=f"{wording.field(field)}须为对象", en=f"{wording.field(field, 'en')}: must be an object", field=field)
    out = {}
    for code, text in value.items():
        if code not in points:
            raise InvalidInput("unknown_point", zh=f"未知的评价要点 {code}", en="unknown evaluation point", field=f"{field}.{code}")
        if not isinstance(text, str):
            raise InvalidInput("invalid_text", zh="须为文字", en="must be text", field=f"{field}.{code}")
        if text.strip():
            out[code] = text.strip()
    return out

def _evidence(value: Any, points: Mapping[str, Any]) -> dict[str, str]:
    return _texts(value, points, "evidence")
