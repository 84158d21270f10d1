"""A second, independent reader of the C2SP formats, written in the tests from the texts alone
(c2sp.org/signed-note, c2sp.org/tlog-checkpoint, c2sp.org/tlog-cosignature) and RFC 8032 §6
(Ed25519 verification, the RFC's own Python), sharing no code with ``adapters/signednote.py``,
not even the ``cryptography`` package: a checkpoint Kaohe signs must verify here too, the way it
must verify in any third-party tool."""

from __future__ import annotations

import base64
import hashlib

# ---------------------------------------------------------------- RFC 8032 §6, verification only

_p = 2**255 - 19
_q = 2**252 + 27742317777372353535851937790883648493


def _inv(x: int) -> int:
    return pow(x, _p - 2, _p)


_d = -121665 * _inv(121666) % _p
_sqrt_m1 = pow(2, (_p - 1) // 4, _p)


def _add(P, Q):
    A, B = (P[1] - P[0]) * (Q[1] - Q[0]) % _p, (P[1] + P[0]) * (Q[1] + Q[0]) % _p
    C, D = 2 * P[3] * Q[3] * _d % _p, 2 * P[2] * Q[2] % _p
    E, F, G, H = B - A, D - C, D + C, B + A
    return (E * F, G * H, F * G, E * H)


def _mul(s: int, P):
    Q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            Q = _add(Q, P)
        P = _add(P, P)
        s >>= 1
    return Q


def _equal(P, Q) -> bool:
    return (P[0] * Q[2] - Q[0] * P[2]) % _p == 0 and (P[1] * Q[2] - Q[1] * P[2]) % _p == 0


def _recover_x(y: int, sign: int):
    if y >= _p:
        return None
    x2 = (y * y - 1) * _inv(_d * y * y + 1)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_p + 3) // 8, _p)
    if (x * x - x2) % _p != 0:
        x = x * _sqrt_m1 % _p
    if (x * x - x2) % _p != 0:
        return None
    if (x & 1) != sign:
        x = _p - x
    return x


_gy = 4 * _inv(5) % _p
_gx = _recover_x(_gy, 0)
_G = (_gx, _gy, 1, _gx * _gy % _p)


def _decompress(s: bytes):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _p)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    if len(public) != 32 or len(signature) != 64:
        return False
    A, R = _decompress(public), _decompress(signature[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _q
    return _equal(_mul(s, _G), _add(R, _mul(h, A)))


# ---------------------------------------------------------------- signed-note, from its text


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """"SHA-256(key name || 0x0A || signature type || public key)[:4]"."""
    return hashlib.sha256(name.encode() + bytes([0x0A, sig_type]) + public).digest()[:4]


def read_vkey(vkey: str) -> tuple[str, bytes, int, bytes]:
    """"<key name>+hex(32-bit key ID)+base64(signature type || public key)" → (name, id, type, key)."""
    name, hex_id, rest = vkey.split("+", 2)
    raw = base64.b64decode(rest, validate=True)
    assert len(hex_id) == 8 and hex_id == hex_id.lower()
    return name, bytes.fromhex(hex_id), raw[0], raw[1:]


def verified_text(note: str, vkey: str) -> tuple[str, list[int]]:
    """The note's text when a signature line of ``vkey``'s key verifies (raises otherwise), and
    for a cosignature key (type 0x04) the timestamps it signed."""
    name, kid, sig_type, public = read_vkey(vkey)
    assert key_id(name, sig_type, public) == kid, "the key ID is not the spec's"
    data = note.encode("utf-8")
    split = data.rindex(b"\n\n")  # "separated from the signatures by the last empty line"
    text, block = data[: split + 1], data[split + 2 :]
    assert text.endswith(b"\n") and block.endswith(b"\n")
    good, stamps = 0, []
    for line in block.decode().split("\n")[:-1]:
        assert line.startswith("\u2014 "), line  # em dash, space
        line_name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64, validate=True)
        if line_name != name or raw[:4] != kid:
            continue  # "Verifiers MUST ignore signatures from unknown keys"
        if sig_type == 0x01:
            assert ed25519_verify(public, text, raw[4:]), "a known key's signature fails"
        else:  # tlog-cosignature: u64 timestamp || signature over the cosignature/v1 message
            assert sig_type == 0x04 and len(raw) == 4 + 8 + 64
            t = int.from_bytes(raw[4:12], "big")
            assert t <= 2**63 - 1
            message = b"cosignature/v1\n" + b"time " + str(t).encode() + b"\n" + text
            assert ed25519_verify(public, message, raw[12:]), "a known cosignature fails"
            stamps.append(t)
        good += 1
    assert good >= 1, "no signature from the key"
    return text.decode(), stamps


def read_checkpoint(text: str) -> tuple[str, int, bytes, list[str]]:
    """tlog-checkpoint: origin, tree size (decimal, no leading zero), base64 root, extensions."""
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) >= 4
    origin, size, root, *extensions = lines[:-1]
    assert origin and size.isascii() and size.isdigit() and (size == "0" or not size.startswith("0"))
    assert all(extensions)
    return origin, int(size), base64.b64decode(root, validate=True), extensions
