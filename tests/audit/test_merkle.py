"""Merkle tree against a naive RFC 6962 reference, plus proof soundness checks."""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    leaf_hashes_of,
    node_hash,
    root_from_entries,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)


def reference_mth(entries: list[bytes]) -> bytes:
    """MTH exactly as written in RFC 6962 §2.1 (recursive, slow, obviously right)."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    split = 1
    while split * 2 < len(entries):
        split *= 2
    left, right = reference_mth(entries[:split]), reference_mth(entries[split:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def make_entries(count: int, salt: int = 0) -> list[bytes]:
    return [b"entry-%d-%d" % (salt, number) for number in range(count)]


def flip_first_bit(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


# --- hashes and roots -----------------------------------------------------------------------


def test_leaf_and_node_hash_use_rfc_domain_prefixes() -> None:
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert root_from_entries([]) == EMPTY_ROOT
    assert TreeBuilder().root() == EMPTY_ROOT


def test_known_answer_for_rfc_6962_test_vector() -> None:
    # Root of the 8 leaves used by the Certificate Transparency reference tests.
    leaves = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    expected = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert root_from_entries(leaves).hex() == expected


@settings(max_examples=60, deadline=None)
@given(count=st.integers(min_value=0, max_value=300), salt=st.integers(0, 10**6))
def test_all_root_computations_match_reference(count: int, salt: int) -> None:
    entries = make_entries(count, salt)
    expected = reference_mth(entries)
    hashes = leaf_hashes_of(entries)
    assert hashes == [leaf_hash(entry) for entry in entries]
    assert root_from_leaf_hashes(hashes) == expected
    assert root_from_entries(entries) == expected
    assert MerkleTree(hashes).root() == expected


@pytest.mark.parametrize("count", [1023, 1024, 1025, 2048 + 3, 3 * 1024 + 517])
def test_chunked_fast_path_matches_reference_around_chunk_boundaries(count: int) -> None:
    entries = make_entries(count)
    assert root_from_entries(entries) == reference_mth(entries)


def test_tree_builder_reports_correct_root_at_every_size() -> None:
    entries = make_entries(70)
    builder = TreeBuilder()
    for size, entry in enumerate(entries, start=1):
        builder.append_entry(entry)
        assert builder.size == size
        assert builder.root() == reference_mth(entries[:size])


@settings(max_examples=25, deadline=None)
@given(split_points=st.lists(st.integers(0, 2500), max_size=4))
def test_tree_builder_mixed_bulk_and_single_appends(split_points: list[int]) -> None:
    entries = make_entries(2500)
    hashes = leaf_hashes_of(entries)
    builder = TreeBuilder()
    bounds = [0, *sorted(split_points), len(hashes)]
    for start, end in pairwise(bounds):
        if start < end:
            builder.append(hashes[start])  # a single step leaves the size unaligned
            builder.extend(hashes[start + 1 : end])
    assert builder.size == len(entries)
    assert builder.root() == root_from_leaf_hashes(hashes)


def test_merkle_tree_root_of_any_prefix_matches_reference() -> None:
    entries = make_entries(40)
    tree = MerkleTree(leaf_hashes_of(entries))
    for size in range(41):
        assert tree.root(size) == reference_mth(entries[:size])


# --- inclusion ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(count=st.integers(min_value=1, max_value=300), salt=st.integers(0, 10**6))
def test_every_inclusion_proof_verifies(count: int, salt: int) -> None:
    entries = make_entries(count, salt)
    hashes = leaf_hashes_of(entries)
    tree = MerkleTree(hashes)
    root = reference_mth(entries)
    for index in range(count):
        proof = tree.inclusion_proof(index, count)
        assert verify_inclusion(hashes[index], index, count, proof, root)


def test_inclusion_proofs_in_older_trees_verify_against_older_roots() -> None:
    entries = make_entries(33)
    hashes = leaf_hashes_of(entries)
    for size in range(1, 34):
        old_root = reference_mth(entries[:size])
        for index in range(size):
            proof = inclusion_proof(hashes, index, size)
            assert verify_inclusion(hashes[index], index, size, proof, old_root)


def test_inclusion_fails_for_tampered_leaf_wrong_index_or_wrong_root() -> None:
    entries = make_entries(21)
    hashes = leaf_hashes_of(entries)
    root = root_from_leaf_hashes(hashes)
    for index in range(21):
        proof = inclusion_proof(hashes, index, 21)
        assert not verify_inclusion(leaf_hash(entries[index] + b"!"), index, 21, proof, root)
        assert not verify_inclusion(hashes[index], (index + 1) % 21, 21, proof, root)
        assert not verify_inclusion(hashes[index], index, 21, proof, flip_first_bit(root))


@pytest.mark.parametrize("size", [1, 2, 5, 8, 13])
def test_inclusion_fails_for_altered_truncated_or_extended_proof(size: int) -> None:
    hashes = leaf_hashes_of(make_entries(size))
    root = root_from_leaf_hashes(hashes)
    for index in range(size):
        proof = inclusion_proof(hashes, index, size)
        for position in range(len(proof)):
            altered = list(proof)
            altered[position] = flip_first_bit(altered[position])
            assert not verify_inclusion(hashes[index], index, size, altered, root)
        if proof:
            assert not verify_inclusion(hashes[index], index, size, proof[:-1], root)
        assert not verify_inclusion(hashes[index], index, size, proof + [root], root)


def test_inclusion_rejects_out_of_range_and_malformed_inputs() -> None:
    hashes = leaf_hashes_of(make_entries(4))
    root = root_from_leaf_hashes(hashes)
    proof = inclusion_proof(hashes, 1, 4)
    assert verify_inclusion(hashes[1], 1, 4, proof, root)
    assert not verify_inclusion(hashes[1], 4, 4, proof, root)
    assert not verify_inclusion(hashes[1], -1, 4, proof, root)
    assert not verify_inclusion(hashes[1], 1, 4, [node[:31] for node in proof], root)
    assert not verify_inclusion(hashes[1][:31], 1, 4, proof, root)
    with pytest.raises(ValueError):
        inclusion_proof(hashes, 4, 4)
    with pytest.raises(ValueError):
        inclusion_proof(hashes, 0, 5)


# --- consistency ----------------------------------------------------------------------------


def test_consistency_proofs_verify_for_all_size_pairs() -> None:
    entries = make_entries(40)
    hashes = leaf_hashes_of(entries)
    tree = MerkleTree(hashes)
    roots = [reference_mth(entries[:size]) for size in range(41)]
    for new_size in range(41):
        for old_size in range(new_size + 1):
            proof = tree.consistency_proof(old_size, new_size)
            assert proof == consistency_proof(hashes, old_size, new_size)
            assert verify_consistency(old_size, new_size, roots[old_size], roots[new_size], proof)


def test_consistency_fails_when_an_old_leaf_is_altered() -> None:
    entries = make_entries(24)
    honest_roots = [reference_mth(entries[:size]) for size in range(25)]
    for altered_index in range(24):
        forged = list(entries)
        forged[altered_index] += b" (rewritten)"
        forged_tree = MerkleTree(leaf_hashes_of(forged))
        for new_size in range(altered_index + 1, 25):
            for old_size in range(altered_index + 1, new_size):
                # The log rewrote history: its new tree cannot extend the honest old one.
                proof = forged_tree.consistency_proof(old_size, new_size)
                forged_root = forged_tree.root(new_size)
                old_root = honest_roots[old_size]
                assert not verify_consistency(old_size, new_size, old_root, forged_root, proof)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_consistency_fails_for_altered_proof_or_swapped_roots(data: st.DataObject) -> None:
    new_size = data.draw(st.integers(2, 200), label="new_size")
    old_size = data.draw(st.integers(1, new_size - 1), label="old_size")
    tree = MerkleTree(leaf_hashes_of(make_entries(new_size)))
    old_root, new_root = tree.root(old_size), tree.root(new_size)
    proof = tree.consistency_proof(old_size, new_size)
    assert verify_consistency(old_size, new_size, old_root, new_root, proof)
    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    altered = list(proof)
    altered[position] = flip_first_bit(altered[position])
    assert not verify_consistency(old_size, new_size, old_root, new_root, altered)
    assert not verify_consistency(old_size, new_size, new_root, old_root, proof)
    assert not verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
    assert not verify_consistency(old_size, new_size, old_root, new_root, proof + [new_root])
    assert not verify_consistency(old_size + 1, new_size, old_root, new_root, proof)


def test_consistency_edge_cases() -> None:
    tree = MerkleTree(leaf_hashes_of(make_entries(5)))
    root = tree.root()
    assert verify_consistency(5, 5, root, root, [])
    assert not verify_consistency(5, 5, root, flip_first_bit(root), [])
    assert not verify_consistency(5, 5, root, root, [root])
    assert verify_consistency(0, 5, EMPTY_ROOT, root, [])
    assert not verify_consistency(0, 5, root, root, [])
    assert not verify_consistency(4, 3, tree.root(4), tree.root(3), [])
    assert not verify_consistency(2, 5, tree.root(2), root, [])
    with pytest.raises(ValueError):
        tree.consistency_proof(3, 6)
