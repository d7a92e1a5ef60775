from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import FieldError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.vault import crypto
from haven.vault.crypto import VaultIntegrityError
from haven.vault.fields import SealedToken, index_for
from haven.vault.keyring import get_keyring
from tests.vault.probe.models import Probe

pytestmark = pytest.mark.django_db


def raw_row(probe: Probe) -> dict[str, object]:
    table = Probe._meta.db_table
    pk = Probe._meta.pk.get_db_prep_value(probe.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}" WHERE "id" = %s', [pk])
        columns = [c[0] for c in cursor.description]
        row = cursor.fetchone()
    assert row is not None
    return dict(zip(columns, row, strict=True))


def test_round_trip_every_field_type() -> None:
    probe = Probe.objects.create(
        name="Siobhán O’Brien",
        dob=datetime.date(1980, 3, 7),
        place={"lat": 51.5072, "lon": -0.1276, "label": "safe house 7"},
        plain="visible",
    )
    loaded = Probe.objects.get(pk=probe.pk)
    assert loaded.name == "Siobhán O’Brien"
    assert loaded.dob == datetime.date(1980, 3, 7)
    assert loaded.place == {"lat": 51.5072, "lon": -0.1276, "label": "safe house 7"}
    assert loaded.plain == "visible"


def test_null_values_stay_null_and_isnull_lookup_works() -> None:
    probe = Probe.objects.create(name="A Person", dob=None, place=None)
    row = raw_row(probe)
    assert row["dob"] is None and row["place"] is None
    assert Probe.objects.filter(dob__isnull=True).get() == probe
    assert not Probe.objects.filter(dob__isnull=False).exists()
    loaded = Probe.objects.get(pk=probe.pk)
    assert loaded.dob is None and loaded.place is None


def test_columns_hold_only_vault_tokens() -> None:
    probe = Probe.objects.create(name="Zebedee Quartermaine", dob=datetime.date(1991, 12, 31))
    row = raw_row(probe)
    active = get_keyring().active_key_id
    for column in ("name", "dob"):
        value = row[column]
        assert isinstance(value, str) and value.startswith(f"hv1.{active}.")
        assert "Zebedee" not in value and "1991" not in value
    # Same plaintext twice gives different ciphertexts (random nonce).
    other = Probe.objects.create(name="Zebedee Quartermaine")
    assert raw_row(other)["name"] != row["name"]


def test_decryption_is_lazy_and_cached() -> None:
    probe = Probe.objects.create(name="Lazy Person")
    loaded = Probe.objects.get(pk=probe.pk)
    assert isinstance(loaded.__dict__["name"], SealedToken)
    assert loaded.name == "Lazy Person"
    assert loaded.__dict__["name"] == "Lazy Person"


def test_ciphertext_copied_to_another_row_fails_clearly() -> None:
    victim = Probe.objects.create(name="Real Name")
    attacker = Probe.objects.create(name="Someone Else")
    token = raw_row(victim)["name"]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Probe._meta.db_table}" SET "name" = %s WHERE "id" = %s',
            [token, Probe._meta.pk.get_db_prep_value(attacker.pk, connection)],
        )
    loaded = Probe.objects.get(pk=attacker.pk)
    with pytest.raises(VaultIntegrityError, match="another row/column"):
        _ = loaded.name


def test_ciphertext_copied_to_another_column_fails() -> None:
    probe = Probe.objects.create(name="1999-01-01", dob=datetime.date(2000, 1, 1))
    token = raw_row(probe)["name"]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Probe._meta.db_table}" SET "dob" = %s WHERE "id" = %s',
            [token, Probe._meta.pk.get_db_prep_value(probe.pk, connection)],
        )
    with pytest.raises(VaultIntegrityError):
        _ = Probe.objects.get(pk=probe.pk).dob


