"""The C2SP formats (adapters/signednote.py) against the specs' own examples and the Go
reference implementation's test vectors (golang.org/x/mod/sumdb/note, note_test.go and
sumdb/client_test.go), and a checkpoint Kaohe signs read back by the independent reader in
tests/c2sp_reference.py, written from the spec texts."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest

from adapters import signednote as sn
from tests import c2sp_reference as ref

# golang.org/x/mod/sumdb/note/note_test.go
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
# c2sp.org/signed-note §Verifier keys, Example
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# golang.org/x/mod/sumdb/client_test.go: a test log's keys and two tree notes it signed
SUMDB_VKEY = "localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6"
SUMDB_SKEY = "PRIVATE+KEY+localhost.localdev/sumdb+00000c67+AXu6+oaVaOYuQOFrf1V59JK1owcFlJcHwwXHDfDGxSPk"
SUMDB_TREES = [
    ("go.sum database tree\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n",
     "— localhost.localdev/sumdb AAAMZ5/2FVAdMH58kmnz/0h299pwyskEbzDzoa2/YaPdhvLya4YWDFQQxu2TQb5GpwAH4NdWnTwuhILafisyf3CNbgg=\n", 5),
    ("go.sum database tree\n6\nwc4SkQt52o5W2nQ8To2ARs+mWuUJjss+sdleoiqxMmM=\n",
     "— localhost.localdev/sumdb AAAMZ6oRNswlEZ6ZZhxrCvgl1MBy+nusq4JU+TG6Fe2NihWLqOzb+y2c2kzRLoCr4tvw9o36ucQEnhc20e4nA4Qc/wc=\n", 6),
]
# c2sp.org/tlog-checkpoint and tlog-cosignature: the example checkpoint with a witness's line
SOFA = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)


def code_of(call) -> str:
    with pytest.raises(sn.NoteError) as err:
        call()
    return err.value.code


# ---------------------------------------------------------------- (a) the specs' and Go's vectors


@pytest.mark.parametrize("vkey", [PETER_VKEY, ENOCH_VKEY, FOO_VKEY, SUMDB_VKEY])
def test_key_ids_are_the_first_four_bytes_of_sha256_of_name_newline_type_and_key(vkey):
    name, hex_id, key64 = vkey.split("+", 2)
    raw = base64.b64decode(key64)
    by_hand = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
    assert by_hand == hex_id  # the spec's formula, checked against the published keys
    v = sn.parse_verifier(vkey)
    assert (v.name, f"{v.key_id:08x}", v.sig_type, v.public) == (name, hex_id, 0x01, raw[1:])
    assert sn.key_id(name, 0x01, raw[1:]) == int(hex_id, 16)
    assert v.vkey == vkey


@pytest.mark.parametrize("skey, vkey", [(PETER_SKEY, PETER_VKEY), (SUMDB_SKEY, SUMDB_VKEY)])
def test_a_signer_key_gives_the_verifier_key_go_published_with_it(skey, vkey):
    signer = sn.parse_signer(skey)
    assert signer.skey == skey
    assert signer.verifier.vkey == vkey


def test_signing_reproduces_gos_signed_note_byte_for_byte():
    # Ed25519 is deterministic: the same key over the same text gives note_test.go's TestSign output.
    assert sn.sign(TEXT, sn.parse_signer(PETER_SKEY)) == TEXT + "\n" + PETER_SIG
    # An old signature by the same key is replaced, another key's is kept before it.
    old = sn.Signature("PeterNeumann", 0xC74F20A3, b"\x00" * 64)
    enoch = sn.parse(TEXT + "\n" + ENOCH_SIG)[1][0]
    assert sn.sign(TEXT, sn.parse_signer(PETER_SKEY), keep=[old, enoch]) == TEXT + "\n" + ENOCH_SIG + PETER_SIG


def test_the_specs_example_note_and_gos_tree_notes_verify():
    note = sn.open_note(FOO_NOTE, [sn.parse_verifier(FOO_VKEY)])
    assert note.text == "This is an example message.\n" and len(note.signatures) == 1
    for text, line, size in SUMDB_TREES:
        cp, note = sn.open_checkpoint(text + "\n" + line, [sn.parse_verifier(SUMDB_VKEY)])
        # A checkpoint's origin need not be a key name: "go.sum database tree" has spaces.
        assert (cp.origin, cp.size, cp.text()) == ("go.sum database tree", size, text)
        # and the project signs the same note again, byte for byte
        assert sn.sign_checkpoint(cp, sn.parse_signer(SUMDB_SKEY)) == text + "\n" + line


def test_open_follows_gos_cases():
    peter, enoch = sn.parse_verifier(PETER_VKEY), sn.parse_verifier(ENOCH_VKEY)
    both = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    note = sn.open_note(both, [peter])  # one known, one unknown: the unknown is set aside
    assert note.text == TEXT
    assert [s.name for s in note.signatures] == ["PeterNeumann"] and [s.name for s in note.unverified] == ["EnochRoot"]
    note = sn.open_note(both, [peter, enoch])
    assert [s.name for s in note.signatures] == ["PeterNeumann", "EnochRoot"] and note.unverified == ()
    assert code_of(lambda: sn.open_note(both, [])) == "unverified_note"  # no known key: refused
    # a known key's signature that does not verify refuses the whole note
    assert code_of(lambda: sn.open_note(TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:], [peter])) == "invalid_signature"
    # repeated lines are read once; a broken line of an unknown key is only set aside
    note = sn.open_note(TEXT + "\n" + PETER_SIG * 2 + ENOCH_SIG * 2 + ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:], [peter])
    assert len(note.signatures) == 1 and len(note.unverified) == 2
    # too many signatures
    assert code_of(lambda: sn.open_note(TEXT + "\n" + PETER_SIG * 101, [peter])) == "malformed_note"
    assert len(sn.open_note(TEXT + "\n" + PETER_SIG * 16, [peter]).signatures) == 1  # at least 16 accepted


@pytest.mark.parametrize("message", [
    TEXT,
    TEXT + "\n",
    TEXT + "\n" + PETER_SIG[:-1],
    "\x01" + TEXT + "\n" + PETER_SIG,
    TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
    TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    TEXT + "\n" + "— PeterNeumann x08g\n",  # shorter than an id and one byte
    TEXT + "\n" + "- PeterNeumann " + PETER_SIG.split(" ", 2)[2],  # hyphen, not em dash
    TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
])
def test_malformed_notes_are_refused(message):
    assert code_of(lambda: sn.open_note(message, [sn.parse_verifier(PETER_VKEY)])) == "malformed_note"


def test_a_note_that_is_not_utf8_is_refused():
    raw = b"\xff" + (TEXT + "\n" + PETER_SIG).encode()
    assert code_of(lambda: sn.open_note(raw, [sn.parse_verifier(PETER_VKEY)])) == "malformed_note"


def test_signatures_sharing_only_a_name_or_only_an_id_with_a_known_key_are_ignored():
    other = sn.generate("PeterNeumann")  # same name, another key (so another id)
    text = sn.sign(TEXT, other)
    forged_id = text.replace(other.name, "PeterNeumannX")  # keep other's bytes, another name
    peter = sn.parse_verifier(PETER_VKEY)
    for message in (text, forged_id):
        assert code_of(lambda: sn.open_note(message, [peter])) == "unverified_note"
        note = sn.open_note(message.rstrip("\n") + "\n" + PETER_SIG, [peter])
        assert [s.name for s in note.signatures] == ["PeterNeumann"] and len(note.unverified) == 1
    # a line with Peter's name and id over bytes Peter did not sign is not ignored but refused
    fake = sn.Signature("PeterNeumann", 0xC74F20A3, other.sign(TEXT.encode())).line
    assert code_of(lambda: sn.open_note(TEXT + "\n" + fake, [peter])) == "invalid_signature"


@pytest.mark.parametrize("key, parse", [(PETER_VKEY, sn.parse_verifier), (PETER_SKEY, sn.parse_signer)])
def test_every_mangling_of_a_key_is_refused(key, parse):
    """note_test.go's TestNewVerifier/TestNewSigner: every proper substring, every byte + 1."""
    b = key.encode()
    mangled = {b[i:j] for i in range(len(b) + 1) for j in range(i + 1, len(b) + 1) if (i, j) != (0, len(b))}
    mangled |= {b[:i] + bytes([b[i] + 1]) + b[i + 1:] for i in range(len(b))}
    for m in mangled:
        with pytest.raises(sn.NoteError):
            parse(m.decode("latin-1"))


