"""The C2SP text formats of a transparency log, read and written exactly as the specs say:
``c2sp.org/signed-note`` (Ed25519 keys, verifier and signer keys, signature lines),
``c2sp.org/tlog-checkpoint`` (the note text of a tree head) and the Ed25519 ``cosignature/v1``
of ``c2sp.org/tlog-cosignature`` (a witness's timestamped signature line).

Pure functions over strings and bytes, no storage: the log, its publication and the CLI call them.
The same bytes the Go reference (``golang.org/x/mod/sumdb/note``) and other C2SP tools read and
write, so a checkpoint Kaohe signs is checked by any of them, and one of theirs by Kaohe.

- Key ID (signed-note §Signatures): ``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``, big endian;
  type ``0x01`` for an Ed25519 note signature, ``0x04`` for an Ed25519 cosignature.
- Verifier key: ``<name>+<hex id>+<base64(type ‖ public key)>``.
- Signer key (the Go reference's encoding; the spec has none for private keys):
  ``PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ 32-byte Ed25519 seed)>``. Go knows type ``0x01``
  only; a cosigner's key is written the same way with type ``0x04``.
- Signed note: the text (ending in a newline), a blank line, then one line per signature,
  ``— <name> <base64(id ‖ signature)>``. A reader ignores signatures from keys it does not know,
  refuses the note when a known key's signature fails, and when no known key's holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.errors import InvalidInput

#: Signature type bytes (signed-note §Signature types).
ED25519 = 0x01
COSIGNATURE_V1 = 0x04
TYPES = (ED25519, COSIGNATURE_V1)
#: A reader MUST accept at least 16 signatures; past this many the note is refused (as Go does).
MAX_SIGNATURES = 100
#: Timestamps of cosignatures are u64 but MUST NOT exceed 2^63 - 1.
MAX_TIMESTAMP = 2**63 - 1
#: A tree size is read as a signed 64-bit number, as the Go reference reads it.
MAX_TREE_SIZE = 2**63 - 1

DASH = "\u2014 "
_HEX_ID = re.compile(r"[0-9a-f]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")


class NoteError(InvalidInput):
    """A key, note or checkpoint that cannot be read, or a note whose signatures do not hold."""


def _refuse(code: str, zh: str, en: str, what: str = "note") -> NoteError:
    return NoteError(code, zh=zh, en=en, field=what)


# ---------------------------------------------------------------- names and key IDs


def valid_name(name: str) -> bool:
    """signed-note: a key name is non-empty, with no Unicode space and no ``+``. Control
    characters cannot stand in a note at all, so they make a name invalid too."""
    return (
        isinstance(name, str) and name != ""
        and "+" not in name
        and not any(ch.isspace() or ord(ch) < 0x20 for ch in name)
    )


def check_name(name: str, what: str = "name") -> str:
    if not valid_name(name):
        raise _refuse(
            "invalid_key_name",
            "密钥名称无效：不能为空，不能含空白字符或加号（+），例如 kaohe.example/audit",
            "invalid key name: it must be non-empty, with no spaces and no plus sign (+), e.g. kaohe.example/audit",
            what,
        )
    return name


def key_id(name: str, sig_type: int, public: bytes) -> int:
    """``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`` as a big-endian uint32."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([sig_type]) + public).digest()
    return struct.unpack(">I", digest[:4])[0]


