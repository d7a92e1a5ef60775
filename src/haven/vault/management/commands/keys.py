"""`haven keys init|status|rotate|rewrap`: vault key management."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from haven.vault import blobs, keyring, rotation
from haven.vault.crypto import VaultError
from haven.vault.models import BlindIndexKey, DataKey


class Command(BaseCommand):
    help = "Vault keys: init (create key files), status, rotate (new data key), rewrap (new KEK)."
    # `keys init` must run while the keys are still missing (the vault check would refuse).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        init = sub.add_parser("init", help="create the KEK and blind-index key files (0600)")
        init.add_argument(
            "--if-missing", action="store_true", help="keep existing key files instead of failing"
        )
        sub.add_parser("status", help="encrypted values per data key, per field")
        rotate = sub.add_parser("rotate", help="new active data key; re-encrypt all values")
        rotate.add_argument("--batch-size", type=int, default=rotation.DEFAULT_BATCH_SIZE)
        rotate.add_argument(
            "--resume",
            action="store_true",
            help="finish an unfinished rotation without creating another data key",
        )
        rotate.add_argument(
            "--blind-index",
            action="store_true",
            help="also rotate the blind-index key and re-index every blind-index column",
        )
        rotate.add_argument(
            "--settle-seconds",
            type=float,
            default=None,
            help="wait this long for running services to load a new blind-index key "
            "(default: HAVEN_VAULT_KEY_REFRESH_SECONDS)",
        )
        rewrap = sub.add_parser("rewrap", help="re-wrap every data key under a new KEK")
        rewrap.add_argument("--new-kek-file", type=Path, required=True)

    def _console(self) -> Console:
        return Console(file=getattr(self.stdout, "_out", sys.stdout), width=110)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "init":
                self._init(options["if_missing"])
                return
            keyring.assert_keys_available(using=None)
            if action == "status":
                self._status()
            elif action == "rotate":
                self._rotate(options["batch_size"], options["resume"])
                self._rotate_blind_index(options)
            elif action == "rewrap":
                self._rewrap(options["new_kek_file"])
        except (VaultError, ValueError) as error:
            raise CommandError(str(error)) from None

    def _init(self, if_missing: bool) -> None:
        try:
            has_table = DataKey._meta.db_table in connection.introspection.table_names()
        except DatabaseError:
            has_table = False  # no database yet: `haven migrate` creates the first data key
        if has_table and not keyring.kek_path().exists() and not os.environ.get("HAVEN_KEK"):
            kek_ids = sorted(set(DataKey.objects.values_list("kek_id", flat=True)))
            if kek_ids:
                raise CommandError(
                    f"{len(kek_ids)} KEK(s) ({', '.join(kek_ids)}) wrap the existing data keys "
                    f"but {keyring.kek_path()} is missing: restore that key file (a new key "
                    "could not decrypt anything)"
                )
        for line in keyring.init_keys(if_missing=if_missing):
            self.stdout.write(line)
        if has_table:
            self.stdout.write(f"active data key: {keyring.get_keyring().active_key_id}")

    def _status(self) -> None:
        console = self._console()
        ring = keyring.get_keyring()
        active = ring.active_key_id
        limit = keyring.rotate_at()
        keys = Table(title=f"Data keys (new key after {limit} encryptions)")
        for heading in ("key id", "state", "KEK", "created", "retired", "encryptions", "of limit"):
            keys.add_column(heading)
        for key in DataKey.objects.order_by("created_at", "id"):
            keys.add_row(
                key.id,
                "active" if key.active else "retired",
                key.kek_id,
                f"{key.created_at:%Y-%m-%d %H:%M}",
                f"{key.retired_at:%Y-%m-%d %H:%M}" if key.retired_at else "",
                str(key.encryptions),
                f"{key.encryptions / limit:.2%}",
            )
        console.print(keys)
        values = Table(title="Encrypted values per data key")
        for heading in ("field", "key id", "values"):
            values.add_column(heading)
        pending = kept = 0
        for column in rotation.encrypted_columns():
            counts = rotation.counts_by_key(column)
            if not counts:
                values.add_row(column.label, "-", "0")
            for key_id, count in sorted(counts.items()):
                marker = " (active)" if key_id == active else ""
                history = " (append-only history)" if column.append_only else ""
                values.add_row(column.label + history, key_id + marker, str(count))
                if key_id != active:
                    kept += count if column.append_only else 0
                    pending += 0 if column.append_only else count
        documents = blobs.blob_status(active)
        for key_id, count in sorted(documents.by_key.items()):
            marker = " (active)" if key_id == active else ""
            values.add_row("documents (blob store)", key_id + marker, str(count))
        console.print(values)
        console.print(f"active data key: {active}")
        if pending or documents.remaining:
            console.print(
                f"still on old keys: {pending} field values, {documents.remaining} documents: "
                "run `haven keys rotate --resume`"
            )
        else:
            console.print("all field values and documents are under the active key")
        if documents.orphaned:
            console.print(
                f"{documents.orphaned} documents on old keys belong to no record (orphaned "
                "blobs): they cannot be re-encrypted"
            )
        if kept:
            console.print(
                f"{kept} values in append-only histories stay on their old keys (readable; "
                "a history is never rewritten)"
            )
        newest = BlindIndexKey.objects.order_by("created_at", "id").last()
        if newest is None:
            console.print("blind-index key: the key file / HAVEN_BLIND_INDEX_KEY (never rotated)")
        elif newest.state == BlindIndexKey.ROTATING:
            console.print(
                f"blind-index key {newest.id} is being rolled out: some rows are still indexed "
                "under the previous key (searches match both): run `haven keys rotate --resume`"
            )
        else:
            console.print(f"blind-index key {newest.id} (created {newest.created_at:%Y-%m-%d})")

    def _rotate(self, batch_size: int, resume: bool) -> None:
        console = self._console()
        with Progress(
            TextColumn("re-encrypting"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rotate", total=None)

            def on_total(total: int) -> None:
                progress.update(task, total=total)

            def on_progress(done: int) -> None:
                progress.advance(task, done)

            result = rotation.rotate(
                batch_size=batch_size, resume=resume, on_total=on_total, on_progress=on_progress
            )
        nothing_done = result.reencrypted == 0 and result.documents.reencrypted == 0
        if resume and not result.created_key and nothing_done and not result.failed:
            if not result.remaining and not result.skipped_concurrent:
                console.print(
                    f"nothing to resume: every value is under active key {result.active_key_id}"
                )
                return
        verb = "created" if result.created_key else "kept"
        console.print(
            f"{verb} active data key {result.active_key_id}; re-encrypted {result.reencrypted} "
            f"field values and {result.documents.reencrypted} documents, skipped "
            f"{result.skipped_concurrent} changed concurrently, failed {result.failed}, "
            f"remaining on old keys {result.remaining} (documents {result.documents.remaining})"
        )
        if result.documents.orphaned:
            console.print(
                f"{result.documents.orphaned} orphaned document blobs (no record) stay on old keys"
            )
        if result.kept_append_only:
            console.print(
                f"{result.kept_append_only} values in append-only histories stay on their old "
                "keys (readable; a history is never rewritten)"
            )
        for failure in result.failures[:20]:
            console.print(f"  failed: {failure}")
        if result.remaining:
            console.print("run `haven keys rotate --resume` to finish")
        if result.failed:
            raise CommandError(f"{result.failed} values could not be decrypted (see above)")

    def _rotate_blind_index(self, options: dict[str, Any]) -> None:
        """With --blind-index a new key; with --resume, finish an unfinished re-indexing."""
        if not options["blind_index"] and not options["resume"]:
            return
        settle = options["settle_seconds"]
        if settle is None:
            settle = keyring.refresh_seconds()
        result = rotation.rotate_blind_index(
            batch_size=options["batch_size"],
            resume=options["resume"] and not options["blind_index"],
            settle_seconds=settle,
        )
        if result is None:
            return
        verb = "created" if result.created_key else "resumed"
        self.stdout.write(
            f"blind index: {verb} key {result.key_id}; checked {result.rows} rows, re-indexed "
            f"{result.reindexed}, failed {len(result.failures)}"
        )
        for failure in result.failures[:20]:
            self.stdout.write(f"  failed: {failure}")
        if not result.finished:
            raise CommandError(
                "blind-index rotation unfinished: searches match old and new values until "
                "`haven keys rotate --resume` completes"
            )

    def _rewrap(self, new_kek_file: Path) -> None:
        new_kek_id, count = rotation.rewrap(new_kek_file)
        self.stdout.write(
            f"re-wrapped {count} data keys under KEK {new_kek_id}; now install {new_kek_file} as "
            f"{keyring.kek_path()} (or HAVEN_KEK) and restart the service"
        )
