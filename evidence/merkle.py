"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, inclusion and consistency proofs.

No Django: the offline verifier's modules import it. The hashes and the proof checks themselves are the
standalone bundle verifier's (``evidence.bundle``), so that the ledger and the verifier share one
implementation.
Leaf hash = SHA-256(0x00 || leaf data); node hash = SHA-256(0x01 || left || right); the root of an
empty tree is SHA-256 of nothing. Hashes are raw 32-byte values here; callers hex-encode.
"""

import hashlib
from collections.abc import Iterable, Sequence

from evidence.bundle import leaf_hash as leaf_hash
from evidence.bundle import node_hash as node_hash
from evidence.bundle import verify_consistency as verify_consistency
from evidence.bundle import verify_inclusion as verify_inclusion

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(leaves: Iterable[bytes]) -> tuple[int, bytes]:
    """(tree size, root) of the leaves in order, in O(n) time and O(log n) memory."""
    stack: list[tuple[int, bytes]] = []  # (subtree size, hash), sizes strictly decreasing powers of two
    size = 0
    for leaf in leaves:
        size += 1
        node = (1, leaf)
        while stack and stack[-1][0] == node[0]:
            left = stack.pop()
            node = (left[0] * 2, node_hash(left[1], node[1]))
        stack.append(node)
    if not stack:
        return 0, hashlib.sha256(b"").digest()
    root = stack[-1][1]
    for _size, left_hash in reversed(stack[:-1]):
        root = node_hash(left_hash, root)
    return size, root


def subtree_root(leaves: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes(leaves)[1]


def inclusion_proof(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``leaves`` (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = largest_power_of_two_below(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), subtree_root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), subtree_root(leaves[:k])]


def consistency_proof(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """Proof that the first ``old_size`` leaves are a prefix of ``leaves`` (RFC 9162 §2.1.4.1)."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no consistency proof from size {old_size} to {len(leaves)}")
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [subtree_root(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), subtree_root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), subtree_root(leaves[:k])]


class TreeAccumulator:
    """A growing tree kept as its O(log n) perfect subtree roots: append leaves, read the root at any time."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, hash), strictly decreasing powers of two
        self.size = 0

    def append(self, leaf: bytes) -> None:
        node = (1, leaf)
        while self._stack and self._stack[-1][0] == node[0]:
            left = self._stack.pop()
            node = (left[0] * 2, node_hash(left[1], node[1]))
        self._stack.append(node)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _size, left_hash in reversed(self._stack[:-1]):
            root = node_hash(left_hash, root)
        return root


class MerkleTree:
    """Every level of an RFC 9162 tree, built once; roots, inclusion and consistency proofs in O(log n).

    Level 0 holds the leaf hashes; level j+1 pairs the nodes of level j left to right and carries a lone
    last node up unchanged. Node ``i`` of level ``j`` is then the RFC 9162 hash of leaves
    ``[i * 2**j, min((i + 1) * 2**j, n))`` (the RFC splits at the largest power of two below the size, which
    is exactly where this pairing puts the left subtree), so any subtree the RFC's recursion names is
    either one stored node or, for a prefix of the tree, a left node and a shorter right part.
    Levels are packed bytes (32 per node) to keep a million-leaf tree at about 64 MB.
    """

    def __init__(self, leaves: Iterable[bytes]) -> None:
        packed = bytearray()
        for leaf in leaves:
            if len(leaf) != HASH_SIZE:
                raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
            packed += leaf
        level = bytes(packed)
        self.size = len(level) // HASH_SIZE
        self._levels = [level]
        while len(level) > HASH_SIZE:
            level = self._pair_up(level)
            self._levels.append(level)

    @staticmethod
    def _pair_up(level: bytes) -> bytes:
        count = len(level) // HASH_SIZE
        out = bytearray()
        sha256 = hashlib.sha256
        for start in range(0, (count - 1) * HASH_SIZE, 2 * HASH_SIZE):
            out += sha256(b"\x01" + level[start : start + 2 * HASH_SIZE]).digest()
        if count % 2:
            out += level[-HASH_SIZE:]
        return bytes(out)

    def _node(self, level: int, index: int) -> bytes:
        start = index * HASH_SIZE
        return self._levels[level][start : start + HASH_SIZE]

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        return self._node(0, index)

    def _range_root(self, lo: int, hi: int) -> bytes:
        """The RFC 9162 hash of leaves [lo, hi), for the ranges the RFC's recursion produces."""
        width = hi - lo
        level = (width - 1).bit_length()  # the smallest power of two >= width is 2**level
        if lo % (1 << level) == 0 and (width == 1 << level or hi == self.size):
            return self._node(level, lo >> level)
        split = 1 << (level - 1)
        return node_hash(self._range_root(lo, lo + split), self._range_root(lo + split, hi))

    def _check_size(self, size: int | None) -> int:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of size {size} in a tree of {self.size} leaves")
        return size

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all of them by default)."""
        size = self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._range_root(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path for leaf ``index`` in the tree of the first ``size`` leaves (RFC 9162 §2.1.3.1)."""
        size = self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            split = largest_power_of_two_below(hi - lo)
            if index < lo + split:
                path.append(self._range_root(lo + split, hi))
                hi = lo + split
            else:
                path.append(self._range_root(lo, lo + split))
                lo += split
        path.reverse()  # the RFC lists the path from the leaf up
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Proof that the first ``old_size`` leaves prefix the first ``new_size`` (RFC 9162 §2.1.4.1)."""
        new_size = self._check_size(new_size)
        if not 0 < old_size <= new_size:
            raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
        path: list[bytes] = []
        lo, hi, old, complete = 0, new_size, old_size, True
        while old != hi - lo:
            split = largest_power_of_two_below(hi - lo)
            if old <= split:
                path.append(self._range_root(lo + split, hi))
                hi = lo + split
            else:
                path.append(self._range_root(lo, lo + split))
                lo += split
                old -= split
                complete = False
        if not complete:
            path.append(self._range_root(lo, hi))
        path.reverse()
        return path
