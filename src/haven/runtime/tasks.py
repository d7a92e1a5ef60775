"""The runtime's own periodic tasks: the worker's heartbeat, ledger checkpoints, expiry."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from haven.audit import signing, verification, witnessing
from haven.audit.models import Checkpoint, LedgerEntry

from . import heartbeat


@task()
def worker_heartbeat() -> None:
    """Run by the worker: its beat proves the queue is being worked, not just that it exists."""
    heartbeat.beat("worker")


def ledger_has_unsigned_entries() -> bool:
    latest = Checkpoint.objects.order_by("-id").values_list("tree_size", flat=True).first()
    return LedgerEntry.objects.count() > (latest or 0)


@task()
def checkpoint_ledger() -> int | None:
    """Verify and sign the ledger's current root; returns the new tree size (None: unchanged)."""
    private_key, pinned = signing.signing_and_pinned_keys()
    result = verification.create_checkpoint(private_key, pinned)
    witnessing.request_cosignatures()  # no witness configured: nothing to do
    return None if result.created is None else result.created.tree_size


@task()
def cosign_ledger() -> int:
    """Ask the witnesses that have not cosigned the newest checkpoint again (one was down, or
    refused); returns how many cosigned."""
    return sum(outcome.cosigned for outcome in witnessing.request_cosignatures())


# An expired session's row is kept this long after its expiry: it names the account its
# cookie belonged to, so a form posted from that browser after an idle timeout can still be
# kept for that account (haven.accounts.keptforms). The row cannot be used to sign in.
EXPIRED_SESSION_GRACE = timedelta(hours=2)


@task()
def clear_expired_sessions() -> int:
    """Delete sessions past their expiry (Django never does so by itself), after the grace.
    The rows are the configured session store's (accounts' hashed-key table), not Django's
    default table, which Haven does not use."""
    model = import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()
    cutoff = timezone.now() - EXPIRED_SESSION_GRACE
    deleted, _ = model.objects.filter(expire_date__lt=cutoff).delete()
    return int(deleted)