def test_keys_of_the_wrong_length_or_an_unknown_type_are_refused_even_with_a_matching_id():
    for vkey in ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
                 "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"):
        name, hex_id, key64 = vkey.split("+", 2)
        assert hashlib.sha256(name.encode() + b"\n" + base64.b64decode(key64)).digest()[:4].hex() == hex_id
        assert code_of(lambda: sn.parse_verifier(vkey)) == "invalid_verifier_key"


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "名称\u3000空格", "a\u00a0b", "a\nb"])
def test_invalid_key_names_are_refused(name):
    assert code_of(lambda: sn.generate(name)) == "invalid_key_name"
    assert not sn.valid_name(name)


def test_a_generated_key_round_trips_through_its_encodings():
    signer = sn.generate("kaohe.example/审计")  # any non-space UTF-8 is a valid name
    again = sn.parse_signer(signer.skey)
    assert again == signer and sn.parse_verifier(signer.verifier.vkey) == signer.verifier
    note = sn.sign("hello\n\nworld\n", again)  # a text may hold empty lines
    assert sn.open_note(note, [signer.verifier]).text == "hello\n\nworld\n"


def test_sign_refuses_a_text_without_final_newline_or_with_control_characters():
    s = sn.parse_signer(PETER_SKEY)
    assert code_of(lambda: sn.sign("abc", s)) == "malformed_note"
    assert code_of(lambda: sn.sign("a\x00b\n", s)) == "malformed_note"
    assert code_of(lambda: sn.sign("abc\n")) == "malformed_note"  # a note needs a signature


