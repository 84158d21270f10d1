"""The Merkle tree (domain/merkle.py) against RFC 9162 §2.1 itself.

The reference below is written here, straight from the RFC's text, with no project code: the
recursive MTH (§2.1.1), PATH (§2.1.3.1), PROOF/SUBPROOF (§2.1.4.1) over a list of leaf data, and
the verification algorithms of §2.1.3.2 and §2.1.4.2. The project's incremental node store must
give the same roots and the same proofs, for every tree size 1..70 and every older size, and its
proofs must verify under the reference verifier (and the reference proofs under the project's).
Known vectors: the RFC 6962/9162 test data of transparency-dev/merkle (testonly/constants.go and
proof/verify_test.go), the 8-leaf tree used across Certificate Transparency implementations."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger, merkle


# -- the reference, from the RFC text ------------------------------------------------------------

def H(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + d[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return H(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


def ref_verify_inclusion(leaf_index, tree_size, inclusion_path, leaf_hash, root_hash) -> bool:
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in inclusion_path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = H(b"\x01" + p + r)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = H(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def ref_verify_consistency(first, second, first_hash, second_hash, consistency_path) -> bool:
    if not consistency_path:
        return False
    if first & (first - 1) == 0:
        consistency_path = [first_hash] + consistency_path
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = consistency_path[0]
    for c in consistency_path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = H(b"\x01" + c + fr)
            sr = H(b"\x01" + c + sr)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = H(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0


def data(i: int) -> bytes:
    return f"leaf {i}".encode() * (i % 3)  # includes empty leaves


MAX = 70
D = [data(i) for i in range(MAX)]


@pytest.fixture(scope="module")
def store():
    s = merkle.MemoryNodes()
    for d in D:
        s.append(merkle.leaf_hash(d))
    return s


# -- against the reference -----------------------------------------------------------------------

def test_roots_of_every_size_equal_the_rfc_tree_hash(store):
    assert store.root(0) == H(b"") == merkle.EMPTY_ROOT
    for n in range(1, MAX + 1):
        assert store.root(n) == mth(D[:n]), n


def test_every_inclusion_proof_equals_path_and_verifies(store):
    for n in range(1, MAX + 1):
        r = mth(D[:n])
        for m in range(n):
            got = store.inclusion_proof(m, n)
            assert got == path(m, D[:n]), (m, n)
            lh = H(b"\x00" + D[m])
            assert ref_verify_inclusion(m, n, got, lh, r), (m, n)
            assert merkle.verify_inclusion(lh, m, n, got, r), (m, n)


def test_every_consistency_proof_equals_proof_and_verifies(store):
    for n in range(1, MAX + 1):
        rn = mth(D[:n])
        for m in range(1, n):
            got = store.consistency_proof(m, n)
            assert got == proof(m, D[:n]), (m, n)
            rm = mth(D[:m])
            assert ref_verify_consistency(m, n, rm, rn, got), (m, n)
            assert merkle.verify_consistency(m, n, rm, rn, got), (m, n)
        assert store.consistency_proof(n, n) == []
        assert merkle.verify_consistency(n, n, rn, rn, [])
        assert merkle.verify_consistency(0, n, H(b""), rn, [])


def flips(p: list[bytes]):
    """Proofs that differ from p in one way: a bit, a hash dropped, added, swapped."""
    for i in range(len(p)):
        q = list(p)
        q[i] = bytes([q[i][0] ^ 8]) + q[i][1:]
        yield q
    if p:
        yield p[:-1]
        yield p[1:]
    yield p + [H(b"x")]
    yield [H(b"x")] + p
    for i in range(len(p) - 1):
        if p[i] != p[i + 1]:
            q = list(p)
            q[i], q[i + 1] = q[i + 1], q[i]
            yield q


def test_tampered_inclusion_proofs_fail(store):
    for n in range(1, 40):
        r = store.root(n)
        for m in range(n):
            p = store.inclusion_proof(m, n)
            lh = merkle.leaf_hash(D[m])
            for q in flips(p):
                assert not merkle.verify_inclusion(lh, m, n, q, r), (m, n, q)
            assert not merkle.verify_inclusion(merkle.leaf_hash(D[m] + b"!"), m, n, p, r)
            assert not merkle.verify_inclusion(lh, m, n, p, H(b"other root"))
            for m2 in {m - 1, m + 1, m ^ 2} - {m}:
                if 0 <= m2 < n and D[m2] != D[m]:
                    assert not merkle.verify_inclusion(lh, m2, n, p, r), (m, m2, n)
            assert not merkle.verify_inclusion(lh, n, n, p, r)
            if n > 1:
                assert not merkle.verify_inclusion(lh, m, 2 * n, p, r)


def test_tampered_consistency_proofs_fail(store):
    for n in range(2, 40):
        rn = store.root(n)
        for m in range(1, n):
            p = store.consistency_proof(m, n)
            rm = store.root(m)
            for q in flips(p):
                assert not merkle.verify_consistency(m, n, rm, rn, q), (m, n, q)
            assert not merkle.verify_consistency(m, n, rn, rm, p)
            assert not merkle.verify_consistency(m, n, H(b"x"), rn, p)
            assert not merkle.verify_consistency(m, n, rm, H(b"x"), p)
            assert not merkle.verify_consistency(m, n, rm, rn, [])
            assert not merkle.verify_consistency(n, m, rn, rm, p)
    # a changed old leaf: the old root no longer fits the new tree
    changed = merkle.MemoryNodes()
    for i, d in enumerate(D[:30]):
        changed.append(merkle.leaf_hash(d + b"!" if i == 7 else d))
    assert not merkle.verify_consistency(20, 30, store.root(20), changed.root(30), changed.consistency_proof(20, 30))
    assert merkle.verify_consistency(20, 30, changed.root(20), changed.root(30), changed.consistency_proof(20, 30))


def test_a_proof_reads_only_log_n_nodes(store):
    big = merkle.MemoryNodes()
    for i in range(5000):
        big.append(merkle.leaf_hash(str(i).encode()))
    reads = []

    def counting(level, index):
        reads.append((level, index))
        return big.get(level, index)

    for call in (lambda: merkle.root(counting, 4999), lambda: merkle.inclusion_proof(counting, 1234, 4999),
                 lambda: merkle.consistency_proof(counting, 3333, 4999)):
        reads.clear()
        call()
        assert 0 < len(reads) <= 2 * 13, len(reads)  # log2(5000) ≈ 12.3


def test_an_append_writes_at_most_log_n_plus_one_nodes():
    s = merkle.MemoryNodes()
    for n in range(1, 1100):
        w = merkle.appended(s.get, merkle.leaf_hash(b"%d" % n), n)
        trailing_zeros = (n & -n).bit_length() - 1  # leaf n-1 completes one subtree per trailing 1 of n-1
        assert len(w) == 1 + trailing_zeros <= n.bit_length()
        for lv, ix, h in w:
            s.put(lv, ix, h)
        s.size = n
    assert s.root() == mth([b"%d" % n for n in range(1, 1100)])


def test_a_batch_append_equals_one_by_one():
    one = merkle.MemoryNodes()
    for d in D[:10]:
        one.append(merkle.leaf_hash(d))
    batch = merkle.MemoryNodes()
    for d in D[:3]:
        batch.append(merkle.leaf_hash(d))
    for lv, ix, h in merkle.append_many(batch.get, [merkle.leaf_hash(d) for d in D[3:10]], 3):
        batch.put(lv, ix, h)
    batch.size = 10
    assert batch.levels == one.levels
    assert batch.root() == mth(D[:10])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=300), st.data())
def test_any_leaves_any_sizes(leaves, draw):
    s = merkle.MemoryNodes()
    for d in leaves:
        s.append(merkle.leaf_hash(d))
    n = draw.draw(st.integers(1, len(leaves)))
    m = draw.draw(st.integers(0, n - 1))
    old = draw.draw(st.integers(1, n))
    assert s.root(n) == mth(leaves[:n])
    assert s.inclusion_proof(m, n) == path(m, leaves[:n])
    assert s.consistency_proof(old, n) == (proof(old, leaves[:n]) if old < n else [])


# -- the known vectors (transparency-dev/merkle testonly/constants.go, proof/verify_test.go) -------

LEAVES = [bytes.fromhex(x) for x in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(x) for x in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
X = bytes.fromhex
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 8, [X("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            X("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            X("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (5, 8, [X("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            X("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            X("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 3, [X("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (1, 5, [X("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            X("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            X("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]
CONSISTENCY = [  # (size1, size2, proof)
    (1, 8, [X("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            X("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            X("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [X("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            X("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            X("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [X("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            X("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [X("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            X("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            X("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]


@pytest.fixture(scope="module")
def vectors():
    s = merkle.MemoryNodes()
    for d in LEAVES:
        s.append(merkle.leaf_hash(d))
    return s


def test_known_roots(vectors):
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert [vectors.root(n) for n in range(1, 9)] == ROOTS
    assert vectors.get(3, 0) == ROOTS[7]
    assert vectors.get(0, 7).hex() == "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"


@pytest.mark.parametrize("index, size, want", INCLUSION)
def test_known_inclusion_proofs(vectors, index, size, want):
    assert vectors.inclusion_proof(index, size) == want
    assert merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, want, ROOTS[size - 1])


@pytest.mark.parametrize("old, new, want", CONSISTENCY)
def test_known_consistency_proofs(vectors, old, new, want):
    assert vectors.consistency_proof(old, new) == want
    assert merkle.verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], want)


# -- the leaf of a stored event ------------------------------------------------------------------

def test_the_leaf_is_the_record_the_chain_links():
    oid = uuid.uuid4().hex
    state = b'{"score":"8.50"}'
    rec = merkle.leaf_data(42, oid, 3, "domain.cycle:Cycle.Scored", state)
    prev = H(b"prev").hex()
    assert ledger.link(prev, 42, oid, 3, "domain.cycle:Cycle.Scored", state) == H(bytes.fromhex(prev) + rec).hex()
    assert merkle.event_leaf_hash(42, oid, 3, "domain.cycle:Cycle.Scored", state) == H(b"\x00" + rec)


def test_rebuild_from_a_log_equals_appending():
    events = [(i + 1, uuid.UUID(int=i).hex, i % 4 + 1, "t", b"s%d" % i) for i in range(37)]
    s = merkle.MemoryNodes()
    for lv, ix, h in merkle.rebuild(iter(events)):
        s.put(lv, ix, h)
    s.size = len(events)
    assert s.root() == mth([merkle.leaf_data(*e) for e in events])


def test_edge_cases_of_the_vectors_fail_or_hold_as_they_should():
    r1, r2, e = b"don't care 1", b"don't care 2", merkle.EMPTY_ROOT
    assert not merkle.verify_consistency(0, 0, r1, r2, [])  # equal sizes, different roots
    assert not merkle.verify_consistency(1, 1, r1, r2, [])
    assert merkle.verify_consistency(0, 0, r1, r1, [])
    assert merkle.verify_consistency(1, 1, r2, r2, [])
    assert not merkle.verify_consistency(1, 0, r1, r2, [])  # time travel
    assert not merkle.verify_consistency(2, 1, r1, r2, [])
    assert not merkle.verify_consistency(1, 2, r1, r2, [])  # different sizes need a proof
    assert not merkle.verify_consistency(0, 0, e, e, [e])  # equal sizes, a proof that should be empty
    assert not merkle.verify_consistency(1, 1, e, e, [e])
    assert not merkle.verify_consistency(0, 1, e, e, [e])
    some = X("abacaba000000000000000000000000000000000000000000060061e00123456")
    for index, size in ((0, 0), (1, 0), (2, 1)):
        assert not merkle.verify_inclusion(some, index, size, [], e)
    h = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(h, 0, 1, [], h)
    assert not merkle.verify_inclusion(b"", 0, 1, [], h)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(lambda lv, ix: h, 1, 1)
    with pytest.raises(ValueError):
        merkle.consistency_proof(lambda lv, ix: h, 2, 1)
