"""The answers of the busiest read routes, kept while the read models stay where they are.

Read models change only when the projection runner applies events, and the runner knows the
log position the read models include (``ProjectionRunner.applied``, no query). An answer
computed at position P is served again, as the same JSON bytes, for as long as the read models
are still at P — at most ``ttl`` seconds, because some answers also depend on the clock (an
inbox task becomes overdue). Nothing is served that is older than what the read models show:
read-your-writes holds (a write settles at a position ≥ its own, and an answer cached at an
earlier position is not used), and a query that fails (404, 403) is never cached. Requests
that arrive while the same answer is being computed at the same position share that
computation (and its error, if it fails).

The key names everything an answer depends on besides the read models: the route's
arguments and, where the answer differs by person, the user, role and unit.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Hashable

import anyio.to_thread


class ReadCache:
    def __init__(self, runner: Any, ttl: float = 5.0, size: int = 4096) -> None:
        self.runner = runner
        self.ttl = ttl
        self.size = size
        self._entries: dict[Hashable, tuple[int, float, bytes]] = {}
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, tuple[int, asyncio.Future]] = {}  # event-loop only
        self.hits = 0
        self.misses = 0
        self.shared = 0

    async def respond(self, key: Hashable, compute: Callable[[], Any]) -> bytes:
        """``compute()`` (run in a worker thread) as JSON bytes, or its answer kept from the same
        read-model position."""
        position = self.runner.applied  # before computing: the answer includes at least this
        hit = self._entries.get(key)
        if self.ttl > 0 and hit is not None and hit[0] == position and time.monotonic() < hit[1]:
            self.hits += 1
            return hit[2]
        flight = self._inflight.get(key)
        if flight is not None and flight[0] == position:
            # The same answer at the same position is being computed: share it. After each event
            # every kept answer is stale at once, and 50 readers would otherwise compute the same
            # one 50 times in the threads the writes need too.
            self.shared += 1
            return await asyncio.shield(flight[1])
        self.misses += 1
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        mine = (position, fut)
        self._inflight[key] = mine
        try:
            body = await anyio.to_thread.run_sync(lambda: _json(compute()))
        except BaseException as err:
            fut.set_exception(err)
            fut.exception()  # those sharing it raise it too; nobody else need look
            raise
        else:
            fut.set_result(body)
        finally:
            if self._inflight.get(key) is mine:
                del self._inflight[key]
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) >= self.size:
                    for old in list(self._entries)[: self.size // 4]:  # the oldest quarter
                        del self._entries[old]
                self._entries[key] = (position, time.monotonic() + self.ttl, body)
        return body


def _json(value: Any) -> bytes:
    # The views are plain dicts and lists of str, numbers and None already; only the rare other
    # value (a datetime, a Decimal) is converted. Walking every answer with FastAPI's
    # jsonable_encoder cost a fifth of a read's interpreter time.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_other).encode("utf-8")


def _other(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON: {type(value).__name__}")
