"""Encryption counting, automatic rotation and refusal, and document rotation (issue 17, 7)."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings

from haven.accounts.models import Role
from haven.cases import services
from haven.cases.models import Document
from haven.cases.selectors import read_document
from haven.vault import blobs, crypto, rotation
from haven.vault.crypto import VaultKeyError
from haven.vault.keyring import get_keyring, reset_keyring_cache
from haven.vault.models import DataKey
from tests.factories import UserFactory, make_case
from tests.vault.probe.models import Probe

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n% statement of Ophelia Brightwater\n" + b"0" * 200


def run(*args: str) -> str:
    out = StringIO()
    call_command("keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def active_key() -> DataKey:
    return DataKey.objects.get(active=True)


@override_settings(HAVEN_VAULT_ENCRYPTION_LEASE=8)
def test_each_encryption_is_counted_before_it_happens() -> None:
    reset_keyring_cache()
    before = active_key().encryptions
    for number in range(20):
        Probe.objects.create(name=f"Person {number}")  # one encryption each (no dob, place)
    counted = active_key().encryptions - before
    # Leases of 8 are reserved before use: never fewer than done, at most one lease more.
    assert 20 <= counted <= 20 + 8


@override_settings(HAVEN_VAULT_ENCRYPTION_LEASE=8)
def test_a_reload_of_the_key_ring_keeps_the_unused_lease() -> None:
    reset_keyring_cache()
    Probe.objects.create(name="first")
    after_first = active_key().encryptions
    with override_settings(HAVEN_VAULT_KEY_REFRESH_SECONDS=0):
        for number in range(5):
            Probe.objects.create(name=f"Person {number}")  # each reloads the ring
    assert active_key().encryptions == after_first


@override_settings(
    HAVEN_VAULT_ENCRYPTION_LEASE=4, HAVEN_VAULT_ROTATE_AT=10, HAVEN_VAULT_REFUSE_AT=10_000
)
def test_the_vault_rotates_by_itself_past_the_threshold(
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    reset_keyring_cache()
    worn = active_key().id
    DataKey.objects.filter(id=worn).update(encryptions=0)
    # The new key is made when the writing transaction commits (here: the callbacks run).
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(12):
            Probe.objects.create(name=f"Person {number}")
    fresh = active_key()
    assert fresh.id != worn
    assert DataKey.objects.get(id=worn).retired_at is not None
    reset_keyring_cache()
    probe = Probe.objects.create(name="after rotation")
    assert crypto.key_id_of(Probe.objects.values_list("name", flat=True).get(pk=probe.pk)) == (
        fresh.id
    )
    assert {p.name for p in Probe.objects.all()} >= {"Person 0", "Person 11", "after rotation"}


@override_settings(HAVEN_VAULT_ENCRYPTION_LEASE=4, HAVEN_VAULT_ROTATE_AT=6, HAVEN_VAULT_REFUSE_AT=8)
def test_the_vault_refuses_to_encrypt_past_the_hard_limit() -> None:
    reset_keyring_cache()
    DataKey.objects.filter(active=True).update(encryptions=0)
    for number in range(8):  # two leases of 4: exactly the limit
        Probe.objects.create(name=f"Person {number}")
    with pytest.raises(VaultKeyError, match="limit of 8 encryptions: refusing"):
        Probe.objects.create(name="one too many")  # a third lease would pass the limit


def test_status_shows_counts_and_fraction_of_the_limit() -> None:
    Probe.objects.create(name="someone")
    key = active_key()
    output = run("status")
    assert key.id in output and str(key.encryptions) in output
    assert "of limit" in output and "%" in output


@pytest.fixture
def document(tmp_path: Path):  # type: ignore[no-untyped-def]
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer, name="Document Case")
    with override_settings(BLOB_DIR=tmp_path / "blobs"):
        yield (
            officer,
            services.upload_document(
                officer, case.pk, title="Statement", filename="s.pdf", data=PDF
            ),
        )


def blob_key(document: Document) -> str:
    return crypto.key_id_of_bytes(blobs._path_for(document.blob_id).read_bytes())


def test_rotate_reencrypts_documents_and_reports_them(document) -> None:  # type: ignore[no-untyped-def]
    officer, stored = document
    old_key = blob_key(stored)
    output = run("rotate")
    new_key = active_key().id
    assert new_key != old_key and blob_key(stored) == new_key
    assert "1 documents" in output and "remaining on old keys 0 (documents 0)" in output
    assert read_document(officer, stored.case_id, stored.pk, "case_management")[1] == PDF
    assert "all field values and documents are under the active key" in run("status")


def test_rotate_resumes_documents_left_on_the_old_key(document) -> None:  # type: ignore[no-untyped-def]
    officer, stored = document
    old_key = blob_key(stored)
    # An interrupted rotation: the new key exists, the document was not reached yet.
    from haven.vault.keyring import create_data_key

    create_data_key()
    status = run("status")
    assert "1 documents" in status and "rotate --resume" in status
    output = run("rotate", "--resume")
    assert blob_key(stored) != old_key and "kept active data key" in output
    assert "remaining on old keys 0" in output


def test_an_orphaned_blob_is_reported_not_counted_as_rotated(document) -> None:  # type: ignore[no-untyped-def]
    _officer, _stored = document
    orphan = blobs.store_blob(b"nobody owns me", b"case:x:document:y")
    output = run("rotate")
    assert "remaining on old keys 1 (documents 1)" in output
    assert "1 orphaned document blobs" in output
    assert blob_key_of(orphan) != active_key().id


def blob_key_of(blob_id: str) -> str:
    return crypto.key_id_of_bytes(blobs._path_for(blob_id).read_bytes())


def test_rotation_reports_append_only_history_kept_on_old_keys(tmp_path: Path) -> None:
    Probe.objects.create(name="x")
    ring = get_keyring()
    with override_settings(BLOB_DIR=tmp_path / "no-blobs"):  # other tests' blobs would count
        result = rotation.rotate()
    assert result.active_key_id != ring.active_key_id
    assert result.remaining == 0


def test_a_changed_refresh_setting_applies_to_the_key_ring_in_hand() -> None:
    reset_keyring_cache()
    ring = get_keyring()
    assert get_keyring() is ring  # served from the cache while fresh
    with override_settings(HAVEN_VAULT_KEY_REFRESH_SECONDS=0):
        assert get_keyring() is not ring  # due at once: reloaded
