"""What the use cases work with: the domain, the workflows' gateway, the read models, accounts,
attachments — wired once by the composition root (``kaohe.runtime``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import anyio.to_thread

from adapters.accounts import Accounts, User
from adapters.attachments import AttachmentStore
from adapters.ballot_codes import BallotCodes
from adapters.scoring_drafts import ScoringDrafts
from adapters.gateway import Gateway
from domain.application import Assessments
from projections.runner import ProjectionRunner
from services.readcache import ReadCache

T = TypeVar("T")


@dataclass
class Services:
    app: Assessments
    gateway: Gateway | None
    runner: ProjectionRunner
    accounts: Accounts
    production: bool = False
    signing_key: str | None = None
    attachments: AttachmentStore | None = None
    read_cache_seconds: float = 5.0
    ballot_codes: BallotCodes | None = None
    scoring_drafts: ScoringDrafts | None = None

    def __post_init__(self) -> None:
        self.reads = ReadCache(self.runner, self.read_cache_seconds)
        if self.attachments is not None and self.attachments.sessions is None and self.accounts is not None:
            self.attachments.bind(self.accounts.engine)  # who uploaded which file, beside the accounts
        if self.ballot_codes is None and self.accounts is not None:
            self.ballot_codes = BallotCodes(self.accounts.engine)  # beside the accounts, in their database
        if self.scoring_drafts is None and self.accounts is not None:
            self.scoring_drafts = ScoringDrafts(self.accounts.engine)  # the evaluators' working copies, likewise

    async def caught_up(self, result: dict[str, Any] | Any) -> None:
        """Wait until the read models include what a command wrote (read-your-writes)."""
        position = result.get("position") if isinstance(result, dict) else getattr(result, "position", None)
        if position:
            await self.runner.until(position, 10.0)  # woken the moment it is applied; holds no thread

    async def cycle_command(self, user: User, key: str, name: str, arg: Any, idem: str | None) -> dict[str, Any]:
        """An update on the cycle's workflow (the use case has checked who may send it), then
        wait for the read models."""
        result = await self.gateway.cycle_update(key, name, arg, command_id(user, idem))
        await self.caught_up(result)
        return result

    async def recorded(self, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run a domain use case in a worker thread (``eventsourcing`` is synchronous), wait for
        the read models, and answer what it recorded."""
        out = (await in_thread(use_case, *args, **kwargs)).to_dict()
        await self.caught_up(out)
        return out


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A blocking call (the event store, the read models) off the event loop."""
    return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


def command_id(user: User, key: str | None) -> str:
    """A command's idempotency key: the client's (scoped to the user) or a new one."""
    return f"{user.username}/{key}" if key is not None else f"{user.username}/{uuid.uuid4()}"
