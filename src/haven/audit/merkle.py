"""Merkle tree for the audit ledger, as in Certificate Transparency (RFC 6962 / RFC 9162).

leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right), and the tree
over n leaves splits at the largest power of two below n (RFC 9162 §2.1.1).  The empty tree's
hash is SHA-256 of the empty string.

Two kinds of tool live here:

* fast root computation (``root_from_leaf_hashes``, ``root_from_entries``, ``TreeBuilder``),
  used by ``haven audit verify`` to recompute the whole ledger;
* proofs (``MerkleTree``, ``inclusion_proof``, ``consistency_proof``) and their verification
  (``verify_inclusion``, ``verify_consistency``), following RFC 9162 §2.1.3 and §2.1.4.

Speed notes: hashing a 200-byte entry costs about as much per call as hashing 65 bytes, because
the fixed cost of creating and finalising a hashlib object dominates.  So the hot loops copy a
hash object pre-seeded with the domain prefix (cheaper than a fresh ``sha256()``) and work in
cache-sized chunks of perfect subtrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
# Pre-seeded hash objects: .copy() is cheaper than building a new object and prefixing bytes.
_LEAF_SEED = hashlib.sha256(_LEAF_PREFIX)
_NODE_SEED = hashlib.sha256(_NODE_PREFIX)
# Leaves are hashed and folded in perfect subtrees of this many leaves (a power of two), so the
# working set stays in CPU cache instead of materialising a million-element list.
_CHUNK_LEAVES = 1024

_ChunkRoot = Callable[[Sequence[bytes]], bytes]
_AddOne = Callable[[bytes], None]


def leaf_hash(entry: bytes) -> bytes:
    """Hash of one ledger entry as a tree leaf: SHA-256(0x00 || entry)."""
    hasher = _LEAF_SEED.copy()
    hasher.update(entry)
    return hasher.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    hasher = _NODE_SEED.copy()
    hasher.update(left + right)
    return hasher.digest()


def leaf_hashes_of(entries: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of many entries (same as ``[leaf_hash(e) for e in entries]``, faster)."""
    copy_seed = _LEAF_SEED.copy  # bound once: this loop runs once per ledger entry
    hashes: list[bytes] = []
    append = hashes.append
    for entry in entries:
        hasher = copy_seed()
        hasher.update(entry)
        append(hasher.digest())
    return hashes


