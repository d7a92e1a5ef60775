"""Blind-index key rotation with re-indexing (issue 17, item 7)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from haven.vault import rotation
from haven.vault.fields import index_for
from haven.vault.keyring import reset_keyring_cache
from haven.vault.models import BlindIndexKey
from tests.vault.probe.models import Probe

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def found(name: str) -> set[str]:
    return {probe.name for probe in Probe.objects.filter(name_idx=index_for("name", name))}


def stored_index(probe: Probe) -> str:
    return Probe.objects.values_list("name_idx", flat=True).get(pk=probe.pk)


def test_rotation_reindexes_every_row_under_a_new_key_and_search_still_finds_them() -> None:
    people = [
        Probe.objects.create(name=f"Siobhan O'Brien {i}", dob=datetime.date(1980, 1, 1 + i))
        for i in range(5)
    ]
    before = {probe.pk: stored_index(probe) for probe in people}
    output = run("rotate", "--blind-index", "--settle-seconds", "0", "--batch-size", "2")
    assert "blind index: created key" in output and "re-indexed 5" in output
    assert BlindIndexKey.objects.get().state == BlindIndexKey.ACTIVE
    # The rows moved to the new key. An index is a few hex digits (its width follows the
    # table's size), so one row keeps its value by chance 1 time in 4,096 (a run of the suite
    # met it); all five cannot, bar 1 in 10^18. The searches below find every row.
    assert any(stored_index(probe) != before[probe.pk] for probe in people)
    assert found("SIOBHAN OBRIEN 3") == {"Siobhan O'Brien 3"}
    index = index_for("name_dob", "siobhan o'brien 2", datetime.date(1980, 1, 3))
    assert Probe.objects.filter(name_dob_idx=index).count() == 1
    assert "never rotated" not in run("status")


def test_an_interrupted_rotation_still_finds_everyone_and_resumes() -> None:
    early = Probe.objects.create(name="Early Person")
    old_value = stored_index(early)
    # Interrupted right after the new key was made: no row re-indexed yet.
    rotation.rotate_blind_index(batch_size=1, settle_seconds=0)
    BlindIndexKey.objects.update(state=BlindIndexKey.ROTATING)
    Probe.objects.filter(pk=early.pk).update(name_idx=old_value)  # still under the old key
    reset_keyring_cache()
    late = Probe.objects.create(name="Late Person")  # written under the new key
    assert found("early person") == {"Early Person"}  # old value matched during rotation
    assert found("late person") == {"Late Person"}
    assert "being rolled out" in run("status")
    output = run("rotate", "--resume")
    assert "blind index: resumed key" in output and "re-indexed 1" in output
    assert stored_index(early) != old_value
    reset_keyring_cache()
    assert found("early person") == {"Early Person"} and found("late person") == {"Late Person"}
    assert stored_index(late) == Probe.objects.values_list("name_idx", flat=True).get(pk=late.pk)


def test_after_rotation_the_old_index_value_no_longer_matches() -> None:
    probe = Probe.objects.create(name="Ada Lovelace")
    old_value = stored_index(probe)
    rotation.rotate_blind_index(settle_seconds=0)
    reset_keyring_cache()
    assert index_for("name", "ada lovelace") != old_value
    assert not Probe.objects.filter(name_idx=old_value).exists()


def test_a_row_that_cannot_be_decrypted_leaves_the_rotation_unfinished() -> None:
    Probe.objects.create(name="Readable")
    broken = Probe.objects.create(name="Broken")
    other = Probe.objects.create(name="Other")
    from django.db import connection

    with connection.cursor() as cursor:  # swap ciphertexts between rows: both fail to open
        token = Probe.objects.values_list("name", flat=True).get(pk=other.pk)
        cursor.execute(
            "UPDATE vault_probe_probe SET name = %s WHERE id = %s",
            [str(token), Probe._meta.pk.get_db_prep_value(broken.pk, connection)],
        )
    result = rotation.rotate_blind_index(settle_seconds=0)
    assert result is not None and not result.finished
    assert len(result.failures) == 1 and str(broken.pk) in result.failures[0]
    assert BlindIndexKey.objects.get().state == BlindIndexKey.ROTATING
    with pytest.raises(CommandError, match="blind-index rotation unfinished"):
        run("rotate", "--resume", "--settle-seconds", "0")
