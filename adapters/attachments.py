"""Evidence files, stored content-addressed (SHA-256) under the data dir; the hashes go into the
events, so the audit trail covers the files. Size and type are limited.

Who uploaded a file is recorded beside the accounts (``attachment_uploads``: the file's hash,
the unit it was uploaded for, by whom, its size): a unit may cite, and so read, only a file
uploaded for it — knowing a hash is not enough (ASVS V4.2: access by reference, not by a
guessable or leaked name) — and a unit's files together stay within its quota
(``KAOHE_ATTACHMENT_QUOTA_BYTES``). Several API replicas must share the storage directory
(a volume, ``deploy/``): each sees the files the others stored."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Engine, String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from adapters.accounts import AccountBase
from domain.errors import Conflict, InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024
#: A unit's evidence files together, by default (``KAOHE_ATTACHMENT_QUOTA_BYTES``).
QUOTA_BYTES = 200 * 1024 * 1024
#: Who uploads with no unit (the organizer) is recorded under this owner.
NO_UNIT = ""


class UploadRow(AccountBase):
    """A file uploaded for an owner (a unit's key; ``NO_UNIT`` for a user of no unit): each
    owner's file once, whoever else stored the same bytes."""

    __tablename__ = "attachment_uploads"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    uploader: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

#: Accepted types, told by their first bytes (not by what the client claims).
TYPES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "text/plain": (),
}
EXTENSIONS = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".txt": "text/plain"}


@dataclass(frozen=True)
class Attachment:
    sha256: str
    name: str
    size: int
    type: str

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, "name": self.name, "size": self.size, "type": self.type}


def sniff(name: str, data: bytes) -> str:
    ext = Path(name).suffix.lower()
    kind = EXTENSIONS.get(ext)
    allowed = "PDF、PNG、JPEG、DOCX、XLSX、TXT"
    if kind is None:
        raise InvalidInput("refused_type", zh=f"不接受 {ext or '无扩展名'} 文件，仅限 {allowed}", en="file type not accepted", field="file")
    magic = TYPES[kind]
    if magic and not any(data.startswith(m) for m in magic):
        raise InvalidInput("refused_type", zh=f"文件内容与扩展名 {ext} 不符", en=f"the content is not a {ext} file", field="file")
    if kind == "text/plain":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("refused_type", zh="文本文件须为 UTF-8 编码", en="text files must be UTF-8", field="file") from None
    return kind


class AttachmentStore:
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES, quota_bytes: int = QUOTA_BYTES, engine: Engine | None = None) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.quota_bytes = quota_bytes
        self.sessions: sessionmaker | None = None
        if engine is not None:
            self.bind(engine)

    def bind(self, engine: Engine) -> None:
        """Record uploads in ``engine``'s database (the accounts' one)."""
        UploadRow.__table__.create(engine, checkfirst=True)
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    # -- who uploaded what, and how much
    def used(self, owner: str) -> int:
        """The bytes of the files uploaded for ``owner``."""
        with self.sessions() as db:
            return int(db.scalar(select(func.coalesce(func.sum(UploadRow.size), 0)).where(UploadRow.owner == owner)) or 0)

    def uploaded_for(self, sha256: str, owner: str) -> bool:
        with self.sessions() as db:
            return db.get(UploadRow, (sha256, owner)) is not None

    def uploaded_at_all(self, sha256: str) -> bool:
        """Whether any upload of the file is recorded (a file stored before uploads were is not)."""
        with self.sessions() as db:
            return db.scalar(select(UploadRow.owner).where(UploadRow.sha256 == sha256).limit(1)) is not None

    def check_quota(self, owner: str, size: int) -> None:
        """Refuse an upload that would take ``owner`` past the quota (checked before storing)."""
        used = self.used(owner)
        if used + size > self.quota_bytes:
            mib = 1024 * 1024
            raise Conflict("quota_exceeded",
                           zh=f"本单位材料已用 {used / mib:.1f} MiB，再传 {size / mib:.1f} MiB 将超过上限 {self.quota_bytes / mib:.0f} MiB",
                           en=f"this would take the unit past its {self.quota_bytes // mib} MiB of evidence", field="file")

    def put_for(self, owner: str, uploader: str, name: str, data: bytes) -> Attachment:
        """Store a file for ``owner`` (within its quota) and record the upload."""
        digest = hashlib.sha256(data).hexdigest()
        if self.sessions is not None and not self.uploaded_for(digest, owner):
            self.check_quota(owner, len(data))
        stored = self.put(name, data)
        if self.sessions is not None:
            try:
                with self.sessions.begin() as db:
                    if db.get(UploadRow, (stored.sha256, owner)) is None:
                        db.add(UploadRow(sha256=stored.sha256, owner=owner, uploader=uploader, size=stored.size,
                                         at=datetime.now(timezone.utc)))
            except IntegrityError:
                pass  # the same file, for the same owner, uploaded at the same moment
        return stored

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, name: str, data: bytes) -> Attachment:
        if len(data) == 0:
            raise InvalidInput("empty_file", zh="文件为空", en="the file is empty", field="file")
        if len(data) > self.max_bytes:
            raise InvalidInput(
                "file_too_large",
                zh=f"文件 {len(data)} 字节，超过上限 {self.max_bytes} 字节（{self.max_bytes // 1024 // 1024} MiB）", en="the file is too large",
                field="file",
            )
        kind = sniff(name, data)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)  # atomic: a file is there whole or not at all
        return Attachment(digest, Path(name).name[:200], len(data), kind)

    def has(self, sha256: str) -> bool:
        return len(sha256) == 64 and self.path(sha256).exists()

    def open(self, sha256: str) -> Path:
        if not self.has(sha256):
            raise NotFound("attachment_not_found", zh="附件不存在", en="no such attachment", field="sha256")
        return self.path(sha256)