def _b64decode(text: str) -> bytes:
    """Standard base64 (RFC 4648 §4), padded, nothing else accepted."""
    if not text or not text.isascii():
        raise ValueError("not base64")
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:  # non-canonical padding bits
        raise ValueError("not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


# ---------------------------------------------------------------- keys


@dataclass(frozen=True)
class Verifier:
    """A public key as a note reader knows it: (name, key ID) picks the signature line it checks."""

    name: str
    key_id: int
    sig_type: int
    public: bytes

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{_b64(bytes([self.sig_type]) + self.public)}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """``signature`` is what follows the 4-byte key ID in the line."""
        key = Ed25519PublicKey.from_public_bytes(self.public)
        if self.sig_type == COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            timestamp = struct.unpack(">Q", signature[:8])[0]
            if timestamp > MAX_TIMESTAMP:
                return False
            message, signature = cosigned_message(text, timestamp), signature[8:]
        else:
            message = text
        if len(signature) != 64:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key with its name; ``sig_type`` ``0x01`` signs notes, ``0x04`` cosigns checkpoints."""

    name: str
    key_id: int
    sig_type: int
    seed: bytes = field(repr=False)

    @property
    def skey(self) -> str:
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{_b64(bytes([self.sig_type]) + self.seed)}"

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.sig_type, _public_of(self.seed))

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _public_of(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def verifier_for(name: str, public: bytes, sig_type: int = ED25519) -> Verifier:
    """The verifier of a raw 32-byte Ed25519 public key under ``name`` (key ID derived)."""
    check_name(name)
    if len(public) != 32 or sig_type not in TYPES:
        raise _refuse("invalid_verifier_key", "Ed25519 公钥须为 32 字节", "an Ed25519 public key is 32 bytes", "verifier_key")
    return Verifier(name, key_id(name, sig_type, public), sig_type, bytes(public))


def signer_from_seed(name: str, seed: bytes, sig_type: int = ED25519) -> Signer:
    check_name(name)
    if len(seed) != 32 or sig_type not in TYPES:
        raise _refuse("invalid_signer_key", "Ed25519 私钥须为 32 字节", "an Ed25519 seed is 32 bytes", "signer_key")
    return Signer(name, key_id(name, sig_type, _public_of(seed)), sig_type, bytes(seed))


def generate(name: str, sig_type: int = ED25519) -> Signer:
    """A new Ed25519 key named ``name``: ``.skey`` is the signer key, ``.verifier.vkey`` the verifier key."""
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return signer_from_seed(name, seed, sig_type)


def parse_verifier(vkey: str) -> Verifier:
    """``<name>+<hex id>+<base64(type ‖ key)>``; the ID must be the one the spec derives."""
    bad = _refuse(
        "invalid_verifier_key",
        "验证公钥格式无效，应为 <名称>+<8 位十六进制 ID>+<base64 公钥>",
        "not a verifier key: expected <name>+<8 hex digit id>+<base64 key>",
        "verifier_key",
    )
    parts = vkey.split("+", 2) if isinstance(vkey, str) else []
    if len(parts) != 3:
        raise bad
    name, hex_id, key64 = parts
    if not valid_name(name) or not _HEX_ID.fullmatch(hex_id):
        raise bad
    try:
        raw = _b64decode(key64)
    except (ValueError, binascii.Error):
        raise bad from None
    if len(raw) != 33 or raw[0] not in TYPES:
        raise bad
    if key_id(name, raw[0], raw[1:]) != int(hex_id, 16):
        raise _refuse(
            "verifier_key_id_mismatch",
            "验证公钥的 ID 与名称和公钥不符",
            "the verifier key's id does not match its name and key",
            "verifier_key",
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise bad from None
    return Verifier(name, int(hex_id, 16), raw[0], raw[1:])


def parse_signer(skey: str) -> Signer:
    """``PRIVATE+KEY+<name>+<hex id>+<base64(type ‖ seed)>``; the ID is checked against the
    public key the seed gives."""
    bad = _refuse(
        "invalid_signer_key",
        "签名私钥格式无效，应为 PRIVATE+KEY+<名称>+<8 位十六进制 ID>+<base64 私钥>",
        "not a signer key: expected PRIVATE+KEY+<name>+<8 hex digit id>+<base64 key>",
        "signer_key",
    )
    parts = skey.split("+", 4) if isinstance(skey, str) else []
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise bad
    name, hex_id, key64 = parts[2:]
    if not valid_name(name) or not _HEX_ID.fullmatch(hex_id):
        raise bad
    try:
        raw = _b64decode(key64)
    except (ValueError, binascii.Error):
        raise bad from None
    if len(raw) != 33 or raw[0] not in TYPES:
        raise bad
    signer = signer_from_seed(name, raw[1:], raw[0])
    if signer.key_id != int(hex_id, 16):
        raise _refuse(
            "signer_key_id_mismatch",
            "签名私钥的 ID 与名称和公钥不符",
            "the signer key's id does not match its name and key",
            "signer_key",
        )
    return signer


# ---------------------------------------------------------------- notes


@dataclass(frozen=True)
class Signature:
    """One signature line: ``— <name> <base64(id ‖ signature)>``."""

    name: str
    key_id: int
    signature: bytes  # after the key ID

    @property
    def line(self) -> str:
        return f"{DASH}{self.name} {_b64(struct.pack('>I', self.key_id) + self.signature)}\n"

    @property
    def timestamp(self) -> int | None:
        """For a cosignature/v1 line, its POSIX timestamp (read only; meaningful once verified)."""
        return struct.unpack(">Q", self.signature[:8])[0] if len(self.signature) == 72 else None


@dataclass(frozen=True)
class Note:
    """An opened note: its text, the signatures that verified, and those from unknown keys."""

    text: str
    signatures: tuple[Signature, ...]
    unverified: tuple[Signature, ...] = ()


def _malformed(why_zh: str, why_en: str) -> NoteError:
    return _refuse("malformed_note", f"签名注记格式无效：{why_zh}", f"malformed signed note: {why_en}")


def parse(message: str | bytes) -> tuple[str, list[Signature]]:
    """The text and the signature lines of a signed note, unverified. Refuses what the spec
    forbids: not UTF-8, control characters other than newline, no blank line before the
    signatures, a line there that is not a signature, too many signatures."""
    if isinstance(message, str):
        try:
            raw = message.encode("utf-8")
        except UnicodeEncodeError:
            raise _malformed("不是有效的 UTF-8", "not valid UTF-8") from None
    else:
        raw = bytes(message)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("不是有效的 UTF-8", "not valid UTF-8") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in decoded):
        raise _malformed("含有换行以外的控制字符", "it has control characters other than newline")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise _malformed("正文与签名之间缺少空行", "no blank line between the text and the signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _malformed("没有以换行结尾的签名行", "no signature lines ending in a newline")
    signatures: list[Signature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(DASH):
            raise _malformed("签名区中有一行不是签名", "a line in the signature block is not a signature")
        name, _, sig64 = line[len(DASH) :].partition(" ")
        try:
            sig = _b64decode(sig64)
        except (ValueError, binascii.Error):
            raise _malformed("签名不是 base64", "a signature is not base64") from None
        if not valid_name(name) or len(sig) < 5:
            raise _malformed("签名行的名称或长度无效", "a signature line's name or length is invalid")
        signatures.append(Signature(name, struct.unpack(">I", sig[:4])[0], sig[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise _malformed(f"签名超过 {MAX_SIGNATURES} 个", f"more than {MAX_SIGNATURES} signatures")
    return text, signatures


def open_note(message: str | bytes, known: list[Verifier] | tuple[Verifier, ...]) -> Note:
    """Parse and verify: signatures of unknown keys (name and ID not both known) are kept aside
    unverified; a known key's signature that fails refuses the note; so does a note with no
    known key's signature."""
    text, lines = parse(message)
    by_key: dict[tuple[str, int], Verifier] = {}
    for v in known:
        if (v.name, v.key_id) in by_key and by_key[(v.name, v.key_id)] != v:
            raise _refuse("ambiguous_key", f"有两个同名同 ID 的公钥：{v.name}", f"two known keys share name and id: {v.name}", "verifier_key")
        by_key[(v.name, v.key_id)] = v
    verified: list[Signature] = []
    unverified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    body = text.encode("utf-8")
    for sig in lines:
        verifier = by_key.get((sig.name, sig.key_id))
        if verifier is None:
            if sig not in unverified:
                unverified.append(sig)
            continue
        if (sig.name, sig.key_id) in seen:
            continue
        seen.add((sig.name, sig.key_id))
        if not verifier.verify(body, sig.signature):
            raise _refuse(
                "invalid_signature",
                f"签名无效：{sig.name}+{sig.key_id:08x}",
                f"invalid signature for key {sig.name}+{sig.key_id:08x}",
            )
        verified.append(sig)
    if not verified:
        raise _refuse(
            "unverified_note",
            "签名注记没有任何可信公钥的有效签名",
            "the note has no valid signature from a trusted key",
        )
    return Note(text, tuple(verified), tuple(unverified))


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """tlog-cosignature: ``cosignature/v1\\ntime <t>\\n`` then the whole note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def _signature(signer: Signer, body: bytes, timestamp: int | None) -> Signature:
    if signer.sig_type == COSIGNATURE_V1:
        if timestamp is None or not 0 <= timestamp <= MAX_TIMESTAMP:
            raise _refuse("invalid_timestamp", "联署需要有效的时间戳", "a cosignature needs a valid timestamp", "timestamp")
        return Signature(signer.name, signer.key_id, struct.pack(">Q", timestamp) + signer.sign(cosigned_message(body, timestamp)))
    return Signature(signer.name, signer.key_id, signer.sign(body))


def sign(text: str, *signers: Signer, keep: tuple[Signature, ...] | list[Signature] = (), timestamp: int | None = None) -> str:
    """The signed note: ``text`` (which must end in a newline), a blank line, the ``keep``
    signatures not replaced by one of ``signers``' keys, then one line per signer. A cosigner
    (type ``0x04``) needs ``timestamp``, POSIX seconds."""
    if not isinstance(text, str) or not text.endswith("\n"):
        raise _malformed("正文须以换行结尾", "the text must end in a newline")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise _malformed("含有换行以外的控制字符", "it has control characters other than newline")
    for s in signers:
        check_name(s.name, "signer_key")
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:
        raise _malformed("不是有效的 UTF-8", "not valid UTF-8") from None
    mine = {(s.name, s.key_id) for s in signers}
    lines = [sig.line for sig in keep if (sig.name, sig.key_id) not in mine]
    lines += [_signature(s, body, timestamp).line for s in signers]
    if not lines:
        raise _malformed("至少需要一个签名", "a note needs at least one signature")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"签名超过 {MAX_SIGNATURES} 个", f"more than {MAX_SIGNATURES} signatures")
    return text + "\n" + "".join(lines)


def add_signature(message: str, signer: Signer, known: list[Verifier] | tuple[Verifier, ...], timestamp: int | None = None) -> str:
    """A witness's step: open the note under ``known`` (so it only countersigns what verifies),
    then append ``signer``'s line, keeping every other line as it was."""
    note = open_note(message, known)
    _, lines = parse(message)
    return sign(note.text, signer, keep=lines, timestamp=timestamp)


# ---------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """tlog-checkpoint's note text: origin, tree size, base64 root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        if not self.origin or any(ord(ch) < 0x20 for ch in self.origin):
            raise _refuse("invalid_origin", "检查点的来源不能为空，且不能含控制字符", "a checkpoint's origin must be non-empty with no control characters", "origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise _refuse("invalid_tree_size", "树的大小须为非负整数", "the tree size must be a non-negative integer", "size")
        if len(self.root) != 32:
            raise _refuse("invalid_root_hash", "根哈希须为 32 字节", "the root hash must be 32 bytes", "root")
        if any(not e or any(ord(ch) < 0x20 for ch in e) for e in self.extensions):
            raise _refuse("invalid_extension", "扩展行不能为空", "extension lines must be non-empty", "extensions")
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), _b64(self.root), *self.extensions))

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """Read a checkpoint's note text (not the signed note: see :func:`open_checkpoint`)."""

        def bad(zh: str, en: str) -> NoteError:
            return _refuse("malformed_checkpoint", f"检查点格式无效：{zh}", f"malformed checkpoint: {en}", "checkpoint")

        if not isinstance(text, str) or not text.endswith("\n"):
            raise bad("正文须以换行结尾", "the text must end in a newline")
        if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
            raise bad("含有控制字符", "it has control characters")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise bad("少于三行", "fewer than three lines")
        origin, size, root64, *extensions = lines
        if not origin:
            raise bad("来源行为空", "the origin line is empty")
        if not _TREE_SIZE.fullmatch(size) or int(size) > MAX_TREE_SIZE:
            raise bad("树的大小不是无前导零的十进制数", "the tree size is not a decimal number without leading zeroes")
        try:
            root = _b64decode(root64)
        except (ValueError, binascii.Error):
            raise bad("根哈希不是 base64", "the root hash is not base64") from None
        if len(root) != 32:
            raise bad("根哈希不是 32 字节", "the root hash is not 32 bytes")
        if any(not e for e in extensions):
            raise bad("扩展行为空", "an extension line is empty")
        return cls(origin, int(size), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a signed note; the log's key name should be its origin."""
    return sign(checkpoint.text(), signer)


def open_checkpoint(message: str | bytes, known: list[Verifier] | tuple[Verifier, ...]) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint and read its body."""
    note = open_note(message, known)
    return Checkpoint.parse(note.text), note


# ---------------------------------------------------------------- tlog-proof (the text, not the Merkle math)

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
#: An inclusion proof in a tree of at most 2^63 leaves has at most 63 hashes.
MAX_PROOF_HASHES = 63


@dataclass(frozen=True)
class TlogProof:
    """``c2sp.org/tlog-proof@v1``: the header, an optional ``extra`` line, ``index N``, the RFC 6962
    inclusion proof (one base64 SHA-256 hash a line, from the leaf's sibling up), an empty line,
    then the signed checkpoint verbatim. Checking the proof against the checkpoint's root is the
    Merkle tree's business; this only reads and writes the text."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed note, as the log (and its witnesses) signed it
    extra: bytes | None = None

    def text(self) -> str:
        if not isinstance(self.index, int) or not 0 <= self.index <= MAX_TREE_SIZE:
            raise _refuse("invalid_proof", "证明的叶序号须为非负整数", "a proof's index must be a non-negative integer", "index")
        if len(self.hashes) > MAX_PROOF_HASHES or any(len(h) != 32 for h in self.hashes):
            raise _refuse("invalid_proof", "包含证明的每个哈希须为 32 字节", "each inclusion proof hash must be 32 bytes", "hashes")
        parse(self.checkpoint)
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {_b64(self.extra)}")
        lines.append(f"index {self.index}")
        lines += [_b64(h) for h in self.hashes]
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def parse(cls, text: str) -> "TlogProof":
        def bad(zh: str, en: str) -> NoteError:
            return _refuse("malformed_proof", f"证明格式无效：{zh}", f"malformed tlog-proof: {en}", "proof")

        if not isinstance(text, str) or "\n\n" not in text:
            raise bad("缺少检查点前的空行", "no empty line before the checkpoint")
        head, checkpoint = text.split("\n\n", 1)
        lines = head.split("\n")
        if lines[0] != PROOF_HEADER:
            raise bad(f"首行须为 {PROOF_HEADER}", f"the first line must be {PROOF_HEADER}")
        rest = lines[1:]
        extra = None
        if rest and rest[0].startswith("extra "):
            try:
                extra = _b64decode(rest[0][len("extra ") :]) if rest[0] != "extra " else b""
            except (ValueError, binascii.Error):
                raise bad("extra 行不是 base64", "the extra line is not base64") from None
            rest = rest[1:]
        if not rest or not rest[0].startswith("index ") or not _TREE_SIZE.fullmatch(rest[0][len("index ") :]):
            raise bad("缺少 index 行，或序号不是无前导零的十进制数", "no index line, or the index is not a decimal without leading zeroes")
        index = int(rest[0][len("index ") :])
        if index > MAX_TREE_SIZE or len(rest) - 1 > MAX_PROOF_HASHES:
            raise bad("序号或哈希个数超出范围", "the index or the number of hashes is out of range")
        hashes = []
        for line in rest[1:]:
            try:
                h = _b64decode(line)
            except (ValueError, binascii.Error):
                raise bad("包含证明的一行不是 base64", "an inclusion proof line is not base64") from None
            if len(h) != 32:
                raise bad("包含证明的哈希不是 32 字节", "an inclusion proof hash is not 32 bytes")
            hashes.append(h)
        parse(checkpoint)  # the checkpoint is a well-formed signed note (its signatures: open_checkpoint)
        return cls(index, tuple(hashes), checkpoint, extra)
