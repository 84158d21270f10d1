"""Audit services over the event store: verify the hash chain, hand out (signed) digests,
replay a cycle at a past position or moment, the timeline, explained grades, and a
self-contained bundle that verifies on a machine with no database."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from eventsourcing.persistence import StoredEvent

from domain import grading
from domain.application import Assessments
from domain.audit import (
    ACCOUNT_EVENTS,
    Entry,
    Logged,
    Replay,
    describe,
    explain,
    parse_moment,
    position_at,
    read_log,
    replay,
    timeline,
)
from domain.ballots import BallotView, ballot_view, require_named
from domain.errors import InvalidInput, NotFound
from domain.ledger import GENESIS, Finding, Row, Verification, merge, verify
from domain.policy import parse_policy
from domain.rules import Role
from domain.whatif import whatif_cycle
from projections.models import CycleRow
from reporting.documents.cells import neutralise_row
from services.permissions import allow

DIGEST_FORMAT = "kaohe-digest/1"
BUNDLE_FORMAT = "kaohe-audit-bundle/1"


# ------------------------------------------------------------------ keys and digests


def generate_key() -> tuple[str, str]:
    """A new Ed25519 key pair as base64 (private, public)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes_raw()
    return base64.b64encode(private).decode(), base64.b64encode(key.public_key().public_bytes_raw()).decode()


def _private(b64: str) -> Ed25519PrivateKey:
    if b64.startswith("PRIVATE+KEY+"):  # a signed-note signer key (kaohe audit keygen --name) signs digests too
        from adapters.signednote import parse_signer

        return Ed25519PrivateKey.from_private_bytes(parse_signer(b64.strip()).seed)
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(b64, validate=True))
    except Exception:
        raise InvalidInput("invalid_key", zh="KAOHE_AUDIT_SIGNING_KEY 不是有效的 Ed25519 私钥（base64）", en="not a base64 Ed25519 key", field="KAOHE_AUDIT_SIGNING_KEY") from None


