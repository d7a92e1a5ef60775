"""The runtime's periodic jobs. Other apps declare theirs in their own schedule.py."""

from datetime import timedelta

from haven.audit.witnessing import needs_cosignatures

from .periodic import every
from .tasks import (
    checkpoint_ledger,
    clear_expired_sessions,
    cosign_ledger,
    ledger_has_unsigned_entries,
    worker_heartbeat,
)

every(timedelta(seconds=15), worker_heartbeat)
# A minute between checkpoints keeps the unsigned tail of the ledger under two minutes.
every(timedelta(minutes=1), checkpoint_ledger, only_when=ledger_has_unsigned_entries)
# Each checkpoint goes to the witnesses as it is made; this retries the ones that missed it.
every(timedelta(minutes=1), cosign_ledger, only_when=needs_cosignatures)
# Grants and API tokens need no job: every read filters on expires_at. Sessions are rows.
every(timedelta(hours=1), clear_expired_sessions)
