"""``kaohe audit keygen --name ORIGIN``, run as a user runs it: the signed-note signer and
verifier keys it prints parse, belong together (a note signed with the one verifies with the
other, also in the reader written from the spec, tests/c2sp_reference.py), and bad input is one
line and exit 1, a usage error exit 2. Needs no database and no Temporal."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters import signednote as sn
from tests import c2sp_reference as ref

KAOHE = Path(sys.executable).parent / "kaohe"


def kaohe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAOHE_")}
    env["KAOHE_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run([str(KAOHE), *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def keys(stdout: str) -> dict[str, str]:
    lines = stdout.splitlines()
    assert len(lines) == 2
    return dict(line.split("=", 1) for line in lines)


def test_keygen_prints_a_signer_and_a_verifier_key_that_belong_together(tmp_path: Path):
    p = kaohe(tmp_path, "audit", "keygen", "--name", "kaohe.example/audit")
    assert p.returncode == 0 and p.stderr == ""
    printed = keys(p.stdout)
    skey, vkey = printed["KAOHE_AUDIT_SIGNING_KEY"], printed["KAOHE_AUDIT_VERIFIER_KEY"]
    # the spec's shapes: PRIVATE+KEY+<name>+<hex id>+<key>, <name>+<hex id>+<key>, same name and id
    assert skey.startswith("PRIVATE+KEY+kaohe.example/audit+") and vkey.startswith("kaohe.example/audit+")
    name, hex_id, key64 = vkey.split("+", 2)
    public = base64.b64decode(key64, validate=True)
    assert public[0] == 0x01 and len(public) == 33
    assert hex_id == hashlib.sha256(name.encode() + b"\n" + public).digest()[:4].hex()
    assert skey.split("+")[3] == hex_id
    # sign with the one, verify with the other: the project's reader and the spec's
    signer, verifier = sn.parse_signer(skey), sn.parse_verifier(vkey)
    assert signer.verifier == verifier
    checkpoint = sn.Checkpoint("kaohe.example/audit", 3, hashlib.sha256(b"x").digest())
    signed = sn.sign_checkpoint(checkpoint, signer)
    assert sn.open_checkpoint(signed, [verifier])[0] == checkpoint
    text, _ = ref.verified_text(signed, vkey)
    assert text == checkpoint.text()
    # a second run makes another key
    again = keys(kaohe(tmp_path, "audit", "keygen", "--name", "kaohe.example/audit").stdout)
    assert again["KAOHE_AUDIT_VERIFIER_KEY"] != vkey


@pytest.mark.parametrize("name", ["kaohe example", "kaohe+audit", "", "a\u3000b"])
def test_keygen_refuses_a_name_the_spec_forbids_in_one_line(tmp_path: Path, name: str):
    p = kaohe(tmp_path, "audit", "keygen", "--name", name)
    assert p.returncode == 1 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1
    assert "密钥名称无效" in p.stderr and "invalid key name" in p.stderr and "Traceback" not in p.stderr


def test_keygen_usage_error_exits_2(tmp_path: Path):
    p = kaohe(tmp_path, "audit", "keygen", "--name")
    assert p.returncode == 2 and p.stdout == "" and "--name" in p.stderr


def test_keygen_without_a_name_still_prints_the_digest_key_pair(tmp_path: Path):
    p = kaohe(tmp_path, "audit", "keygen")
    assert p.returncode == 0
    printed = keys(p.stdout)
    assert set(printed) == {"KAOHE_AUDIT_SIGNING_KEY", "KAOHE_AUDIT_PUBLIC_KEY"}
    assert len(base64.b64decode(printed["KAOHE_AUDIT_SIGNING_KEY"], validate=True)) == 32
