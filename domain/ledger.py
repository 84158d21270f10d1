"""The hash chain over the event log (tamper evidence), as pure functions.

Each stored event is linked to the one before it in the log's global order:

    hash_n = SHA-256( prev_hash ‖ canonical(position, originator_id, version, topic, SHA-256(state)) )

with ``prev_hash`` of the first event = 64 zeros. Whoever changes, deletes, inserts or
reorders a stored event must rewrite every later link; a digest of the head (position, hash)
kept outside the system exposes that too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Iterator

GENESIS = "0" * 64


def link(prev_hash: str, position: int, originator_id: str, version: int, topic: str, state: bytes) -> str:
    """The chain hash of one event (hex). ``originator_id`` is the UUID's 32-char hex."""
    body = f"{position}\x1f{originator_id}\x1f{version}\x1f{topic}\x1f".encode() + hashlib.sha256(state).digest()
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


@dataclass(frozen=True)
class Row:
    """One position of the log as verification sees it: the event (if present) and its link (if present)."""

    position: int
    originator_id: str | None
    version: int | None
    topic: str | None
    state: bytes | None
    hash: str | None
    prev_hash: str | None


@dataclass(frozen=True)
class Finding:
    position: int
    kind: str  # changed | deleted | inserted | reordered | broken_link | digest_mismatch | truncated
    message: str
    originator_id: str | None = None
    version: int | None = None
    topic: str | None = None


@dataclass
class Verification:
    checked: int = 0
    head_position: int = 0
    head_hash: str = GENESIS
    finding: Finding | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None


def verify(rows: Iterable[Row], progress=None) -> Verification:
    """Recompute the chain over ``rows`` (in position order) and stop at the first break."""
    result = Verification()
    prev = GENESIS
    for row in rows:
        if row.state is None:
            result.finding = Finding(
                row.position, "deleted",
                f"位置 {row.position} 的事件已被删除（链上仍有其记录）/ the event at position {row.position} was deleted",
            )
            return result
        where = f"位置 {row.position}（{row.topic} v{row.version}）"
        if row.hash is None:
            result.finding = Finding(
                row.position, "inserted",
                f"{where} 的事件不在哈希链上：被插入 / the event at position {row.position} is not on the chain: inserted",
                row.originator_id, row.version, row.topic,
            )
            return result
        if row.prev_hash != prev:
            result.finding = Finding(
                row.position, "deleted",
                f"{where} 之前的事件缺失或被改动：链接断开 / the chain breaks before position {row.position}: an earlier event was deleted",
                row.originator_id, row.version, row.topic,
            )
            return result
        expected = link(prev, row.position, row.originator_id, row.version, row.topic, row.state)
        if expected != row.hash:
            result.finding = Finding(
                row.position, "changed",
                f"{where} 的事件内容与哈希链不符：被篡改或调换 / the event at position {row.position} does not match its link: changed or swapped",
                row.originator_id, row.version, row.topic,
            )
            return result
        prev = row.hash
        result.checked += 1
        result.head_position = row.position
        result.head_hash = row.hash
        if progress is not None and result.checked % 10000 == 0:
            progress(result.checked, row.position)
    return result


def merge(events: Iterator[tuple], links: Iterator[tuple]) -> Iterator[Row]:
    """Join two position-ordered streams — events ``(position, id, version, topic, state)``
    and links ``(position, hash, prev_hash)`` — into rows, keeping positions present in only one."""
    e = next(events, None)
    lk = next(links, None)
    while e is not None or lk is not None:
        if lk is None or (e is not None and e[0] < lk[0]):
            yield Row(e[0], e[1], e[2], e[3], e[4], None, None)
            e = next(events, None)
        elif e is None or lk[0] < e[0]:
            yield Row(lk[0], None, None, None, None, lk[1], lk[2])
            lk = next(links, None)
        else:
            yield Row(e[0], e[1], e[2], e[3], e[4], lk[1], lk[2])
            e = next(events, None)
            lk = next(links, None)