def _parent_level(level: Sequence[bytes]) -> list[bytes]:
    """Hash adjacent pairs; an odd last node is carried up unchanged.

    Carrying the odd node up yields exactly the RFC 6962 tree shape, because the RFC split
    point (largest power of two below n) always keeps left subtrees perfect.
    """
    copy_seed = _NODE_SEED.copy
    parents: list[bytes] = []
    append = parents.append
    pairs = iter(level)
    for left, right in zip(pairs, pairs, strict=False):  # odd leftover handled below
        hasher = copy_seed()
        hasher.update(left + right)
        append(hasher.digest())
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash over already-computed leaf hashes."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level: Sequence[bytes] = leaf_hashes
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def root_from_entries(entries: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle Tree Hash over raw entries: the fast path for a full ledger verify."""
    builder = TreeBuilder()
    builder.extend_entries(entries)
    return builder.root()


class TreeBuilder:
    """Incremental tree builder keeping only the "compact range" of perfect subtrees.

    The stack holds one hash per set bit of ``size`` (largest subtree first), so ``append``
    costs O(1) amortised and ``root()`` costs O(log n) at any size.
    """

    def __init__(self) -> None:
        self._size = 0
        self._subtree_roots: list[bytes] = []

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add one leaf (its hash, not the raw entry)."""
        self._push_perfect_subtree(leaf_hash, 1)

    def append_entry(self, entry: bytes) -> None:
        """Add one raw entry."""
        self._push_perfect_subtree(leaf_hash(entry), 1)

    def append_subtree(self, subtree_root: bytes, subtree_size: int) -> None:
        """Add a perfect subtree (a power of two leaves) by its root; ``size`` must be a
        multiple of ``subtree_size``."""
        if subtree_size & (subtree_size - 1) or self._size % subtree_size:
            raise ValueError(f"a subtree of {subtree_size} leaves cannot start at {self._size}")
        self._push_perfect_subtree(subtree_root, subtree_size)

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Add many leaf hashes, folding whole aligned chunks at once."""
        self._extend(leaf_hashes, root_from_leaf_hashes, self.append)

    def extend_entries(self, entries: Sequence[bytes]) -> None:
        """Add many raw entries, hashing and folding whole aligned chunks at once."""
        self._extend(entries, _root_of_entry_chunk, self.append_entry)

    def root(self) -> bytes:
        """Merkle Tree Hash of everything appended so far."""
        if not self._subtree_roots:
            return EMPTY_ROOT
        # Fold right to left: the smaller subtrees form the right edge of the tree.
        root = self._subtree_roots[-1]
        for left in reversed(self._subtree_roots[:-1]):
            root = node_hash(left, root)
        return root

    def _extend(self, items: Sequence[bytes], chunk_root: _ChunkRoot, add_one: _AddOne) -> None:
        position = 0
        # Single steps until the size is chunk-aligned, so each chunk is a perfect subtree.
        while position < len(items) and self._size % _CHUNK_LEAVES:
            add_one(items[position])
            position += 1
        while len(items) - position >= _CHUNK_LEAVES:
            chunk = items[position : position + _CHUNK_LEAVES]
            self._push_perfect_subtree(chunk_root(chunk), _CHUNK_LEAVES)
            position += _CHUNK_LEAVES
        for item in items[position:]:
            add_one(item)

    def _push_perfect_subtree(self, subtree_root: bytes, subtree_size: int) -> None:
        """Push a perfect subtree; requires ``size`` to be a multiple of ``subtree_size``."""
        self._subtree_roots.append(subtree_root)
        # Each trailing set bit of the size (in units of this subtree) is a sibling to merge.
        siblings = self._size // subtree_size
        while siblings & 1:
            right = self._subtree_roots.pop()
            left = self._subtree_roots.pop()
            self._subtree_roots.append(node_hash(left, right))
            siblings >>= 1
        self._size += subtree_size


def _root_of_entry_chunk(entries: Sequence[bytes]) -> bytes:
    return root_from_leaf_hashes(leaf_hashes_of(entries))


def _largest_power_of_two_below(size: int) -> int:
    """The RFC split point k: largest power of two strictly less than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class MerkleTree:
    """All tree levels of a fixed list of leaves, for answering many proofs cheaply.

    Level 0 is the caller's leaf list; higher levels are stored as one packed ``bytes`` each
    (32 bytes per node) to keep a million-leaf tree to ~32 MB. Building is O(n); each
    subtree hash, inclusion proof or consistency proof afterwards is O(log n).
    """

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._leaves = leaf_hashes
        self._packed_levels: list[bytes] = []
        level: Sequence[bytes] = leaf_hashes
        while len(level) > 1:
            level = _parent_level(level)
            self._packed_levels.append(b"".join(level))

    @property
    def size(self) -> int:
        return len(self._leaves)

    def root(self, tree_size: int | None = None) -> bytes:
        """Root of the whole tree, or of its first ``tree_size`` leaves."""
        size = self.size if tree_size is None else tree_size
        _check_range(0, size, self.size)
        return self.subtree_hash(0, size) if size else EMPTY_ROOT

    def subtree_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a non-empty range; O(log n) for the ranges proofs use."""
        _check_range(start, end, self.size)
        if start == end:
            raise ValueError("empty range has no subtree hash")
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            return self._perfect_subtree(start, width)
        split = start + _largest_power_of_two_below(width)
        return node_hash(self.subtree_hash(start, split), self.subtree_hash(split, end))

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 PATH(index, D[0:tree_size])."""
        _check_range(0, tree_size, self.size)
        if not 0 <= index < tree_size:
            raise ValueError(f"leaf index {index} is outside a tree of {tree_size} leaves")
        path: list[bytes] = []
        start, end = 0, tree_size
        while end - start > 1:  # descend from the root, collecting the sibling of each step
            split = start + _largest_power_of_two_below(end - start)
            if index < split:
                path.append(self.subtree_hash(split, end))
                end = split
            else:
                path.append(self.subtree_hash(start, split))
                start = split
        path.reverse()  # the RFC lists siblings from the leaf upwards
        return path

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]); empty if old_size is 0 or equal."""
        _check_range(0, new_size, self.size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is not within 0..{new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, old_is_whole_subtree=True)

    def _subproof(
        self, old_size: int, start: int, end: int, old_is_whole_subtree: bool
    ) -> list[bytes]:
        """SUBPROOF(m, D[start:end], b) of RFC 9162, written iteratively."""
        suffix: list[bytes] = []
        while old_size != end - start:
            split = _largest_power_of_two_below(end - start)
            if old_size <= split:
                suffix.append(self.subtree_hash(start + split, end))
                end = start + split
            else:
                suffix.append(self.subtree_hash(start, start + split))
                start += split
                old_size -= split
                old_is_whole_subtree = False
        head = [] if old_is_whole_subtree else [self.subtree_hash(start, end)]
        return head + suffix[::-1]

    def _perfect_subtree(self, start: int, width: int) -> bytes:
        if width == 1:
            return self._leaves[start]
        level = self._packed_levels[width.bit_length() - 2]
        offset = (start // width) * HASH_SIZE
        return level[offset : offset + HASH_SIZE]


def _check_range(start: int, end: int, limit: int) -> None:
    if not 0 <= start <= end <= limit:
        raise ValueError(f"range {start}..{end} is outside a tree of {limit} leaves")


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of the first ``tree_size`` leaves."""
    _check_range(0, tree_size, len(leaf_hashes))
    return MerkleTree(leaf_hashes[:tree_size]).inclusion_proof(index, tree_size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Proof that the tree of ``old_size`` leaves is a prefix of the one of ``new_size``."""
    _check_range(0, new_size, len(leaf_hashes))
    return MerkleTree(leaf_hashes[:new_size]).consistency_proof(old_size, new_size)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _well_formed(hashes: Iterable[object], path: object) -> bool:
    return all(map(_is_hash, hashes)) and isinstance(path, list) and all(map(_is_hash, path))


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: list[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show ``leaf_hash`` at ``index`` under ``root``?"""
    if not (_is_size(index) and _is_size(tree_size) and _well_formed([leaf_hash, root], proof)):
        return False
    if index >= tree_size:
        return False
    climbed = _climb(index, tree_size - 1, leaf_hash, proof)
    return climbed is not None and climbed[1] == root


def _climb(
    node_index: int, last_index: int, start: bytes, path: list[bytes]
) -> tuple[bytes, bytes] | None:
    """The walk RFC 9162 verifies both proofs by (§2.1.3.2, §2.1.4.2): up from the node at
    ``node_index`` (hash ``start``) of a level whose last node is ``last_index``, one sibling of
    ``path`` a level. Answers (the hash of the path's left siblings only, the hash of them all),
    or None when the path is longer or shorter than the way to the root."""
    left = full = start
    for sibling in path:
        if last_index == 0:
            return None  # path longer than the way to the root
        if node_index & 1 or node_index == last_index:
            left = node_hash(sibling, left)
            full = node_hash(sibling, full)
            while node_index and not node_index & 1:  # skip levels with no right sibling
                node_index >>= 1
                last_index >>= 1
        else:
            full = node_hash(full, sibling)
        node_index >>= 1
        last_index >>= 1
    return (left, full) if last_index == 0 else None


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (old_size, old_root) a prefix of (new_size, new_root)?

    Edge cases the RFC leaves to the caller: equal sizes need an empty proof and equal roots;
    old size 0 needs an empty proof and the empty-tree root.
    """
    if not (_is_size(old_size) and _is_size(new_size)):
        return False
    if not _well_formed([old_root, new_root], proof) or old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    return _verify_consistency_path(old_size, new_size, old_root, new_root, proof)


def _verify_consistency_path(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # old tree is a perfect subtree: its root starts the path
        path.insert(0, old_root)
    old_index, new_index = old_size - 1, new_size - 1
    while old_index & 1:
        old_index >>= 1
        new_index >>= 1
    climbed = _climb(old_index, new_index, path[0], path[1:])
    return climbed is not None and climbed == (old_root, new_root)
