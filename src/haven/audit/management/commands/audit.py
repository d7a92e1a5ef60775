"""`haven audit`: the ledger's signing key, checkpoints, verification and proofs.

    haven audit init-key [--if-missing]     create the Ed25519 signing key (KEY_DIR, 0600), and
                                            the local witness's key when HAVEN_LOCAL_WITNESS=1
    haven audit public-key [--vkey]         print the public key PEM (or the note vkey, for
                                            witnesses) for external verifiers
    haven audit checkpoint [--force]        verify the ledger against the pinned keys, sign its
                                            current root as a signed note, ask the witnesses
    haven audit serve-witness               run the local haven-witness (`haven up` does)
    haven audit verify [--public-key PEM] [--max-unsigned-age SECONDS] [--trusted-checkpoint FILE]
                                            recompute every leaf and checkpoint; exit 1 on tamper
    haven audit verify --state              ... and replay access-control state (audit.state)
    haven audit prove ID [--output FILE]    haven-proof/v1 JSON for ledger entry ID

Every failure is one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from haven.audit import signing, state, verification, witness, witnessing
from haven.audit.checkpoint import Checkpoint as SignedCheckpoint
from haven.audit.checkpoint import public_key_from_pem, read_checkpoint
from haven.audit.models import LedgerEntry
from haven.audit.note import ALGORITHM_ED25519, NoteError, VerifierKey, verifier_key
from haven.audit.proofdoc import proof_document_to_json


class Command(BaseCommand):
    help = "Audit ledger tamper evidence: signing key, checkpoints, verification, proofs."
    # Needs neither the vault keys nor the web stack: an auditor can verify a database copy.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)

        init_key = commands.add_parser("init-key", help="create the ledger signing key")
        init_key.add_argument(
            "--if-missing", action="store_true", help="keep an existing key instead of failing"
        )
        public_key = commands.add_parser(
            "public-key", help="print the public key (PEM) for haven-verify"
        )
        public_key.add_argument(
            "--vkey",
            action="store_true",
            help="print the C2SP verifier key (origin+hash+key) that witnesses pin instead",
        )
        commands.add_parser("serve-witness", help="run the local witness (HAVEN_LOCAL_WITNESS)")

        checkpoint = commands.add_parser(
            "checkpoint", help="verify the ledger, then sign and store a checkpoint"
        )
        checkpoint.add_argument(
            "--force", action="store_true", help="sign even if no entry was added since the last"
        )
        _add_key_and_quiet(checkpoint, "older public keys (PEM) whose checkpoints to accept")

        verify = commands.add_parser("verify", help="recompute the ledger and its checkpoints")
        _add_key_and_quiet(
            verify,
            "public key(s) to check checkpoints with (default: settings.LEDGER_TRUSTED_KEYS, "
            "from HAVEN_LEDGER_TRUSTED_KEYS; never the key file in the data directory)",
        )
        verify.add_argument(
            "--max-unsigned-age",
            type=float,
            metavar="SECONDS",
            help="fail when an entry has waited longer for a checkpoint "
            "(default: settings.LEDGER_MAX_UNSIGNED_AGE, 300)",
        )
        verify.add_argument(
            "--trusted-checkpoint",
            metavar="FILE",
            help="checkpoint kept outside the database (signed note from /ledger/checkpoint, "
            "or JSON): fail on rollback or fork",
        )
        verify.add_argument(
            "--from-columns",
            action="store_true",
            help="spell every entry from its columns here, trusting no stored copy, database "
            "constraint or SQL function (slower; SQLite always does)",
        )
        verify.add_argument(
            "--state",
            action="store_true",
            help="also replay team memberships, grants, roles, clearances and classifications "
            "from the ledger and fail on every live row that no entry explains",
        )

        prove = commands.add_parser("prove", help="inclusion + consistency proof for an entry")
        prove.add_argument("entry_id", type=int, metavar="ID", help="ledger entry id")
        prove.add_argument("--output", "-o", metavar="FILE", help="write the JSON here")
        prove.add_argument(
            "--since",
            type=int,
            metavar="SIZE",
            help="start the consistency chain at the checkpoint of this tree size (the one "
            "the verifier trusts)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handlers = {
            "init-key": self._init_key,
            "public-key": self._public_key,
            "checkpoint": self._checkpoint,
            "verify": self._verify,
            "prove": self._prove,
            "serve-witness": self._serve_witness,
        }
        try:
            handlers[options["subcommand"]](options)
        except (verification.AuditError, signing.SigningKeyError, NoteError) as error:
            raise CommandError(str(error)) from None

    # --- subcommands ---------------------------------------------------------------------

    def _init_key(self, options: dict[str, Any]) -> None:
        self.stdout.write(signing.init_signing_key(if_missing=options["if_missing"]))
        if settings.LOCAL_WITNESS:
            path = witnessing.local_witness_key_path()
            try:
                self.stdout.write(witness.init_key(path, if_missing=options["if_missing"]))
            except witness.WitnessError as error:
                raise CommandError(str(error)) from None

    def _public_key(self, options: dict[str, Any]) -> None:
        if options["vkey"]:
            key = signing.public_key()
            self.stdout.write(verifier_key(settings.LEDGER_ORIGIN, ALGORITHM_ED25519, key))
            return
        self.stdout.write(signing.public_key_pem(), ending="")

    def _serve_witness(self, options: dict[str, Any]) -> None:
        if not settings.LOCAL_WITNESS:
            raise CommandError("HAVEN_LOCAL_WITNESS is off: there is no local witness to run")
        log_keys = [
            VerifierKey(settings.LEDGER_ORIGIN, ALGORITHM_ED25519, key)
            for key in signing.signing_and_pinned_keys()[1]
        ]
        arguments = [
            "serve",
            "--key",
            str(witnessing.local_witness_key_path()),
            "--name",
            witnessing.LOCAL_WITNESS_NAME,
            "--state-dir",
            str(witnessing.local_witness_state_dir()),
            "--port",
            str(settings.LOCAL_WITNESS_PORT),
        ]
        for key in log_keys:
            arguments += ["--log-key", key.text()]
        status = witness.main(arguments)
        if status:
            raise CommandError(f"the local witness stopped with status {status}")

    def _checkpoint(self, options: dict[str, Any]) -> None:
        private_key, pinned = signing.signing_and_pinned_keys()
        extra = _read_public_keys(options["public_key"] or [])
        with self._progress(options) as progress:
            result = verification.create_checkpoint(
                private_key, [*pinned, *extra], force=options["force"], progress=progress
            )
        for outcome in witnessing.request_cosignatures():
            (self.stdout if outcome.cosigned else self.stderr).write(outcome.message)
        if result.created is None:
            latest = result.report.latest_checkpoint
            assert latest is not None  # noqa: S101 - only None when a checkpoint exists
            self.stdout.write(
                f"no new entries since checkpoint #{latest.pk} (tree size {latest.tree_size}, "
                f"root {latest.root_hash}): nothing signed (--force to re-sign)"
            )
            return
        created = result.created
        self.stdout.write(
            f"checkpoint #{created.pk}: tree size {created.tree_size}, root {created.root_hash}, "
            f"signed at {created.signed_at} by key {created.key_id}"
        )

    def _verify(self, options: dict[str, Any]) -> None:
        if options["public_key"]:
            keys = _read_public_keys(options["public_key"])
        else:
            keys = signing.trusted_public_keys()
        trusted = _read_checkpoint(options["trusted_checkpoint"])
        max_age = options["max_unsigned_age"]
        if max_age is None:
            max_age = settings.LEDGER_MAX_UNSIGNED_AGE
        if max_age < 0:
            raise CommandError(f"--max-unsigned-age must not be negative, not {max_age:g}")
        keys_by_id = verification.public_keys_by_id(keys)
        with self._progress(options) as progress:
            report = verification.verify_ledger(
                keys_by_id, progress=progress, from_columns=options["from_columns"]
            )
        if trusted is not None:
            verification.check_trusted_checkpoint(report, trusted, keys_by_id)
        now = timezone.now()
        verification.check_unsigned_age(report, timedelta(seconds=max_age), now)
        witnessed = witnessing.check_witness_quorum(report, timedelta(seconds=max_age), now)
        if report.altered_copies:
            # A warning, not a failure: the entries, leaf hashes and checkpoints verified from
            # the columns, so the finding is about the speed-up copy (an attacker who rewrote
            # and re-signed history is caught by the trusted checkpoint and witness checks).
            self.stderr.write(f"warning: {report.altered_copies}")
        self.stdout.write(report.summary())
        if witnessed is not None:
            self.stdout.write(witnessed)
        if options["state"]:
            self._verify_state()

    def _verify_state(self) -> None:
        unexplained = state.unexplained_rows()
        for line in unexplained:
            self.stderr.write(line)
        if unexplained:
            raise CommandError(
                f"{len(unexplained)} access-control row(s) changed without a ledger entry "
                "(listed above, one per line)"
            )
        self.stdout.write(
            "access-control state: every team membership, grant, role, clearance and "
            "classification is explained by the ledger"
        )

    def _prove(self, options: dict[str, Any]) -> None:
        document = verification.prove_entry(options["entry_id"], options["since"])
        text = proof_document_to_json(document)
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        path = Path(options["output"])
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot write {path}: {error.strerror}") from None
        self.stderr.write(
            f"wrote proof of entry {options['entry_id']} (position {document['entry']['index']}, "
            f"checkpoint tree size {document['checkpoint']['tree_size']}) to {path}"
        )

    # --- helpers ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _progress(self, options: dict[str, Any]) -> Iterator[verification.Progress | None]:
        """A rich progress bar on stderr when it is a terminal and --quiet is not given."""
        if options["quiet"] or not sys.stderr.isatty():
            yield None
            return
        console = Console(file=sys.stderr, stderr=True)
        columns = (
            TextColumn("verifying ledger"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("verify", total=LedgerEntry.objects.count())
            yield lambda done: bar.advance(task, done)


def _add_key_and_quiet(parser: argparse.ArgumentParser, key_help: str) -> None:
    parser.add_argument("--public-key", action="append", metavar="PEM", help=key_help)
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _read_checkpoint(path: str | None) -> SignedCheckpoint | None:
    if path is None:
        return None
    try:
        return read_checkpoint(Path(path).read_bytes())
    except OSError as error:
        raise CommandError(f"cannot read trusted checkpoint {path}: {error.strerror}") from None
    except ValueError as error:  # JSONDecodeError, NoteError and UnicodeDecodeError too
        reason = " ".join(str(error).split())
        raise CommandError(f"trusted checkpoint {path} is not a checkpoint: {reason}") from None


def _read_public_keys(paths: list[str]) -> list[Ed25519PublicKey]:
    keys = []
    for path in paths:
        try:
            keys.append(public_key_from_pem(Path(path).read_bytes()))
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or " ".join(str(error).split())
            raise CommandError(f"cannot read public key {path}: {reason}") from None
    return keys
