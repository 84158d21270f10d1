"""A Merkle tree over the event log (RFC 9162 §2.1), as pure functions over a node store.

Hashing (RFC 9162 §2.1.1): a leaf is ``SHA-256(0x00 ‖ data)``, an inner node
``SHA-256(0x01 ‖ left ‖ right)``, the empty tree ``SHA-256()``. The tree hash of n > 1 leaves
splits at k, the largest power of two smaller than n: ``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``.

Leaf data is each event's canonical record exactly as the linear chain (``domain.ledger.link``)
hashes it today: ``f"{position}\\x1f{originator_id}\\x1f{version}\\x1f{topic}\\x1f" ‖ SHA-256(state)``
(see :func:`leaf_data`), so the chain and the tree attest the same bytes.

Incremental representation. The store holds the hash of every *complete* subtree: node
``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``. Appending leaf i writes
``(0, i)`` and then, while the new node is a right child, its parent: at most log2(n)+1 nodes
(:func:`appended`). Every range the RFC's recursion visits — for any tree size m ≤ n — starts at a
multiple of the next power of two above its length, so it splits into at most log2(n) stored
complete subtrees; a root, an inclusion proof and a consistency proof therefore each read
O(log n) nodes (:func:`root`, :func:`inclusion_proof`, :func:`consistency_proof`). Storage is
abstract: ``get_node(level, index) -> bytes``; :class:`MemoryNodes` is the in-memory store.

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, needing no store.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Iterable

GetNode = Callable[[int, int], bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_data(position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The leaf bytes of one stored event: the canonical record the hash chain links
    (``domain.ledger.link`` hashes ``prev_hash ‖ leaf_data(...)``). ``originator_id`` is the UUID's hex."""
    return f"{position}\x1f{originator_id}\x1f{version}\x1f{topic}\x1f".encode() + hashlib.sha256(state).digest()


def event_leaf_hash(position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    return leaf_hash(leaf_data(position, originator_id, version, topic, state))


# -- writing -------------------------------------------------------------------------------------

def appended(get_node: GetNode, new_leaf_hash: bytes, n: int) -> list[tuple[int, int, bytes]]:
    """The nodes to store when the leaf with hash ``new_leaf_hash`` becomes the n-th (so its index
    is n-1): the leaf and every complete subtree it completes, bottom up. Reads at most log2(n)
    left siblings through ``get_node`` (nodes already stored)."""
    if n < 1:
        raise ValueError("n is the tree size after the append, at least 1")
    index, level, h = n - 1, 0, new_leaf_hash
    out = [(0, index, h)]
    while index & 1:
        h = node_hash(get_node(level, index - 1), h)
        index >>= 1
        level += 1
        out.append((level, index, h))
    return out


def append_many(get_node: GetNode, leaf_hashes: Iterable[bytes], size: int) -> list[tuple[int, int, bytes]]:
    """The nodes to store when ``leaf_hashes`` are appended, in order, to a tree of ``size`` leaves
    (one transaction's batch: nodes written earlier in the batch are read from the batch)."""
    batch: dict[tuple[int, int], bytes] = {}
    out: list[tuple[int, int, bytes]] = []

    def read(level: int, index: int) -> bytes:
        got = batch.get((level, index))
        return got if got is not None else get_node(level, index)

    for h in leaf_hashes:
        size += 1
        for level, index, nh in appended(read, h, size):
            batch[(level, index)] = nh
            out.append((level, index, nh))
    return out


# -- reading -------------------------------------------------------------------------------------

def _largest_power_of_two_below(n: int) -> int:
    """k with k < n ≤ 2k (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(get_node: GetNode, start: int, size: int) -> bytes:
    """MTH(D[start:start+size]) for a range the RFC recursion visits (``start`` a multiple of the
    smallest power of two ≥ ``size``): the right fold of its ≤ log2(size)+1 stored complete subtrees."""
    if size <= 0:
        raise ValueError("an empty range has no subtree hash")
    parts: list[bytes] = []
    at = start
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            if at % (1 << level):
                raise ValueError(f"range [{start}, {start + size}) is not aligned")
            parts.append(get_node(level, at >> level))
            at += 1 << level
    h = parts[-1]
    for p in reversed(parts[:-1]):
        h = node_hash(p, h)
    return h


def root(get_node: GetNode, size: int) -> bytes:
    """The Merkle tree hash of the first ``size`` leaves (any size up to what is stored)."""
    return EMPTY_ROOT if size == 0 else subtree_hash(get_node, 0, size)


def inclusion_proof(get_node: GetNode, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, n, m = 0, size, index
    while n > 1:
        k = _largest_power_of_two_below(n)
        if m < k:  # the leaf is on the left: the right subtree's hash joins the path
            path.append(subtree_hash(get_node, start + k, n - k))
            n = k
        else:
            path.append(subtree_hash(get_node, start, k))
            start, n, m = start + k, n - k, m - k
    path.reverse()
    return path


def consistency_proof(get_node: GetNode, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) (RFC 9162 §2.1.4.1); empty when old_size is 0 or equals new_size."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    proof: list[bytes] = []
    start, n, m, whole = 0, new_size, old_size, True
    while m != n:
        k = _largest_power_of_two_below(n)
        if m <= k:
            proof.append(subtree_hash(get_node, start + k, n - k))
            n = k
        else:
            proof.append(subtree_hash(get_node, start, k))
            start, n, m, whole = start + k, n - k, m - k, False
    if not whole:
        proof.append(subtree_hash(get_node, start, n))
    proof.reverse()
    return proof


# -- verifying (RFC 9162 §2.1.3.2, §2.1.4.2) ------------------------------------------------------

def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root_hash: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root_hash``."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """Whether ``proof`` shows the tree of ``new_size`` (``new_root``) extends the one of ``old_size`` (``old_root``)."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # everything extends the empty tree; there is nothing to prove
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# -- an in-memory store, and rebuilding a store from a log ----------------------------------------

class MemoryNodes:
    """The node table in memory: ``levels[level][index]`` (complete subtrees only)."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []
        self.size = 0

    def get(self, level: int, index: int) -> bytes:
        try:
            return self.levels[level][index]
        except IndexError:
            raise KeyError((level, index)) from None

    def put(self, level: int, index: int, h: bytes) -> None:
        while len(self.levels) <= level:
            self.levels.append([])
        row = self.levels[level]
        if index == len(row):
            row.append(h)
        elif index < len(row):
            row[index] = h
        else:
            raise ValueError(f"node ({level}, {index}) written before its left neighbours")

    def append(self, h: bytes) -> None:
        self.size += 1
        for level, index, nh in appended(self.get, h, self.size):
            self.put(level, index, nh)

    def root(self, size: int | None = None) -> bytes:
        return root(self.get, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.get, index, self.size if size is None else size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(self.get, old_size, self.size if new_size is None else new_size)


def rebuild(events: Iterable[tuple]) -> Iterable[tuple[int, int, bytes]]:
    """Every node of the tree over a log, from its events ``(position, originator_id, version, topic, state)``
    in position order (leaf i = the i-th event): the backfill for a log stored before the tree.
    Constant memory beyond the ≤ log2(n)+1 open right-edge nodes."""
    edge: dict[int, bytes] = {}  # level -> the latest node at that level (a left sibling awaiting its pair)
    n = 0
    for e in events:
        n += 1
        for level, index, h in appended(lambda lv, ix: edge[lv], event_leaf_hash(*e), n):
            edge[level] = h
            yield level, index, h