# ---------------------------------------------------------------- checkpoints


def test_the_specs_example_checkpoint_parses_and_rebuilds():
    text, lines = sn.parse(SOFA)
    cp = sn.Checkpoint.parse(text)
    assert (cp.origin, cp.size, base64.b64encode(cp.root).decode(), cp.extensions) == (
        "example.com/behind-the-sofa", 20852163, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", ())
    assert cp.text() == text
    # the witness's cosignature line: 4-byte id, then timestamp 1679315147 (the spec's message example)
    assert [s.name for s in lines] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    assert lines[1].timestamp == 1679315147 and len(lines[1].signature) == 8 + 64


def test_checkpoint_extension_lines_round_trip():
    cp = sn.Checkpoint("kaohe.example/audit", 0, hashlib.sha256(b"").digest(), ("ext one", "ext-two"))
    assert cp.text() == f"kaohe.example/audit\n0\n{base64.b64encode(hashlib.sha256(b'').digest()).decode()}\next one\next-two\n"
    assert sn.Checkpoint.parse(cp.text()) == cp


ROOT64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize("text", [
    f"o\n5\n{ROOT64}",  # no final newline
    f"o\n5\n",  # fewer than three lines
    f"\n5\n{ROOT64}\n",  # empty origin
    f"o\n05\n{ROOT64}\n",  # leading zero
    f"o\n-1\n{ROOT64}\n",
    f"o\n+5\n{ROOT64}\n",
    f"o\n 5\n{ROOT64}\n",
    f"o\n\u0665\n{ROOT64}\n",  # an Arabic-Indic digit is not ASCII decimal
    f"o\n{2**63}\n{ROOT64}\n",
    f"o\n5\n{ROOT64[:-4]}\n",  # not 32 bytes
    f"o\n5\n{ROOT64.rstrip('=')}\n",  # unpadded
    f"o\n5\n{ROOT64}\n\next\n",  # empty extension line
    f"o\n5\n{ROOT64}\n\x7f\x01\n",
])
def test_malformed_checkpoints_are_refused(text):
    assert code_of(lambda: sn.Checkpoint.parse(text)) == "malformed_checkpoint"


def test_a_checkpoint_that_cannot_be_written_is_refused():
    assert code_of(lambda: sn.Checkpoint("", 1, bytes(32)).text()) == "invalid_origin"
    assert code_of(lambda: sn.Checkpoint("o", -1, bytes(32)).text()) == "invalid_tree_size"
    assert code_of(lambda: sn.Checkpoint("o", 1, bytes(31)).text()) == "invalid_root_hash"
    assert code_of(lambda: sn.Checkpoint("o", 1, bytes(32), ("",)).text()) == "invalid_extension"


# ---------------------------------------------------------------- (b) read by the independent reader


def test_a_checkpoint_kaohe_signs_verifies_with_the_reader_written_from_the_spec():
    signer = sn.generate("kaohe.example/audit")
    root = hashlib.sha256(b"\x00" + b"leaf").digest()
    signed = sn.sign_checkpoint(sn.Checkpoint("kaohe.example/audit", 1, root), signer)
    text, _ = ref.verified_text(signed, signer.verifier.vkey)
    assert ref.read_checkpoint(text) == ("kaohe.example/audit", 1, root, [])
    # the reader is not a rubber stamp: Go's vector passes it, a changed tree size does not
    ref.verified_text(TEXT + "\n" + PETER_SIG, PETER_VKEY)
    with pytest.raises(AssertionError):
        ref.verified_text(signed.replace("\n1\n", "\n2\n", 1), signer.verifier.vkey)
    with pytest.raises(AssertionError):  # another key with the same name: its line is ignored, none left
        ref.verified_text(signed, sn.generate("kaohe.example/audit").verifier.vkey)


# ---------------------------------------------------------------- cosignature/v1


def test_a_cosignature_verifies_with_the_reader_written_from_the_spec():
    log = sn.generate("kaohe.example/audit")
    witness = sn.generate("jijian.kaohe.example/witness", sn.COSIGNATURE_V1)
    assert witness.verifier.vkey.split("+")[1] == hashlib.sha256(
        b"jijian.kaohe.example/witness\n\x04" + witness.verifier.public).digest()[:4].hex()
    signed = sn.sign_checkpoint(sn.Checkpoint("kaohe.example/audit", 7, bytes(range(32))), log)
    cosigned = sn.add_signature(signed, witness, [log.verifier], timestamp=1_764_547_200)
    assert cosigned.startswith(signed)  # the log's line kept as it was, the witness's after it
    text, stamps = ref.verified_text(cosigned, witness.verifier.vkey)
    assert stamps == [1_764_547_200] and text == sn.parse(signed)[0]
    ref.verified_text(cosigned, log.verifier.vkey)
    # and the project's own reader: both keys, the witness's timestamp
    note = sn.open_note(cosigned, [log.verifier, witness.verifier])
    assert [s.timestamp for s in note.signatures][1] == 1_764_547_200
    # the same Ed25519 key as a plain note key (type 0x01) has another id: the line is not its
    plain = sn.Verifier(witness.name, sn.key_id(witness.name, 0x01, witness.verifier.public), 0x01, witness.verifier.public)
    assert code_of(lambda: sn.open_note(cosigned, [plain])) == "unverified_note"


def test_a_cosignature_does_not_hold_for_another_timestamp_or_text():
    log = sn.generate("kaohe.example/audit")
    witness = sn.generate("jijian.kaohe.example/witness", sn.COSIGNATURE_V1)
    signed = sn.sign_checkpoint(sn.Checkpoint("kaohe.example/audit", 7, bytes(range(32))), log)
    cosigned = sn.add_signature(signed, witness, [log.verifier], timestamp=100)
    line = sn.parse(cosigned)[1][1]
    moved = sn.Signature(line.name, line.key_id, struct.pack(">Q", 101) + line.signature[8:])
    assert code_of(lambda: sn.open_note(signed + moved.line, [witness.verifier])) == "invalid_signature"
    other = sn.sign_checkpoint(sn.Checkpoint("kaohe.example/audit", 8, bytes(range(32))), log)
    assert code_of(lambda: sn.open_note(other + line.line, [witness.verifier])) == "invalid_signature"
    too_late = sn.Signature(line.name, line.key_id, struct.pack(">Q", 2**63) + line.signature[8:])
    assert code_of(lambda: sn.open_note(signed + too_late.line, [witness.verifier])) == "invalid_signature"


def test_a_witness_does_not_cosign_what_the_logs_key_did_not_sign():
    log, stranger = sn.generate("kaohe.example/audit"), sn.generate("kaohe.example/audit")
    witness = sn.generate("jijian.kaohe.example/witness", sn.COSIGNATURE_V1)
    forged = sn.sign_checkpoint(sn.Checkpoint("kaohe.example/audit", 7, bytes(32)), stranger)
    assert code_of(lambda: sn.add_signature(forged, witness, [log.verifier], timestamp=1)) == "unverified_note"
    good = sn.sign_checkpoint(sn.Checkpoint("kaohe.example/audit", 7, bytes(32)), log)
    assert code_of(lambda: sn.add_signature(good, witness, [log.verifier])) == "invalid_timestamp"
    assert code_of(lambda: sn.add_signature(good, witness, [log.verifier], timestamp=2**63)) == "invalid_timestamp"


def test_a_signed_note_signer_key_also_signs_the_chains_digest():
    """KAOHE_AUDIT_SIGNING_KEY may now hold what ``keygen --name`` prints; ``digest --sign`` and
    ``export`` keep working with it, the digest carrying the same Ed25519 public key."""
    from services.audit import check_digest, make_digest

    signer = sn.generate("kaohe.example/audit")
    public = base64.b64encode(signer.verifier.public).decode()
    digest = make_digest((3, "ab" * 32), signer.skey)
    assert digest["public_key"] == public and check_digest(digest, public) is digest
    assert code_of(lambda: make_digest((3, "ab" * 32), signer.skey[:-2])) == "invalid_signer_key"


def test_a_verifier_made_from_a_raw_public_key_is_the_published_one():
    v = sn.parse_verifier(PETER_VKEY)
    assert sn.verifier_for("PeterNeumann", v.public) == v
    assert code_of(lambda: sn.verifier_for("PeterNeumann", v.public[:31])) == "invalid_verifier_key"


# ---------------------------------------------------------------- tlog-proof text

SPEC_PROOF_HEAD = (  # c2sp.org/tlog-proof's example, up to its checkpoint (whose signatures the spec elides)
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
)


def _fancylog() -> tuple[sn.Signer, str]:
    log = sn.generate("example.com/fancylog")
    cp = sn.Checkpoint("example.com/fancylog", 109482, base64.b64decode("sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08="))
    return log, sn.sign_checkpoint(cp, log)


def test_the_specs_example_proof_reads_and_writes_back_the_same_text():
    log, checkpoint = _fancylog()
    text = SPEC_PROOF_HEAD + "\n" + checkpoint
    proof = sn.TlogProof.parse(text)
    assert proof.index == 73894 and len(proof.hashes) == 5 and proof.checkpoint == checkpoint
    assert proof.extra == base64.b64decode("YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ")
    assert proof.text() == text
    assert sn.open_checkpoint(proof.checkpoint, [log.verifier])[0].size == 109482
    # read by hand from the spec's text: header, optional extra, index, hashes, empty line, checkpoint
    head, tail = proof.text().split("\n\n", 1)
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[2] == "index 73894"
    assert [base64.b64decode(h) for h in lines[3:]] == list(proof.hashes)
    assert ref.read_checkpoint(ref.verified_text(tail, log.verifier.vkey)[0])[1] == 109482


def test_a_proof_without_extra_or_hashes_round_trips():
    _, checkpoint = _fancylog()
    proof = sn.TlogProof(0, (), checkpoint)
    assert proof.text() == "c2sp.org/tlog-proof@v1\nindex 0\n\n" + checkpoint
    assert sn.TlogProof.parse(proof.text()) == proof


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace("tlog-proof@v1", "tlog-proof@v2", 1),
    lambda t: t.replace("index 73894", "index 073894"),
    lambda t: t.replace("index 73894", "idx 73894"),
    lambda t: t.replace("AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=", "AHCioX9n"),
    lambda t: t.replace("extra YWdl", "extra !Wdl"),
    lambda t: t.replace("\n\n", "\n", 1),
    lambda t: t[: t.rindex("\n\u2014")] + "\n",  # the checkpoint's signatures cut off
])
def test_malformed_proofs_are_refused(mangle):
    _, checkpoint = _fancylog()
    with pytest.raises(sn.NoteError):
        sn.TlogProof.parse(mangle(SPEC_PROOF_HEAD + "\n" + checkpoint))