@pytest.mark.parametrize(
    "query",
    [
        lambda: Probe.objects.filter(name="x"),
        lambda: Probe.objects.filter(name__icontains="x"),
        lambda: Probe.objects.filter(name__startswith="x"),
        lambda: Probe.objects.filter(name__lower="x"),
        lambda: Probe.objects.exclude(dob__gt=datetime.date(2000, 1, 1)),
        lambda: Probe.objects.order_by("name"),
        lambda: Probe.objects.order_by("-dob"),
    ],
)
def test_filtering_and_ordering_on_encrypted_fields_are_refused(query) -> None:
    Probe.objects.create(name="x")
    with pytest.raises(FieldError, match="is encrypted"):
        list(query())


def test_update_and_bulk_update_cannot_write_plaintext() -> None:
    probe = Probe.objects.create(name="Before")
    with pytest.raises(FieldError, match="is encrypted"), transaction.atomic():
        Probe.objects.filter(pk=probe.pk).update(name="After")
    probe.name = "After"
    with pytest.raises(FieldError, match="is encrypted"), transaction.atomic():
        Probe.objects.bulk_update([probe], ["name"])
    assert Probe.objects.get(pk=probe.pk).name == "Before"


def test_save_without_primary_key_is_refused() -> None:
    # Probe's pk has a default, so save() sets it; a model without one must be refused.
    probe = Probe(name="No Key")
    probe.pk = None
    with pytest.raises(FieldError, match="set the primary key"):
        Probe._meta.get_field("name").pre_save(probe, True)


def test_bulk_create_encrypts() -> None:
    probes = [Probe(name=f"Bulk Person {i}", plain=str(i)) for i in range(5)]
    Probe.objects.bulk_create(probes)
    for probe in Probe.objects.all():
        assert probe.name == f"Bulk Person {probe.plain}"
        assert raw_row(probe)["name"].startswith("hv1.")


def test_untouched_value_is_saved_without_reencryption_and_changes_are() -> None:
    probe = Probe.objects.create(name="Keep Me", plain="a")
    token = raw_row(probe)["name"]
    loaded = Probe.objects.get(pk=probe.pk)
    loaded.plain = "b"
    loaded.save()
    assert raw_row(probe)["name"] == token
    loaded.name = "Changed"
    loaded.save()
    assert raw_row(probe)["name"] != token
    assert Probe.objects.get(pk=probe.pk).name == "Changed"


def test_copy_to_new_primary_key_reencrypts_for_the_new_row() -> None:
    original = Probe.objects.create(name="Copied Person", dob=datetime.date(1970, 1, 2))
    copy = Probe.objects.get(pk=original.pk)
    copy.pk = uuid.uuid4()
    copy._state.adding = True
    copy.save()
    again = Probe.objects.get(pk=copy.pk)
    assert again.name == "Copied Person" and again.dob == datetime.date(1970, 1, 2)


def test_deferred_encrypted_field_loads_and_decrypts() -> None:
    probe = Probe.objects.create(name="Deferred Person")
    loaded = Probe.objects.defer("name").get(pk=probe.pk)
    assert "name" in loaded.get_deferred_fields()
    assert loaded.name == "Deferred Person"
    assert loaded.refresh_from_db() is None and loaded.name == "Deferred Person"


def test_a_row_read_with_some_columns_has_the_rest_deferred_whichever_they_are() -> None:
    # Vault models spread a row that lacks columns over their fields themselves (one C call,
    # not Django's loop, made once per query): every subset loads as Django would load it.
    values = {"name": "Some Columns", "dob": datetime.date(1999, 9, 9), "place": {"lat": 1}}
    for _ in range(2):  # the second row of each query is spread as the first was
        Probe.objects.create(**values, plain="p")
    names = [f.attname for f in Probe._meta.concrete_fields if f.attname != "id"]
    expected = {name: getattr(Probe.objects.first(), name) for name in names}
    for mask in range(1 << len(names)):
        chosen = [name for i, name in enumerate(names) if mask >> i & 1]
        rows = list(Probe.objects.only("id", *chosen))
        assert len(rows) == 2
        for row in rows:
            assert row.get_deferred_fields() == set(names) - set(chosen), chosen
            assert {name: getattr(row, name) for name in names} == expected, chosen


