"""One way to correct or end a record and keep what it replaced (issue 14 "one way each").

A record (a case's location or contact, a risk threat, an asset, a partner...) is corrected
with the version the corrector read and a reason: a stale version is refused (ConflictError),
never overwritten. The values a change replaces go into a revision row beside the record, so
every earlier version stays readable. Each domain keeps its own revision table (protection and
operations may not share models); this module holds what those tables and their history pages
have in common: the abstract model, the write, the API schema and the rows a history page shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from ninja import Field, Schema

from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.locking import ensure_version
from haven.vault.fields import EncryptedJSONField, EncryptedTextField


class RevisionAction(models.TextChoices):
    CORRECTED = "corrected", "Corrected"
    ENDED = "ended", "Ended"


class Revision(models.Model):
    """The values a correction or ending replaced. Append-only: services only ever insert.

    ``previous`` holds the changed fields as they were before (encrypted; a concrete table
    names its ``vault_owner`` so they are bound to the case or asset like the record itself),
    ``version`` the version they had.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.PositiveIntegerField()  # the version these values had
    action = models.CharField(max_length=12, choices=RevisionAction.choices)
    previous = EncryptedJSONField()
    reason = EncryptedTextField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["-version"]


def history_value(value: object) -> object:
    """A field's value as the history keeps it (JSON: dates as ISO text, records by id)."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def require_reason(reason: str, message: str = "Say why the record is being changed") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    return reason


def refuse_unknown_fields(
    changes: Iterable[str], allowed: Iterable[str], *, here: bool = False
) -> None:
    """Refuse a change that names a field outside ``allowed``: a service says what it may change.
    ``here``: the field may change, but through another action (its own form or service)."""
    unknown = set(changes) - set(allowed)
    if unknown:
        where = " here" if here else ""
        raise ValidationError(
            f"These fields cannot be changed{where}: {', '.join(sorted(unknown))}"
        )


def apply_changes(
    record: Any, changes: Mapping[str, object], *, version: int, what: str
) -> dict[str, object]:
    """Apply to `record` those of `changes` that differ from its values, if `version` is still
    current (ConflictError, naming `what`, if not), and save it at the next version. Answers the
    values they replaced, by field; a ValidationError when none differs.

    Call it inside the service's transaction, after the domain's own checks."""
    changed = {name: value for name, value in changes.items() if getattr(record, name) != value}
    if not changed:
        raise ValidationError("Nothing has changed: change a value or cancel")
    previous = {name: getattr(record, name) for name in changed}
    ensure_version(type(record), record.pk, version, what)
    for name, value in changed.items():
        setattr(record, name, value)
    record.version = version + 1
    record.save()
    return previous


def revise(
    actor: Any,
    record: Any,
    revision: Revision,
    *,
    version: int,
    reason: str,
    changes: Mapping[str, object],
    object_type: str,
    case_id: object = "",
    action: str = RevisionAction.CORRECTED,
) -> list[str]:
    """Apply `changes` to `record` if `version` is still current, keeping the old values in
    `revision` (an unsaved row of the domain's revision table, its owner already set) and
    writing the alteration to the ledger. Answers the names of the fields that changed.

    Call it inside the service's transaction, after the domain's own checks."""
    was = apply_changes(record, changes, version=version, what=object_type)
    previous = {name: history_value(value) for name, value in was.items()}
    revision.version = version
    revision.action = action
    revision.previous = previous
    revision.reason = reason
    revision.changed_by = actor
    revision.save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=object_type,
        object_id=record.pk,
        case_id=case_id,
        fields=sorted(was),
        justification=reason,
        details={"version": version + 1, "change": str(action)},
    )
    return sorted(was)


class CorrectionReason(Schema):
    """What every correction or ending in the API carries: the version read and a reason."""

    version: int
    reason: str = Field(..., min_length=1, max_length=2000)


def correction(payload: Schema) -> dict[str, Any]:
    """A correction, ending or retirement sent to the API, as its service's keywords: the
    version read, the reason and each field the payload names (a field left out is unchanged;
    the version and reason are required, so always named)."""
    return payload.dict(exclude_unset=True)


class RevisionOut(Schema):
    """One earlier version of a record in the API: the values it had, who changed it and why."""

    version: int
    action: str
    previous: dict
    reason: str
    changed_by: str
    changed_at: datetime

    @staticmethod
    def resolve_changed_by(obj: Any) -> str:
        return str(obj.changed_by)


class HistoryOut(Schema):
    version: int
    earlier: list[RevisionOut]


def history_rows(
    revisions: Iterable[Revision],
    labels: Mapping[str, str],
    text: Callable[[str, object], str] | None = None,
) -> list[dict[str, Any]]:
    """The earlier versions as the history include (ui/includes/earlier_versions.html) shows
    them: each changed field under its label, in words (`text`), newest version first."""

    def plain(name: str, value: object) -> str:
        return "Not recorded" if value in (None, "", []) else str(value)

    words = text or plain
    return [
        {
            "version": revision.version,
            "action": revision.get_action_display(),  # type: ignore[attr-defined]
            "by": revision.changed_by,
            "at": revision.changed_at,
            "reason": revision.reason,
            "values": [
                (labels.get(name, name), words(name, value))
                for name, value in sorted(revision.previous.items())
            ],
        }
        for revision in revisions
    ]
