"""Evidence files, stored content-addressed (SHA-256) under the data dir; the hashes go into the
events, so the audit trail covers the files. Size and type are limited."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from domain.errors import InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024

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
    def __init__(self, root: Path, max_bytes: int = MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

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