def test_every_way_of_reading_a_row_gives_sealed_tokens_that_open() -> None:
    # Model queries leave sealing to from_db (no converter per value); every other read seals
    # by the converter: all give SealedTokens, and only the model instances open them.
    probe = Probe.objects.create(name="Read Every Way", dob=datetime.date(1966, 6, 6))
    table = Probe._meta.db_table
    loaded = [
        Probe.objects.get(pk=probe.pk),
        Probe.objects.only("name", "dob").get(pk=probe.pk),
        Probe.objects.raw(f"SELECT * FROM {table}")[0],  # noqa: S608 - a test table name
    ]
    for row in loaded:
        assert isinstance(row.__dict__["name"], SealedToken)
        assert (row.name, row.dob) == ("Read Every Way", datetime.date(1966, 6, 6))
    plain_rows = [
        Probe.objects.values_list("name", flat=True).get(pk=probe.pk),
        Probe.objects.values("name").get(pk=probe.pk)["name"],
        Probe.objects.values_list("id", "dob").get(pk=probe.pk)[1],
    ]
    for token in plain_rows:
        assert isinstance(token, SealedToken) and token.startswith("hv1.")


def test_blind_index_finds_differently_formatted_name() -> None:
    target = Probe.objects.create(name="Siobhán O'Brien-Smith", dob=datetime.date(1980, 3, 7))
    Probe.objects.create(name="Somebody Else", dob=datetime.date(1980, 3, 7))
    found = Probe.objects.filter(name_idx=index_for("name", "  SIOBHAN obrien smith "))
    assert list(found) == [target]
    pair = Probe.objects.filter(
        name_dob_idx=index_for("name_dob", "siobhan o’brien smith", "07/03/1980")
    )
    assert list(pair) == [target]
    assert not Probe.objects.filter(name_idx=index_for("name", "Siobhan Brien")).exists()


def test_blind_index_is_null_without_source_and_tracks_changes() -> None:
    probe = Probe.objects.create(name="---")
    assert probe.name_idx is None and probe.name_dob_idx is None
    probe.name = "Real Name"
    probe.save()
    assert Probe.objects.filter(name_idx=index_for("name", "real name")).get() == probe
    assert probe.name_dob_idx is None  # no date of birth yet
    assert len(probe.name_idx or "") == 3  # recommended_bits(100,000 expected rows) = 12


def test_index_for_validates_arguments() -> None:
    with pytest.raises(ValueError, match="unknown blind index kind"):
        index_for("surname", "x")
    with pytest.raises(ValueError, match="takes 2 value"):
        index_for("name_dob", "x")
    with pytest.raises(ValueError, match="nothing to index"):
        index_for("name", "")


def test_values_still_decrypt_after_the_key_ring_rotates() -> None:
    from haven.vault.keyring import create_data_key, reset_keyring_cache

    probe = Probe.objects.create(name="Before Rotation")
    old_key = get_keyring().active_key_id
    new_key = create_data_key()
    reset_keyring_cache()
    assert get_keyring().active_key_id == new_key != old_key
    loaded = Probe.objects.get(pk=probe.pk)
    assert loaded.name == "Before Rotation"
    assert crypto.key_id_of(raw_row(probe)["name"]) == old_key
    newer = Probe.objects.create(name="After Rotation")
    assert crypto.key_id_of(raw_row(newer)["name"]) == new_key


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00")))
def test_any_text_round_trips_through_the_orm(text: str) -> None:
    probe = Probe.objects.create(name=text)
    assert Probe.objects.get(pk=probe.pk).name == text
    assert raw_row(probe)["name"].startswith("hv1.")


def test_isnull_works_in_subqueries_and_values_give_tokens() -> None:
    from django.db.models import Exists, OuterRef

    with_dob = Probe.objects.create(name="Has Dob", dob=datetime.date(2001, 2, 3))
    without = Probe.objects.create(name="No Dob")
    no_dob = Probe.objects.filter(pk=OuterRef("pk"), dob__isnull=True)
    flagged = Probe.objects.annotate(missing=Exists(no_dob)).filter(missing=True)
    assert list(flagged) == [without]
    assert list(Probe.objects.filter(pk__in=Probe.objects.filter(dob__isnull=False))) == [with_dob]
    tokens = list(Probe.objects.values_list("name", flat=True))
    assert all(token.startswith("hv1.") for token in tokens)
    assert Probe.objects.filter(dob__isnull=True).delete()[0] == 1


