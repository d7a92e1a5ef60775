"""The "haven-proof/v1" document: produced by ``haven audit prove N``, checked by ``haven-verify``.

Both sides of the format live here so they cannot drift apart.  Shape (all hashes, proofs and
canonical bytes are standard base64)::

    {
      "format": "haven-proof/v1",
      "entry": {
        "index": 41,                         # 0-based position of the entry in the ledger
        "canonical": "<b64>",                # exact canonical bytes that were leaf-hashed
        "fields": {...}                      # human-readable copy; NOT covered by any proof
      },
      "inclusion": {"tree_size": 1000, "proof": ["<b64 32 bytes>", ...]},
      "checkpoint": {<checkpoint JSON, tree_size 1000>},
      "consistency": [
        {"old": {<checkpoint>}, "new": {<checkpoint>}, "proof": ["<b64>", ...]},
        ...
      ]
    }

"checkpoint" is the newest signed checkpoint; the inclusion proof is against its tree.
"consistency" links every supplied checkpoint to the next larger one, oldest first, so its
last "new" is "checkpoint" itself; it is empty when only one checkpoint is given.  Checkpoint
JSON is defined in ``haven.audit.checkpoint``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from haven.audit.checkpoint import (
    Checkpoint,
    checkpoint_from_dict,
    checkpoint_to_dict,
    decode_base64,
)
from haven.audit.merkle import HASH_SIZE, MerkleTree, leaf_hash

PROOF_FORMAT = "haven-proof/v1"


class MalformedProofError(ValueError):
    """The document does not have the haven-proof/v1 shape (not: the proof is wrong)."""


@dataclass(frozen=True)
class ConsistencyStep:
    old: Checkpoint
    new: Checkpoint
    proof: list[bytes]


@dataclass(frozen=True)
class ProofDocument:
    index: int
    canonical_entry: bytes
    fields: dict[str, Any]
    tree_size: int
    inclusion_proof: list[bytes]
    checkpoint: Checkpoint
    consistency: list[ConsistencyStep]


# --- production -----------------------------------------------------------------------------


def build_proof_document(
    index: int,
    canonical_entry: bytes,
    fields: Mapping[str, Any],
    leaf_hashes: Sequence[bytes],
    checkpoints: Sequence[Checkpoint],
) -> dict[str, Any]:
    """Build the JSON-ready proof that ledger entry ``index`` is covered by signed checkpoints.

    ``leaf_hashes`` is the whole ledger in order; ``checkpoints`` are the signed checkpoints to
    link (any order).  Raises ValueError if the entry, the ledger and the checkpoints disagree:
    that means the ledger was altered, and no proof should be issued.
    """
    tree = MerkleTree(leaf_hashes)
    if not 0 <= index < tree.size or leaf_hashes[index] != leaf_hash(canonical_entry):
        raise ValueError(f"entry {index} does not match the ledger's leaf hash")
    chain = _checkpoint_chain(tree, checkpoints)
    latest = chain[-1]
    if index >= latest.tree_size:
        raise ValueError(f"entry {index} is not yet covered by a signed checkpoint")
    return {
        "format": PROOF_FORMAT,
        "entry": {"index": index, "canonical": _b64(canonical_entry), "fields": dict(fields)},
        "inclusion": {
            "tree_size": latest.tree_size,
            "proof": _b64_list(tree.inclusion_proof(index, latest.tree_size)),
        },
        "checkpoint": checkpoint_to_dict(latest),
        "consistency": [_consistency_step(tree, old, new) for old, new in pairwise(chain)],
    }


def _checkpoint_chain(tree: MerkleTree, checkpoints: Sequence[Checkpoint]) -> list[Checkpoint]:
    """Checkpoints by size, one per size, each checked against the recomputed tree."""
    if not checkpoints:
        raise ValueError("at least one signed checkpoint is needed")
    by_size: dict[int, Checkpoint] = {}
    for checkpoint in checkpoints:
        if checkpoint.tree_size > tree.size:
            raise ValueError(f"checkpoint of {checkpoint.tree_size} entries is beyond the ledger")
        if checkpoint.root_hash != tree.root(checkpoint.tree_size):
            raise ValueError(f"checkpoint of {checkpoint.tree_size} entries disagrees with ledger")
        by_size.setdefault(checkpoint.tree_size, checkpoint)
    return [by_size[size] for size in sorted(by_size)]


def _consistency_step(tree: MerkleTree, old: Checkpoint, new: Checkpoint) -> dict[str, Any]:
    return {
        "old": checkpoint_to_dict(old),
        "new": checkpoint_to_dict(new),
        "proof": _b64_list(tree.consistency_proof(old.tree_size, new.tree_size)),
    }


def proof_document_to_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64_list(hashes: Sequence[bytes]) -> list[str]:
    return [_b64(node) for node in hashes]


# --- parsing --------------------------------------------------------------------------------


def parse_proof_document(data: object) -> ProofDocument:
    """Check the shape of a decoded JSON document; raises MalformedProofError."""
    try:
        return _parse(data)
    except MalformedProofError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise MalformedProofError(str(error)) from error


def _parse(data: object) -> ProofDocument:
    document = _object(
        data, "document", {"format", "entry", "inclusion", "checkpoint", "consistency"}
    )
    if document["format"] != PROOF_FORMAT:
        raise MalformedProofError(f"format must be {PROOF_FORMAT!r}")
    entry = _object(document["entry"], "entry", {"index", "canonical", "fields"})
    inclusion = _object(document["inclusion"], "inclusion", {"tree_size", "proof"})
    if not isinstance(entry["fields"], dict):
        raise MalformedProofError("entry.fields must be an object")
    if not isinstance(document["consistency"], list):
        raise MalformedProofError("consistency must be a list")
    return ProofDocument(
        index=_size(entry["index"], "entry.index"),
        canonical_entry=decode_base64(entry["canonical"], "entry.canonical"),
        fields=entry["fields"],
        tree_size=_size(inclusion["tree_size"], "inclusion.tree_size"),
        inclusion_proof=_hash_list(inclusion["proof"], "inclusion.proof"),
        checkpoint=checkpoint_from_dict(document["checkpoint"]),
        consistency=[_parse_step(step) for step in document["consistency"]],
    )


def _parse_step(data: object) -> ConsistencyStep:
    step = _object(data, "consistency step", {"old", "new", "proof"})
    return ConsistencyStep(
        old=checkpoint_from_dict(step["old"]),
        new=checkpoint_from_dict(step["new"]),
        proof=_hash_list(step["proof"], "consistency proof"),
    )


def _object(data: object, what: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != keys:
        raise MalformedProofError(f"{what} must be an object with keys {sorted(keys)}")
    return data


def _size(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedProofError(f"{what} must be a non-negative integer")
    return value


def _hash_list(value: object, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise MalformedProofError(f"{what} must be a list")
    hashes = [decode_base64(item, what) for item in value]
    if any(len(node) != HASH_SIZE for node in hashes):
        raise MalformedProofError(f"{what} entries must be 32-byte hashes")
    return hashes
