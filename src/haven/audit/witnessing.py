"""Haven's side of the witness protocol: send checkpoints, record and check cosignatures.

Run by the scheduler's worker (``haven.runtime.tasks``), never in a web request: a witness may
be slow or down.  Each configured witness (``settings.LEDGER_WITNESSES``, plus the local one of
``haven up`` when ``HAVEN_LOCAL_WITNESS`` is on) gets the newest checkpoint with a consistency
proof from the last checkpoint it cosigned; its cosignature is verified against the pinned
witness key before it is stored.  A refusal is logged with the witness's reason: it means the
ledger this Haven holds is not the one the witness saw.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from haven.audit import note
from haven.audit.merkle import MerkleTree
from haven.audit.models import Checkpoint, Cosignature, LedgerEntry
from haven.audit.verification import (
    AuditError,
    LedgerTamperedError,
    StoredCheckpoint,
    VerificationReport,
    stored_checkpoints,
    stored_leaf_hashes,
)

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0
LOCAL_WITNESS_NAME = "local.haven.invalid/witness"
LOCAL_WITNESS_KEY_FILE = "ledger-witness.pem"


class WitnessConfigError(AuditError):
    """A witness entry in the settings cannot be used; the message says which and why."""


@dataclass(frozen=True)
class WitnessConfig:
    name: str
    url: str  # submission prefix: "/add-checkpoint" is appended
    key: note.VerifierKey


@dataclass(frozen=True)
class Outcome:
    witness: str
    cosigned: bool
    message: str


def local_witness_key_path() -> Path:
    return Path(settings.KEY_DIR) / LOCAL_WITNESS_KEY_FILE


def local_witness_state_dir() -> Path:
    return Path(settings.DATA_DIR) / "witness"


def configured_witnesses() -> list[WitnessConfig]:
    witnesses = [_parse_entry(entry) for entry in settings.LEDGER_WITNESSES]
    if settings.LOCAL_WITNESS:
        witnesses.append(_local_witness())
    names = [witness.name for witness in witnesses]
    if len(set(names)) != len(names):
        raise WitnessConfigError("HAVEN_LEDGER_WITNESSES names a witness twice")
    return witnesses


def _parse_entry(entry: str) -> WitnessConfig:
    parts = entry.split()
    if len(parts) != 3:
        raise WitnessConfigError(f'witness entry {entry!r} is not "name url vkey"')
    name, url, vkey = parts
    try:
        key = note.parse_verifier_key(vkey)
    except note.NoteError as error:
        raise WitnessConfigError(f"witness {name}: {error}") from None
    if key.name != name or key.algorithm != note.ALGORITHM_COSIGNATURE_V1:
        raise WitnessConfigError(
            f"witness {name}: its vkey must be a cosignature/v1 key named {name}"
        )
    if not url.startswith(("http://", "https://")):
        raise WitnessConfigError(f"witness {name}: url must be http:// or https://")
    return WitnessConfig(name, url.rstrip("/"), key)


def _local_witness() -> WitnessConfig:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = local_witness_key_path()
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as error:
        raise WitnessConfigError(
            f"HAVEN_LOCAL_WITNESS is on but its key {path} is unusable ({error}): run "
            "`haven audit init-key --if-missing`"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise WitnessConfigError(f"local witness key {path} is not an Ed25519 key")
    key = note.VerifierKey(LOCAL_WITNESS_NAME, note.ALGORITHM_COSIGNATURE_V1, private.public_key())
    return WitnessConfig(LOCAL_WITNESS_NAME, f"http://127.0.0.1:{settings.LOCAL_WITNESS_PORT}", key)


def witness_quorum(witnesses: Sequence[WitnessConfig]) -> int:
    """k of n: settings.LEDGER_WITNESS_QUORUM, by default 1 when any witness is configured."""
    quorum = settings.LEDGER_WITNESS_QUORUM
    if quorum is None:
        return 1 if witnesses else 0
    if not 0 <= quorum <= len(witnesses):
        raise WitnessConfigError(
            f"HAVEN_LEDGER_WITNESS_QUORUM is {quorum} but {len(witnesses)} witnesses are configured"
        )
    return int(quorum)


# --- sending ---------------------------------------------------------------------------------


def newest_note_checkpoint() -> StoredCheckpoint | None:
    row = (
        Checkpoint.objects.exclude(origin="")
        .order_by("-id")
        .values_list("pk", "tree_size", "root_hash", "signed_at", "key_id", "signature", "origin")
        .first()
    )
    return None if row is None else StoredCheckpoint(*row)


def needs_cosignatures() -> bool:
    """True when some configured witness has not cosigned the newest checkpoint."""
    if not settings.LEDGER_WITNESSES and not settings.LOCAL_WITNESS:
        return False
    newest = newest_note_checkpoint()
    if newest is None:
        return False
    cosigners = set(
        Cosignature.objects.filter(checkpoint_id=newest.pk).values_list("witness_name", flat=True)
    )
    return any(witness.name not in cosigners for witness in configured_witnesses())


def request_cosignatures() -> list[Outcome]:
    """Send the newest checkpoint to every configured witness that has not cosigned it."""
    witnesses = configured_witnesses()
    newest = newest_note_checkpoint()
    if not witnesses or newest is None:
        return []
    done = set(
        Cosignature.objects.filter(checkpoint_id=newest.pk).values_list("witness_name", flat=True)
    )
    tree: MerkleTree | None = None
    outcomes = []
    for witness in witnesses:
        if witness.name in done:
            continue
        if tree is None:
            tree = MerkleTree(stored_leaf_hashes(newest.tree_size))
        outcome = _submit(witness, newest, tree)
        (logger.info if outcome.cosigned else logger.error)("%s", outcome.message)
        outcomes.append(outcome)
    return outcomes


def _submit(witness: WitnessConfig, checkpoint: StoredCheckpoint, tree: MerkleTree) -> Outcome:
    old_size = _last_cosigned_size(witness, checkpoint.tree_size)
    status, body = _post(witness, checkpoint, tree, old_size)
    if status == 409:
        witness_size = _size_from_conflict(body)
        if witness_size is not None and witness_size > checkpoint.tree_size:
            return Outcome(
                witness.name,
                False,
                f"witness {witness.name} has cosigned {witness_size} entries but the newest "
                f"checkpoint covers {checkpoint.tree_size}: the ledger was rolled back",
            )
        if witness_size is not None and witness_size != old_size:
            # Our record of what it cosigned is behind (or was deleted): ask again from its size.
            status, body = _post(witness, checkpoint, tree, witness_size)
    if status == 200:
        return _record(witness, checkpoint, body)
    reason = " ".join(body.split())[:300] or "no reason given"
    return Outcome(
        witness.name,
        False,
        f"witness {witness.name} refused checkpoint #{checkpoint.pk} (tree size "
        f"{checkpoint.tree_size}) with HTTP {status}: {reason}",
    )


def _last_cosigned_size(witness: WitnessConfig, limit: int) -> int:
    size = Checkpoint.objects.filter(
        pk__in=Cosignature.objects.filter(witness_name=witness.name).values("checkpoint_id"),
        tree_size__lte=limit,
    ).aggregate(size=Max("tree_size"))["size"]
    return int(size or 0)


def _size_from_conflict(body: str) -> int | None:
    text = body.strip()
    return int(text) if text.isdigit() else None


def add_checkpoint_body(checkpoint: StoredCheckpoint, tree: MerkleTree, old_size: int) -> bytes:
    proof = tree.consistency_proof(old_size, checkpoint.tree_size) if old_size else []
    lines = [f"old {old_size}"] + [_b64(node) for node in proof]
    return ("\n".join(lines) + "\n\n" + checkpoint.signed().note_text()).encode()


def _post(
    witness: WitnessConfig, checkpoint: StoredCheckpoint, tree: MerkleTree, old_size: int
) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the URL scheme is checked in _parse_entry
        witness.url + "/add-checkpoint",
        data=add_checkpoint_body(checkpoint, tree, old_size),
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:  # noqa: S310
            return response.status, response.read(64 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read(64 * 1024).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return 0, f"unreachable: {reason}"


def _record(witness: WitnessConfig, checkpoint: StoredCheckpoint, body: str) -> Outcome:
    text = checkpoint.signed().body().text()
    try:
        signatures = note.parse_signature_lines(body)
    except note.NoteError as error:
        return Outcome(witness.name, False, f"witness {witness.name} answered garbage: {error}")
    for signature in signatures:
        if note.verify_cosignature(text, signature, witness.key):
            Cosignature.objects.create(
                checkpoint_id=checkpoint.pk,
                witness_name=witness.name,
                key_hash=signature.key_hash.hex(),
                cosigned_at=note.cosignature_time(signature),
                signature=_b64(signature.signature),
                received_at=timezone.now(),
            )
            return Outcome(
                witness.name,
                True,
                f"witness {witness.name} cosigned checkpoint #{checkpoint.pk} "
                f"(tree size {checkpoint.tree_size})",
            )
    return Outcome(
        witness.name,
        False,
        f"witness {witness.name} answered 200 without a valid cosignature by its pinned key",
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- reading ---------------------------------------------------------------------------------


def cosignature_lines(checkpoint_pk: int) -> list[note.NoteSignature]:
    rows = Cosignature.objects.filter(checkpoint_id=checkpoint_pk).values_list(
        "witness_name", "key_hash", "signature"
    )
    signatures = []
    for name, key_hash, signature in rows:
        try:
            signatures.append(
                note.NoteSignature(name, bytes.fromhex(key_hash), note.strict_base64(signature, ""))
            )
        except (ValueError, note.NoteError):
            continue  # a malformed row proves nothing; verify reports the missing quorum
    return signatures


def published_note(checkpoint: StoredCheckpoint) -> str:
    """The checkpoint as served to outsiders: the log's signature, then the cosignatures."""
    signed = checkpoint.signed()
    own = note.NoteSignature(signed.origin, bytes.fromhex(signed.key_id), signed.signature)
    return note.Note(signed.body().text(), (own, *cosignature_lines(checkpoint.pk))).render()