def _db_id(value: uuid.UUID) -> object:
    return value.hex if connection.vendor == "sqlite" else value


@pytest.mark.django_db
def test_bulk_sealed_values_read_back_through_the_model_and_stay_bound_to_their_row():
    from haven.vault.fields import bulk_sealer

    seal = bulk_sealer(Probe)
    name_field, place_field = Probe._meta.get_field("name"), Probe._meta.get_field("place")
    first, second = uuid.uuid4(), uuid.uuid4()
    table = Probe._meta.db_table
    row_ids = [str(first), str(second)]
    names = seal(name_field, ["Bulk Sealed", "B"], row_ids)
    places = seal(place_field, [{"lat": 51.5}, None], row_ids)
    with connection.cursor() as cursor:
        for row_id, name, place in zip((first, second), names, places, strict=True):
            cursor.execute(
                f"INSERT INTO {table} (id, name, place, plain, name_idx, name_dob_idx) "
                "VALUES (%s, %s, %s, '', '', '')",
                [_db_id(row_id), name, place],
            )
        cursor.execute(f"SELECT name FROM {table} WHERE id = %s", [_db_id(first)])
        token = SealedToken(cursor.fetchone()[0])
    stored = Probe.objects.get(pk=first)
    assert (stored.name, stored.place) == ("Bulk Sealed", {"lat": 51.5})
    assert Probe.objects.get(pk=second).place is None
    token.row_id = str(second)  # the first row's token, presented as the second row's
    with pytest.raises(VaultIntegrityError):
        name_field.decrypt_token(Probe(pk=second), token)


@pytest.mark.django_db
def test_bulk_opener_reads_plain_rows_and_refuses_a_token_moved_to_another_row():
    from haven.vault.fields import bulk_opener

    first = Probe.objects.create(name="Opened In Bulk", place={"lat": 51.5})
    second = Probe.objects.create(name="Other", place=None)
    rows = dict(Probe.objects.values_list("id", "place"))
    names = dict(Probe.objects.values_list("id", "name"))
    open_ = bulk_opener(Probe)
    place_field, name_field = Probe._meta.get_field("place"), Probe._meta.get_field("name")
    assert open_(place_field, rows[first.pk], str(first.pk)) == {"lat": 51.5}
    assert open_(place_field, rows[second.pk], str(second.pk)) is None
    assert open_(name_field, names[first.pk], str(first.pk)) == "Opened In Bulk"
    with pytest.raises(VaultIntegrityError):  # the first row's token, read as the second's
        open_(name_field, names[first.pk], str(second.pk))


def test_bulk_opener_refuses_a_case_owned_model():
    from haven.cases.models import IdentityRecord
    from haven.vault.fields import bulk_opener

    with pytest.raises(FieldError, match="case-owned"):
        bulk_opener(IdentityRecord)


def test_a_loaded_row_is_read_as_the_row_it_was_loaded_as() -> None:
    # One binding per loaded row: a pk changed in memory does not change what the row's
    # tokens were sealed for (save re-seals them for the new row, see the copy test).
    probe = Probe.objects.create(name="Loaded As", dob=datetime.date(1980, 7, 3))
    loaded = Probe.objects.get(pk=probe.pk)
    loaded.pk = uuid.uuid4()
    assert (loaded.name, loaded.dob) == ("Loaded As", datetime.date(1980, 7, 3))


def test_a_token_read_for_one_row_cannot_be_assigned_to_another_loaded_row() -> None:
    first = Probe.objects.create(name="First Person")
    second = Probe.objects.create(name="Second Person")
    a, b = Probe.objects.get(pk=first.pk), Probe.objects.get(pk=second.pk)
    token = a.__dict__["name"]
    assert isinstance(token, SealedToken)
    with pytest.raises(FieldError, match="assign plaintext"):
        b.name = token
    assert b.name == "Second Person"
    b.name = a.name  # plaintext is what an assignment takes
    b.save()
    assert Probe.objects.get(pk=second.pk).name == "First Person"