def _public(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except Exception:
        raise InvalidInput("invalid_key", zh="公钥不是有效的 Ed25519 公钥（base64）", en="not a base64 Ed25519 public key", field="public_key") from None


def _message(d: dict[str, Any]) -> bytes:
    return f"{DIGEST_FORMAT}\n{d['position']}\n{d['hash']}\n{d['time']}".encode()


def make_digest(head: tuple[int, str] | None, signing_key: str | None = None) -> dict[str, Any]:
    position, h = head or (0, GENESIS)
    d: dict[str, Any] = {"format": DIGEST_FORMAT, "position": position, "hash": h, "time": datetime.now(timezone.utc).isoformat()}
    if signing_key:
        key = _private(signing_key)
        d["public_key"] = base64.b64encode(key.public_key().public_bytes_raw()).decode()
        d["signature"] = base64.b64encode(key.sign(_message(d))).decode()
    return d


def check_digest(d: Any, public_key: str | None = None) -> dict[str, Any]:
    """A digest's shape and, if signed (or a key is pinned), its signature."""
    if not isinstance(d, dict) or d.get("format") != DIGEST_FORMAT or not isinstance(d.get("position"), int) or not isinstance(d.get("hash"), str):
        raise InvalidInput("invalid_digest", zh="摘要文件格式不对", en="not a Kaohe digest", field="digest")
    if public_key and d.get("public_key") and d["public_key"] != public_key:
        raise InvalidInput("wrong_key", zh="摘要的签名公钥与指定公钥不符", en="the digest was signed by another key", field="digest")
    key = public_key or d.get("public_key")
    if key or d.get("signature"):
        if not (key and d.get("signature")):
            raise InvalidInput("unsigned_digest", zh="摘要缺少签名", en="the digest is not signed", field="digest")
        try:
            _public(key).verify(base64.b64decode(d["signature"]), _message(d))
        except (InvalidSignature, ValueError):
            raise InvalidInput("bad_signature", zh="摘要签名无效：摘要被改动过", en="the digest's signature does not verify", field="digest") from None
    return d


# ------------------------------------------------------------------ verification


@dataclass
class Report:
    verification: Verification
    seconds: float
    digest: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.verification.ok

    @property
    def rate(self) -> float:
        return self.verification.checked / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        v = self.verification
        f = v.finding
        return {
            "ok": v.ok,
            "checked": v.checked,
            "head": {"position": v.head_position, "hash": v.head_hash},
            "events_per_second": round(self.rate),
            "digest": self.digest,
            "finding": None if f is None else {
                "position": f.position, "kind": f.kind, "message": f.message,
                "originator_id": f.originator_id, "version": f.version, "topic": f.topic,
            },
        }

    def line(self) -> str:
        v = self.verification
        if v.ok:
            upto = f"，与摘要（位置 {self.digest['position']}）一致" if self.digest else ""
            return f"完整性校验通过：{v.checked} 个事件{upto}，{self.rate:,.0f} 事件/秒 / the log verifies"
        return f"完整性校验失败 / verification FAILED: {v.finding.message}"


def _against_digest(rows: Iterable[Row], digest: dict[str, Any] | None) -> Iterator[Row]:
    stop = digest["position"] if digest else None
    for row in rows:
        if stop is not None and row.position > stop:
            return
        yield row


def verify_rows(rows: Iterable[Row], digest: dict[str, Any] | None, progress: Callable[[int, int], None] | None = None) -> Report:
    started = time.perf_counter()
    v = verify(_against_digest(rows, digest), progress)
    if v.ok and digest is not None:
        if v.head_position != digest["position"]:
            v.finding = Finding(
                digest["position"], "truncated",
                f"日志在摘要位置 {digest['position']} 之前结束（最后位置 {v.head_position}）：事件被删除 / the log ends before the digest's position",
            )
        elif v.head_hash != digest["hash"]:
            v.finding = Finding(
                digest["position"], "digest_mismatch",
                f"位置 {digest['position']} 的链哈希与摘要不符：日志被整体改写 / the chain at the digest's position differs from the digest: the log was rewritten",
            )
    return Report(v, time.perf_counter() - started, digest)


class Auditor:
    """Reads the live event store (never writes it)."""

    def __init__(self, app: Assessments) -> None:
        self.app = app
        self.recorder = app.recorder

    def head(self) -> tuple[int, str] | None:
        return self.recorder.head()

    def digest(self, signing_key: str | None = None) -> dict[str, Any]:
        return make_digest(self.head(), signing_key)

    def rows(self, stop: int | None = None) -> Iterator[Row]:
        return merge(self.recorder.iter_events(1, stop), self.recorder.iter_links(1, stop))

    def verify(self, digest: dict[str, Any] | None = None, progress: Callable[[int, int], None] | None = None) -> Report:
        return verify_rows(self.rows(digest["position"] if digest else None), digest, progress)

    def links(self, stop: int | None = None) -> dict[int, str]:
        return {p: h for p, h, _ in self.recorder.iter_links(1, stop)}

    # -- replay
    def position(self, position: int | None = None, as_of: datetime | None = None) -> int | None:
        if position is not None and as_of is not None:
            raise InvalidInput("ambiguous_moment", zh="只能指定 --as-of 或 --position 之一", en="give as-of or position, not both", field="as_of")
        if position is not None and position < 0:
            raise InvalidInput("invalid_position", zh="位置不能为负", en="position must be ≥ 0", field="position")
        if as_of is not None:
            return position_at(self.app, as_of)
        return position

    def replay(self, cycle: str, position: int | None = None, as_of: datetime | None = None) -> dict[str, Any]:
        stop = self.position(position, as_of)
        r = replay(self.app, stop)
        state = r.cycle_state(cycle)
        allocation = r.allocation(cycle)
        return {
            "state": state,
            "results": grading.results_document(cycle, allocation),
            "problems": allocation.problems(),
        }

    def timeline(self, cycle: str, *, unit: str | None = None, actor: str | None = None, stage: str | None = None,
                 event: str | None = None) -> list[Entry]:
        links = self.links()
        out = []
        known = False
        for e in timeline(read_log(self.app), links):
            if e.cycle != cycle:
                continue
            known = True
            if unit and e.unit != unit:
                continue
            if actor and e.actor != actor:
                continue
            if stage and e.stage != stage:
                continue
            if event and e.event != event:
                continue
            out.append(e)
        if not known:
            raise NotFound("cycle_not_found", zh=f"考核周期 {cycle} 不存在", en="no such cycle", field="cycle")
        return out

    def account_timeline(self, account: str | None = None) -> list[Entry]:
        """Every change to an account (created, role or unit, password reset, deactivated,
        reactivated), oldest first; of one account with ``account``."""
        links = self.links()
        return [e for e in timeline(read_log(self.app), links)
                if e.event in ACCOUNT_EVENTS and (account is None or e.account == account)]

    def explain(self, cycle: str, unit: str, position: int | None = None, role: str = Role.AUDITOR) -> dict[str, Any]:
        """A unit's grade explained as ``role`` may read it (the ballots named for the auditor,
        and for everyone when the cycle's ballot is not secret)."""
        r = replay(self.app, position)
        return explain(r, cycle, unit, self.links(position), role)

    # -- what if
    def whatif(self, cycle: str, change: Any, position: int | None = None) -> dict[str, Any]:
        """The cycle's grades recomputed from its events under its policy with ``change`` laid
        over (``domain.whatif``); reads the log, writes nothing."""
        r = replay(self.app, position)
        return {**whatif_cycle(r, cycle, change), "position": r.position}

    # -- bundle
    def export(self, cycle: str, out: Path, signing_key: str | None = None, role: str = Role.AUDITOR) -> dict[str, Any]:
        r = replay(self.app)
        c = r.cycle(cycle)
        # The bundle holds every event as stored, ballot sheets with their representatives: it
        # cannot leave them out and still verify, so under a secret ballot it is the auditor's.
        require_named(role, parse_policy(c.policy).secret_ballot, "审计包", "the audit bundle")
        head = self.head()
        digest = make_digest(head, signing_key)
        results = grading.results_document(cycle, r.allocation(cycle))
        manifest = {"format": BUNDLE_FORMAT, "cycle": cycle, "created_at": digest["time"], "position": digest["position"]}
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
            with z.open("events.jsonl", "w") as f:
                for pos, oid, ver, topic, state in self.recorder.iter_events(1, digest["position"]):
                    f.write((json.dumps({"position": pos, "originator_id": oid, "version": ver, "topic": topic,
                                         "state": base64.b64encode(state).decode()}) + "\n").encode())
            with z.open("chain.jsonl", "w") as f:
                for pos, h, prev in self.recorder.iter_links(1, digest["position"]):
                    f.write((json.dumps({"position": pos, "hash": h, "prev_hash": prev}) + "\n").encode())
            z.writestr("digest.json", json.dumps(digest, indent=1))
            z.writestr("cycle.json", json.dumps({"key": cycle, "name": c.name, "year": c.year, "policy": c.policy,
                                                 "categories": c.categories, "schemes": c.schemes}, ensure_ascii=False, indent=1))
            z.writestr("results.json", json.dumps(results, ensure_ascii=False, indent=1))
        return manifest


def _bundle_rows(z: zipfile.ZipFile) -> tuple[list[tuple], list[tuple]]:
    events = [
        (d["position"], d["originator_id"], d["version"], d["topic"], base64.b64decode(d["state"]))
        for d in map(json.loads, z.read("events.jsonl").decode().splitlines())
    ]
    links = [(d["position"], d["hash"], d["prev_hash"]) for d in map(json.loads, z.read("chain.jsonl").decode().splitlines())]
    return events, links


def verify_bundle(path: Path, public_key: str | None = None) -> dict[str, Any]:
    """Check a bundle with no database: its chain, its digest, and its results by replay."""
    try:
        z = zipfile.ZipFile(path)
        manifest = json.loads(z.read("manifest.json"))
        if manifest.get("format") != BUNDLE_FORMAT:
            raise ValueError("format")
        digest = check_digest(json.loads(z.read("digest.json")), public_key)
        events, links = _bundle_rows(z)
        claimed = json.loads(z.read("results.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        raise InvalidInput("invalid_bundle", zh=f"{path} 不是有效的审计包", en="not a Kaohe audit bundle", field="bundle") from None
    report = verify_rows(merge(iter(events), iter(links)), digest)
    out: dict[str, Any] = {"chain": report.to_dict(), "cycle": manifest["cycle"], "results_match": False}
    if report.ok:
        decoder = Assessments(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
        log = (
            Logged(pos, decoder.mapper.to_domain_event(StoredEvent(UUID(oid), ver, topic, state)))
            for pos, oid, ver, topic, state in events
        )
        r = Replay(log)
        replayed = grading.results_document(manifest["cycle"], r.allocation(manifest["cycle"]))
        out["results"] = replayed
        out["results_match"] = replayed == claimed
    return out


# ------------------------------------------------------------------ exports


def to_jsonl(entries: list[Entry]) -> str:
    return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in entries)


def to_csv(entries: list[Entry]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["position", "at", "event", "what", "actor", "role", "cycle", "unit", "stage", "reason", "old", "new", "command_id", "hash"])
    for e in entries:  # a reason or name a spreadsheet would run as a formula is written as text
        w.writerow(neutralise_row([e.position, e.at, e.event, e.what, e.actor, e.role, e.cycle, e.unit or "", e.stage or "", e.reason,
                    "" if e.old is None else json.dumps(e.old, ensure_ascii=False),
                    "" if e.new is None else json.dumps(e.new, ensure_ascii=False), e.command_id, e.hash or ""]))
    return "\ufeff" + buf.getvalue()  # BOM: Excel/WPS open UTF-8 CSV correctly


def to_text(entries: list[Entry]) -> str:
    return "".join(f"#{e.position} {describe(e)}\n" for e in entries)


# ------------------------------------------------------------------ the doors' use cases
# Auditors, the organizer and the committee read the audit trail; nothing here writes.


def head_digest(svc: Any, user: Any) -> dict[str, Any]:
    allow(user, "audit.read")
    return Auditor(svc.app).digest(svc.signing_key)


def verify_report(svc: Any, user: Any) -> Report:
    allow(user, "audit.read")
    return Auditor(svc.app).verify()


def verify_log(svc: Any, user: Any) -> dict[str, Any]:
    allow(user, "audit.read")
    return Auditor(svc.app).verify().to_dict()


def replay_cycle(svc: Any, user: Any, cycle: str, position: int | None = None, as_of: str | None = None) -> dict[str, Any]:
    allow(user, "audit.read")
    return Auditor(svc.app).replay(cycle, position, parse_moment(as_of))


def cycle_timeline(svc: Any, user: Any, cycle: str, *, unit: str | None = None, actor: str | None = None,
                   stage: str | None = None, event: str | None = None) -> list[Entry]:
    allow(user, "audit.read")
    return Auditor(svc.app).timeline(cycle, unit=unit, actor=actor, stage=stage, event=event)


def account_timeline(svc: Any, user: Any, account: str | None = None) -> list[Entry]:
    """The admin's changes to accounts, from the log (who, when, why)."""
    allow(user, "audit.read")
    return Auditor(svc.app).account_timeline(account)


def explain_grade(svc: Any, user: Any, cycle: str, unit: str, position: int | None = None) -> dict[str, Any]:
    allow(user, "audit.read")
    return Auditor(svc.app).explain(cycle, unit, position, user.role)


def whatif(svc: Any, user: Any, cycle: str, change: Any) -> dict[str, Any]:
    """What the cycle's grades would be under another policy (a partial policy over the
    recorded one): every unit before and after, the changed ones and why. Writes nothing."""
    allow(user, "audit.read")
    return Auditor(svc.app).whatif(cycle, change)


def may_export_bundle(svc: Any, user: Any, cycle: str) -> bool:
    """Whether ``user`` may take the cycle's bundle (under a secret ballot: the auditor only)."""
    allow(user, "audit.read")
    with svc.runner.sessions() as db:
        row = db.get(CycleRow, cycle)
        if row is None:
            raise NotFound("cycle_not_found", zh=f"考核周期 {cycle} 不存在", en="no such cycle", field="cycle")
        secret = parse_policy(row.policy).secret_ballot
    return ballot_view(user.role, secret) is BallotView.NAMED


def export_bundle(svc: Any, user: Any, cycle: str, out: Path) -> dict[str, Any]:
    allow(user, "audit.read")
    return Auditor(svc.app).export(cycle, out, svc.signing_key, user.role)