# --- verification ----------------------------------------------------------------------------


def check_witness_quorum(
    report: VerificationReport, max_age: timedelta, now: datetime
) -> str | None:
    """Fail when entries older than ``max_age`` are not covered by a witnessed checkpoint (k of
    n valid cosignatures by the pinned witness keys), or when a stored cosignature by a
    configured witness does not verify.  Run after ``verify_ledger`` passed.

    A DBA who rewrote history and re-signed it with the stolen log key gets no cosignature
    (the witnesses refuse): once the bound has passed, this check names the first entry
    that no witness vouches for.  Returns a summary line, or None when no quorum is set."""
    witnesses = configured_witnesses()
    quorum = witness_quorum(witnesses)
    if quorum == 0:
        return None
    keys = [witness.key for witness in witnesses]
    names = {witness.name for witness in witnesses}
    witnessed: StoredCheckpoint | None = None
    newest_pk = report.newest_checkpoint_pk or 0
    for checkpoint in stored_checkpoints():
        if not checkpoint.origin or checkpoint.pk > newest_pk:
            continue
        text = checkpoint.signed().body().text()
        signatures = cosignature_lines(checkpoint.pk)
        for signature in signatures:
            if signature.name in names and not note.valid_cosigners(text, [signature], keys):
                raise LedgerTamperedError(
                    f"the cosignature by {signature.name} on {checkpoint.label} does not "
                    "verify with its pinned key: the checkpoint or the cosignature was altered"
                )
        if len(note.valid_cosigners(text, signatures, keys)) >= quorum and (
            witnessed is None or checkpoint.tree_size >= witnessed.tree_size
        ):
            witnessed = checkpoint
    covered = witnessed.tree_size if witnessed is not None else 0
    described = f"{quorum} of {len(witnesses)} witnesses"
    if report.entries > covered:
        first_id, recorded_at = LedgerEntry.objects.order_by("id").values_list("id", "recorded_at")[
            covered
        ]
        waited = now - recorded_at
        if waited > max_age:
            since = f"after {witnessed.label}" if witnessed is not None else "ever"
            raise LedgerTamperedError(
                f"entry {first_id} (position {covered}) has waited {int(waited.total_seconds())}"
                f" s for a checkpoint cosigned by {described}, longer than the "
                f"{int(max_age.total_seconds())} s allowed (none {since}): the witnesses "
                "refused the newer checkpoints (history rewritten or rolled back?) or are "
                "unreachable"
            )
    if witnessed is None:
        return f"no checkpoint cosigned by {described} yet (entries are recent)"
    return f"{witnessed.label} is cosigned by {described}"
