"""haven-verify: check a Haven audit-ledger proof with nothing but the ledger's public key.

Usage::

    haven-verify --public-key ledger-pub.pem [--trusted-checkpoint CHECKPOINT] PROOF.json

PROOF.json is the "haven-proof/v1" document written by ``haven audit prove N``::

    {
      "format": "haven-proof/v1",
      "entry": {"index": N, "canonical": "<b64 canonical entry bytes>", "fields": {...}},
      "inclusion": {"tree_size": S, "proof": ["<b64 32-byte hash>", ...]},
      "checkpoint": {"tree_size": S, "root_hash": "<b64>", "timestamp": "...Z",
                     "key_id": "<16 hex>", "signature": "<b64>"},
      "consistency": [{"old": {<checkpoint>}, "new": {<checkpoint>}, "proof": ["<b64>", ...]}, ...]
    }

(full description in ``haven.audit.proofdoc``; the signed checkpoint text in
``haven.audit.checkpoint``).  Checks, one output line each, "OK ..." or "FAIL ...":

1. every checkpoint carries a valid Ed25519 signature by a given public key (checkpoints that
   name an origin are C2SP signed notes, see ``haven.audit.note``);
2. SHA-256(0x00 || canonical entry) is included at index N in the tree of the checkpoint
   (RFC 9162 §2.1.3);
3. "fields", the human-readable copy, says exactly what the canonical (hashed) entry says: a
   forged actor or justification fails here, and what is printed comes from the canonical
   bytes, so nothing displayed escapes the leaf hash;
4. every consistency proof links its old checkpoint to its new one (RFC 9162 §2.1.4), the
   steps form one chain, and the chain ends at the checkpoint used for inclusion;
5. with ``--trusted-checkpoint`` (a checkpoint kept from an earlier fetch of /ledger/checkpoint,
   or from a witness): it is signed by a given key, and the proof's chain starts from it (same
   size and root) or the proof's checkpoint is it.  A different root at that size is a fork, a
   smaller proof checkpoint a rollback, and a proof without the chain is refused.

Then it prints what it verified: entry position, time, actor, action, object.

Exit status: 0 everything verified; 1 some check failed; 2 unreadable or malformed input.
``--public-key`` may be repeated when checkpoints were signed by rotated keys.

Deliberately standalone: only the standard library, ``cryptography`` and the two pure modules
``haven.audit.merkle`` / ``haven.audit.checkpoint`` (plus the format module), no Django, no
database, so an oversight body can run it on its own machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from haven.audit.checkpoint import (
    Checkpoint,
    find_key,
    key_id_for,
    public_key_from_pem,
    read_checkpoint,
    verify_checkpoint,
)
from haven.audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from haven.audit.proofdoc import (
    ConsistencyStep,
    MalformedProofError,
    ProofDocument,
    parse_proof_document,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Unreadable or malformed input: reported on one line, exit status 2."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'OK' if self.ok else 'FAIL'} {self.message}"


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        keys = _load_public_keys(arguments.public_key)
        document = _load_document(arguments.proof)
        trusted = _load_trusted(arguments.trusted_checkpoint)
    except InputError as error:
        print(f"haven-verify: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    results = list(run_checks(document, keys, trusted))
    for result in results:
        print(result.line())
    if not all(result.ok for result in results):
        return EXIT_FAILED
    if trusted is None:
        print("WARN no --trusted-checkpoint: a rollback or fork of the ledger goes unnoticed")
    for line in describe_entry(document):
        print(line)
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="haven-verify",
        description="Verify a Haven audit-ledger proof (haven-proof/v1) with the public key.",
    )
    parser.add_argument(
        "--public-key",
        action="append",
        required=True,
        metavar="PEM",
        help="Ed25519 public key of the ledger (PEM); repeat for rotated keys",
    )
    parser.add_argument(
        "--trusted-checkpoint",
        metavar="FILE",
        help="a checkpoint you kept earlier (signed note from /ledger/checkpoint, or JSON): "
        "the proof must extend it",
    )
    parser.add_argument("proof", metavar="PROOF.json", help="file written by 'haven audit prove'")
    return parser


def _load_public_keys(paths: Sequence[str]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        try:
            with open(path, "rb") as pem_file:
                key = public_key_from_pem(pem_file.read())
        except (OSError, ValueError, TypeError) as error:
            raise InputError(f"cannot read public key {path}: {_one_line(error)}") from error
        keys[key_id_for(key)] = key
    return keys


def _load_document(path: str) -> ProofDocument:
    try:
        with open(path, "rb") as proof_file:
            data = json.loads(proof_file.read())
        return parse_proof_document(data)
    except (OSError, ValueError, RecursionError) as error:  # JSON and format errors included
        kind = "malformed proof" if isinstance(error, MalformedProofError) else "cannot read proof"
        raise InputError(f"{kind} {path}: {_one_line(error)}") from error


def _load_trusted(path: str | None) -> Checkpoint | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as checkpoint_file:
            return read_checkpoint(checkpoint_file.read())
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read trusted checkpoint {path}: {_one_line(error)}") from error


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


# --- checks -------------------------------------------------------------------------------


def run_checks(
    document: ProofDocument,
    keys: dict[str, Ed25519PublicKey],
    trusted: Checkpoint | None = None,
) -> Iterator[CheckResult]:
    """Every check in order; verification passes only if all results are ok."""
    for checkpoint in _distinct_checkpoints(document):
        yield check_signature(checkpoint, keys)
    yield check_inclusion(document)
    yield check_fields(document)
    for step in document.consistency:
        yield check_consistency(step)
    if document.consistency:
        yield check_chain(document.consistency, document.checkpoint)
    if trusted is not None:
        yield check_signature(trusted, keys, "trusted checkpoint")
        yield check_extends_trusted(document, trusted)


def _distinct_checkpoints(document: ProofDocument) -> list[Checkpoint]:
    every = [document.checkpoint]
    for step in document.consistency:
        every += [step.old, step.new]
    unique = {(cp.tree_size, cp.root_hash, cp.signature): cp for cp in every}
    return sorted(unique.values(), key=lambda cp: (cp.tree_size, cp.timestamp))


def check_signature(
    checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey], what: str = "checkpoint"
) -> CheckResult:
    described = f"signature on {what} of {_tree(checkpoint)}"
    described += f" of {checkpoint.origin}" if checkpoint.origin else f" at {checkpoint.timestamp}"
    key = find_key(checkpoint, keys.values())
    if key is None:
        return CheckResult(False, f"{described}: signed by unknown key {checkpoint.key_id}")
    if not verify_checkpoint(key, checkpoint):
        return CheckResult(False, f"{described}: invalid signature by key {checkpoint.key_id}")
    return CheckResult(True, f"{described} by key {checkpoint.key_id}")


def check_inclusion(document: ProofDocument) -> CheckResult:
    checkpoint = document.checkpoint
    described = f"inclusion of entry {document.index} in tree of {_tree(checkpoint)}"
    if document.tree_size != checkpoint.tree_size:
        return CheckResult(
            False, f"{described}: proof is for {document.tree_size} entries, not the checkpoint"
        )
    included = verify_inclusion(
        leaf_hash(document.canonical_entry),
        document.index,
        checkpoint.tree_size,
        document.inclusion_proof,
        checkpoint.root_hash,
    )
    return CheckResult(included, f"{described} (root {_short(checkpoint.root_hash)})")


def signed_entry(document: ProofDocument) -> dict[str, Any] | None:
    """The canonical (hashed) entry as an object, or None when it is not a JSON object."""
    try:
        value = json.loads(document.canonical_entry)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_fields(document: ProofDocument) -> CheckResult:
    """The readable copy must say what the hashed entry says; "id" (the database row id) is the
    only extra key allowed, and it is never shown as verified."""
    described = f"readable fields of entry {document.index} match the hashed entry"
    signed = signed_entry(document)
    if signed is None:
        return CheckResult(False, f"{described}: the hashed entry is not a JSON object")
    for name, value in document.fields.items():
        if name == "id" and name not in signed:
            continue
        if name not in signed:
            return CheckResult(False, f"{described}: {name!r} is not in the hashed entry")
        if signed[name] != value:
            return CheckResult(
                False,
                f"{described}: {name!r} is shown as {_show(value)} but the hashed entry says "
                f"{_show(signed[name])} (forged)",
            )
    return CheckResult(True, described)


def check_extends_trusted(document: ProofDocument, trusted: Checkpoint) -> CheckResult:
    """Rollback and fork detection against a checkpoint the user kept earlier."""
    final = document.checkpoint
    described = f"proof extends the trusted checkpoint of {_tree(trusted)}"
    if final.tree_size < trusted.tree_size:
        return CheckResult(
            False,
            f"{described}: the proof's checkpoint covers only {_tree(final)}: the ledger was "
            "rolled back, or the proof is older than the trusted checkpoint",
        )
    if final.tree_size == trusted.tree_size:
        if final.root_hash != trusted.root_hash:
            return CheckResult(False, f"{described}: a different root at the same size (fork)")
        return CheckResult(True, described)
    if not document.consistency:
        return CheckResult(
            False,
            f"{described}: the proof carries no consistency chain from the trusted checkpoint "
            "(refused: without it a forked ledger would pass)",
        )
    start = document.consistency[0].old
    if start.tree_size != trusted.tree_size:
        return CheckResult(
            False,
            f"{described}: the consistency chain starts at {_tree(start)}, not at the trusted "
            f"checkpoint (ask for `haven audit prove ID --since {trusted.tree_size}`)",
        )
    if start.root_hash != trusted.root_hash:
        return CheckResult(
            False,
            f"{described}: at {_tree(trusted)} the ledger has another root than the trusted "
            "checkpoint: the ledger forked (history rewritten)",
        )
    return CheckResult(True, described)


def describe_entry(document: ProofDocument) -> list[str]:
    """What was verified, every value taken from the hashed entry."""
    signed = signed_entry(document) or {}

    def value(name: str) -> str:
        return _show(signed.get(name, "(not in entry)"))

    lines = [
        f"VERIFIED entry {document.index} (0-based position in the ledger) in the signed tree of "
        f"{_tree(document.checkpoint)}",
        f"  time:   {value('recorded_at')}",
        f"  actor:  {value('actor')} (user id {value('actor_id')})",
        f"  action: {value('action')}",
        f"  object: {value('object_type')} {value('object_id')} (case {value('case_id')})",
    ]
    for name in ("fields", "recipients", "justification", "details"):
        if signed.get(name):
            lines.append(f"  {name}: {value(name)}")
    return lines


def _show(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


def check_consistency(step: ConsistencyStep) -> CheckResult:
    consistent = verify_consistency(
        step.old.tree_size, step.new.tree_size, step.old.root_hash, step.new.root_hash, step.proof
    )
    return CheckResult(
        consistent,
        f"consistency of tree of {_tree(step.old)} (root {_short(step.old.root_hash)}) "
        f"with tree of {_tree(step.new)} (root {_short(step.new.root_hash)})",
    )


def check_chain(steps: Sequence[ConsistencyStep], final: Checkpoint) -> CheckResult:
    """Steps must link end to start and finish at the checkpoint used for inclusion."""
    links = [
        (a.new.tree_size, a.new.root_hash) == (b.old.tree_size, b.old.root_hash)
        for a, b in pairwise(steps)
    ]
    ends_at_final = (steps[-1].new.tree_size, steps[-1].new.root_hash) == (
        final.tree_size,
        final.root_hash,
    )
    described = f"consistency chain from {_tree(steps[0].old)} to {_tree(final)}"
    if not all(links):
        return CheckResult(False, f"{described}: steps do not link end to start")
    if not ends_at_final:
        return CheckResult(False, f"{described}: last step does not reach the signed checkpoint")
    return CheckResult(True, described)


def _tree(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.tree_size} entries"


def _short(root_hash: bytes) -> str:
    return root_hash.hex()[:16] + "..."


if __name__ == "__main__":
    sys.exit(main())
