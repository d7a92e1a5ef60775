from __future__ import annotations

import datetime
import stat
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from haven.vault import crypto, rotation
from haven.vault.crypto import KeyRing, VaultKeyError
from haven.vault.keyring import (
    assert_keys_available,
    blind_index_key,
    check_keys,
    get_keyring,
    init_keys,
    reset_keyring_cache,
)
from haven.vault.models import DataKey
from tests.vault.probe.models import Probe


def run(*args: str) -> str:
    out = StringIO()
    call_command("keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def probe_counts() -> dict[str, int]:
    return dict(rotation.status()[Probe._meta.label + ".name"])


def make_probes(count: int) -> list[Probe]:
    return [
        Probe.objects.create(name=f"Person {i}", dob=datetime.date(1980, 1, 1 + i), plain=str(i))
        for i in range(count)
    ]


# --------------------------------------------------------------------------- init / startup


@pytest.mark.django_db
def test_init_creates_owner_only_key_files_and_refuses_to_overwrite(key_files: Path) -> None:
    DataKey.objects.all().delete()  # a fresh installation
    output = run("init")
    kek, blind = key_files / "kek.key", key_files / "blind-index.key"
    assert "created" in output and str(kek) in output
    for path in (kek, blind):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kek.read_text() != blind.read_text()
    before = kek.read_text()
    with pytest.raises(CommandError, match="already exists: refusing to overwrite"):
        run("init")
    assert "already exists, kept" in run("init", "--if-missing")
    assert kek.read_text() == before
    assert DataKey.objects.filter(active=True).count() == 1
    assert_keys_available(using=None)
    assert len(blind_index_key()) == 32


def test_missing_key_file_gives_one_clear_line_and_system_check_error(key_files: Path) -> None:
    with pytest.raises(VaultKeyError) as caught:
        assert_keys_available(using=None)
    message = str(caught.value)
    assert "\n" not in message
    assert "kek.key is missing" in message and "haven keys init" in message
    errors = check_keys()
    assert [error.id for error in errors] == ["haven.vault.E001"]
    assert errors[0].msg == message


def test_missing_blind_index_key_is_reported(key_files: Path) -> None:
    init_keys(if_missing=False)
    (key_files / "blind-index.key").unlink()
    with pytest.raises(VaultKeyError, match="blind-index key file .* is missing"):
        assert_keys_available(using=None)


def test_malformed_key_file_is_reported_without_echoing_it(key_files: Path) -> None:
    init_keys(if_missing=False)
    (key_files / "kek.key").write_text("not-a-key-secret-ish\n")
    with pytest.raises(VaultKeyError) as caught:
        assert_keys_available(using=None)
    assert "not-a-key" not in str(caught.value)
    assert [error.id for error in check_keys()] == ["haven.vault.E001"]


@pytest.mark.django_db
def test_wrong_kek_is_detected_against_stored_data_keys(
    key_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_keys(if_missing=False)
    DataKey.objects.all().delete()
    get_keyring()  # wraps a first data key under this KEK
    assert check_keys(databases=["default"]) == []
    (key_files / "kek.key").unlink()
    init_keys(if_missing=True)  # a different KEK
    with pytest.raises(VaultKeyError, match="unknown KEK .*the right key") as caught:
        assert_keys_available()
    assert "\n" not in str(caught.value)
    assert [error.id for error in check_keys(databases=["default"])] == ["haven.vault.E001"]
    assert check_keys() == []  # without database access only the files are checked


@pytest.mark.django_db
def test_init_refuses_a_new_kek_when_data_keys_need_the_old_one(key_files: Path) -> None:
    DataKey.objects.all().delete()
    run("init")
    assert get_keyring().active_key_id
    (key_files / "kek.key").unlink()
    with pytest.raises(CommandError, match="wrap the existing data keys .* restore"):
        run("init", "--if-missing")
    assert not (key_files / "kek.key").exists()


# --------------------------------------------------------------------------- status


@pytest.mark.django_db
def test_status_counts_values_per_key() -> None:
    make_probes(3)
    active = get_keyring().active_key_id
    assert probe_counts() == {active: 3}
    assert dict(rotation.status()[Probe._meta.label + ".place"]) == {}
    output = run("status")
    assert f"active data key: {active}" in output
    assert "vault_probe.Probe.name" in output and "vault_probe.Probe.dob" in output
    assert "all field values and documents are under the active key" in output


# --------------------------------------------------------------------------- rotate


@pytest.mark.django_db
def test_rotate_reencrypts_everything_and_values_still_decrypt() -> None:
    probes = make_probes(7)
    old = get_keyring().active_key_id
    output = run("rotate", "--batch-size", "3")
    new = get_keyring().active_key_id
    assert new != old
    assert f"created active data key {new}; re-encrypted 14" in output
    assert probe_counts() == {new: 7}
    assert DataKey.objects.get(pk=old).retired_at is not None
    assert DataKey.objects.filter(active=True).get().pk == new
    reset_keyring_cache()
    for probe in probes:
        loaded = Probe.objects.get(pk=probe.pk)
        assert (loaded.name, loaded.dob) == (probe.name, probe.dob)
    assert "all field values and documents are under the active key" in run("status")


@pytest.mark.django_db
def test_rotate_resumes_after_a_crash_without_another_key() -> None:
    make_probes(5)
    old = get_keyring().active_key_id
    real_batch = rotation._rotate_batch
    calls = 0

    def crash_after_first_batch(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("simulated crash")
        real_batch(*args, **kwargs)

    with mock.patch.object(rotation, "_rotate_batch", crash_after_first_batch):
        with pytest.raises(RuntimeError, match="simulated crash"):
            rotation.rotate(batch_size=2)
    new = get_keyring().active_key_id
    assert new != old
    assert probe_counts() == {new: 2, old: 3}  # first batch committed, the rest not
    assert "re-run" not in run("status") and "rotate --resume" in run("status")

    output = run("rotate", "--resume", "--batch-size", "2")
    assert f"kept active data key {new}; re-encrypted 8" in output
    assert probe_counts() == {new: 5}
    assert DataKey.objects.count() == 2
    assert "nothing to resume" in run("rotate", "--resume")
    assert DataKey.objects.count() == 2


@pytest.mark.django_db
def test_rotate_never_overwrites_a_concurrent_change() -> None:
    probes = make_probes(3)
    target = probes[0]
    real_reencrypt = KeyRing.reencrypt
    changed = False

    def reencrypt_while_service_writes(self, token, aad):
        nonlocal changed
        result = real_reencrypt(self, token, aad)
        if not changed and aad == crypto.field_aad(Probe._meta.db_table, "name", str(target.pk)):
            changed = True
            concurrent = Probe.objects.get(pk=target.pk)
            concurrent.name = "Changed By Service"
            concurrent.save()
        return result

    with mock.patch.object(KeyRing, "reencrypt", reencrypt_while_service_writes):
        result = rotation.rotate(batch_size=10)
    assert changed
    assert result.skipped_concurrent == 1 and result.reencrypted == 5
    reset_keyring_cache()
    assert Probe.objects.get(pk=target.pk).name == "Changed By Service"
    assert Probe.objects.get(pk=probes[1].pk).name == "Person 1"


@pytest.mark.django_db
def test_rotate_reports_values_that_fail_to_decrypt() -> None:
    victim, other = make_probes(2)
    from django.db import connection

    table = Probe._meta.db_table
    pk = Probe._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "name" FROM "{table}" WHERE "id" = %s',
            [pk.get_db_prep_value(victim.pk, connection)],
        )
        token = cursor.fetchone()[0]
        cursor.execute(
            f'UPDATE "{table}" SET "name" = %s WHERE "id" = %s',
            [token, pk.get_db_prep_value(other.pk, connection)],
        )
    with pytest.raises(CommandError, match="1 values could not be decrypted"):
        run("rotate")


@pytest.mark.django_db
def test_rewrap_moves_data_keys_to_a_new_kek(tmp_path: Path) -> None:
    probe = make_probes(1)[0]
    new_kek_file = tmp_path / "new-kek.key"
    new_kek_id = crypto.write_kek_file(new_kek_file)
    output = run("rewrap", "--new-kek-file", str(new_kek_file))
    assert f"under KEK {new_kek_id}" in output
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new_kek_id}
    with mock.patch.dict("os.environ", {"HAVEN_KEK": new_kek_file.read_text()}):
        reset_keyring_cache()
        assert Probe.objects.get(pk=probe.pk).name == "Person 0"
