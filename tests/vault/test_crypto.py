"""Tests for the vault's envelope encryption (haven.vault.crypto)."""

from __future__ import annotations

import base64
import binascii
import stat
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.vault.crypto import (
    DOCUMENT_MAGIC,
    KeyRing,
    VaultIntegrityError,
    VaultKeyError,
    decrypt_bytes,
    decrypt_field,
    derive_kek_id,
    encrypt_bytes,
    encrypt_field,
    field_aad,
    generate_kek_text,
    key_id_of,
    key_id_of_bytes,
    load_kek,
    new_data_key,
    rewrap_data_key,
    row_aad,
    unwrap_data_key,
    wrap_data_key,
    wrapping_kek_id,
    write_kek_file,
)

# Fixed keys keep hypothesis examples reproducible; randomness lives in the nonces.
DEK_ID = "dek-2024"
DEK = bytes(range(32))
OTHER_DEK = bytes(range(32, 64))
KEK_ID = "kek-a"
KEK = bytes(range(64, 96))
AAD = field_aad("person", "surname", "42")

key_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
cell_parts = st.text(max_size=20)


def resolve_only(dek_id: str, dek: bytes = DEK) -> Callable[[str], bytes]:
    """Resolver knowing a single key, raising KeyError like a dict for any other id."""
    return {dek_id: dek}.__getitem__


def flip_bit(data: bytes, position: int) -> bytes:
    index = position % len(data)
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def token_payload(token: str) -> bytes:
    payload = token.split(".")[2]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def token_with_payload(token: str, payload: bytes) -> str:
    prefix, dek_id, _ = token.split(".")
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{prefix}.{dek_id}.{encoded}"


# --------------------------------------------------------------------------- fields


@given(plaintext=st.text(), dek_id=key_ids)
def test_field_round_trip_for_any_unicode_text(plaintext: str, dek_id: str) -> None:
    token = encrypt_field(dek_id, DEK, plaintext, AAD)
    assert decrypt_field(token, AAD, resolve_only(dek_id)) == plaintext


@given(plaintext=st.text())
def test_field_token_is_compact_ascii_naming_its_key(plaintext: str) -> None:
    token = encrypt_field(DEK_ID, DEK, plaintext, AAD)
    assert token.isascii()
    assert token.startswith(f"hv1.{DEK_ID}.")
    assert key_id_of(token) == DEK_ID
    # nonce (12) + tag (16) + UTF-8 plaintext, nothing else
    assert len(token_payload(token)) == 12 + 16 + len(plaintext.encode("utf-8"))


def test_a_column_encrypted_in_one_pass_opens_as_cells_and_counts_each_encryption() -> None:
    reserved: list[int] = []
    ring = KeyRing(reserve=lambda dek_id, count: reserved.append(count), lease=2)
    ring.add_key(DEK_ID, DEK, active=True)
    owner = "case_id=c1"
    rows = ["r1", "r2", "r3", "r4"]
    texts = ["Ada Fictional", None, "Bram Madeup", "Cleo Invented"]
    tokens = ring.encrypt_column("person", "full_name", texts, [row_aad(r, owner) for r in rows])
    assert tokens[1] is None
    for row, text, token in zip(rows, texts, tokens, strict=True):
        if text is not None:
            assert token is not None and key_id_of(token) == DEK_ID
            assert ring.decrypt(token, field_aad("person", "full_name", row, owner)) == text
    with pytest.raises(VaultIntegrityError):  # bound to its row: another row's cell refuses it
        ring.decrypt(str(tokens[0]), field_aad("person", "full_name", "r3", owner))
    assert sum(reserved) >= 3  # leased before use, as encrypt() leases


def test_reserving_ahead_leases_a_whole_batch_in_one_reservation() -> None:
    reserved: list[int] = []
    ring = KeyRing(reserve=lambda dek_id, count: reserved.append(count), lease=2)
    ring.add_key(DEK_ID, DEK, active=True)
    ring.reserve_ahead(10)
    assert len(reserved) == 1 and reserved[0] >= 10
    for n in range(10):
        ring.encrypt(f"value {n}", AAD)
    assert len(reserved) == 1  # all ten were covered by the one reservation
    ring.encrypt("the eleventh or so", AAD)
    ring.encrypt("and one more", AAD)
    assert len(reserved) == 2 and sum(reserved) >= 12


def test_plaintext_does_not_appear_in_token() -> None:
    token = encrypt_field(DEK_ID, DEK, "Siobhan O'Brien", AAD)
    assert "Siobhan" not in token
    assert b"Siobhan" not in token_payload(token)


@given(plaintext=st.text())
def test_encrypting_twice_gives_different_tokens(plaintext: str) -> None:
    first = encrypt_field(DEK_ID, DEK, plaintext, AAD)
    second = encrypt_field(DEK_ID, DEK, plaintext, AAD)
    assert first != second
    assert token_payload(first)[:12] != token_payload(second)[:12]


@given(
    plaintext=st.text(max_size=50),
    cell=st.tuples(cell_parts, cell_parts, cell_parts),
    other_cell=st.tuples(cell_parts, cell_parts, cell_parts),
)
def test_token_moved_to_another_cell_fails(
    plaintext: str, cell: tuple[str, str, str], other_cell: tuple[str, str, str]
) -> None:
    token = encrypt_field(DEK_ID, DEK, plaintext, field_aad(*cell))
    if other_cell == cell:
        assert decrypt_field(token, field_aad(*other_cell), resolve_only(DEK_ID)) == plaintext
    else:
        with pytest.raises(VaultIntegrityError, match="another row/column"):
            decrypt_field(token, field_aad(*other_cell), resolve_only(DEK_ID))


@pytest.mark.parametrize(
    "other_aad",
    [
        field_aad("person", "surname", "43"),  # another row
        field_aad("person", "forename", "42"),  # another column
        field_aad("witness", "surname", "42"),  # another table
        b"",
    ],
)
def test_token_copied_to_other_row_column_or_table_fails(other_aad: bytes) -> None:
    token = encrypt_field(DEK_ID, DEK, "secret", AAD)
    with pytest.raises(VaultIntegrityError):
        decrypt_field(token, other_aad, resolve_only(DEK_ID))


@given(parts=st.lists(st.text(max_size=6), min_size=3, max_size=3), other=st.data())
def test_field_aad_is_injective(parts: list[str], other: st.DataObject) -> None:
    other_parts = other.draw(st.lists(st.text(max_size=6), min_size=3, max_size=3))
    same_encoding = field_aad(*parts) == field_aad(*other_parts)
    assert same_encoding == (parts == other_parts)


@pytest.mark.parametrize("separator", ["|", ",", ":", "\x00", ".", "/", "\x00\x00\x00\x01"])
def test_field_aad_survives_separator_characters_in_values(separator: str) -> None:
    assert field_aad(f"a{separator}b", "c", "1") != field_aad("a", f"b{separator}c", "1")
    assert field_aad("t", f"c{separator}1", "2") != field_aad("t", "c", f"1{separator}2")


def test_field_aad_separates_shifted_boundaries() -> None:
    assert field_aad("ab", "c", "1") != field_aad("a", "bc", "1")
    assert field_aad("t", "ab", "c") != field_aad("t", "a", "bc")
    assert field_aad("t\x00c", "", "1") != field_aad("t", "c", "1")


@given(plaintext=st.text(max_size=40), position=st.integers(min_value=0))
def test_any_flipped_payload_bit_fails(plaintext: str, position: int) -> None:
    token = encrypt_field(DEK_ID, DEK, plaintext, AAD)
    tampered = token_with_payload(token, flip_bit(token_payload(token), position))
    with pytest.raises(VaultIntegrityError):
        decrypt_field(tampered, AAD, resolve_only(DEK_ID))


@given(position=st.integers(min_value=0), replacement=st.characters())
def test_any_changed_token_character_fails(position: int, replacement: str) -> None:
    token = encrypt_field(DEK_ID, DEK, "07/03/1980", AAD)
    index = position % len(token)
    tampered = token[:index] + replacement + token[index + 1 :]
    if tampered == token:
        return
    with pytest.raises(VaultIntegrityError):
        decrypt_field(tampered, AAD, {DEK_ID: DEK, "dek-2025": DEK}.__getitem__)


def test_non_canonical_base64_spelling_is_rejected() -> None:
    # 29 payload bytes leave 2 unused bits in the last base64 character; setting one
    # would decode to the same bytes, so the token text itself must be canonical.
    token = encrypt_field(DEK_ID, DEK, "x", AAD)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    last = alphabet.index(token[-1])
    assert last % 4 == 0
    respelled = token[:-1] + alphabet[last + 1]
    assert token_payload(respelled) == token_payload(token)
    with pytest.raises(VaultIntegrityError):
        decrypt_field(respelled, AAD, resolve_only(DEK_ID))


def test_swapping_key_id_to_another_known_key_fails() -> None:
    token = encrypt_field(DEK_ID, DEK, "secret", AAD)
    relabelled = token.replace(f".{DEK_ID}.", ".other.")
    with pytest.raises(VaultIntegrityError):
        decrypt_field(relabelled, AAD, {"other": DEK}.__getitem__)


def test_unknown_key_id_fails_with_its_name() -> None:
    token = encrypt_field(DEK_ID, DEK, "secret", AAD)
    with pytest.raises(VaultIntegrityError, match="unknown data key 'dek-2024'"):
        decrypt_field(token, AAD, resolve_only("some-other-key"))


def test_wrong_data_key_fails() -> None:
    token = encrypt_field(DEK_ID, DEK, "secret", AAD)
    with pytest.raises(VaultIntegrityError):
        decrypt_field(token, AAD, resolve_only(DEK_ID, OTHER_DEK))


@pytest.mark.parametrize(
    "token",
    ["", "hv1", "hv1..", "hv2.dek.AAAA", "hv1.dek", "hv1.dek.AA.AA", "hv1.d k.AAAA", "hv1.dek.!!"],
)
def test_malformed_tokens_fail_cleanly(token: str) -> None:
    with pytest.raises(VaultIntegrityError):
        decrypt_field(token, AAD, resolve_only("dek"))


def test_truncated_payload_fails_cleanly() -> None:
    token = encrypt_field(DEK_ID, DEK, "", AAD)
    with pytest.raises(VaultIntegrityError):
        decrypt_field(
            token_with_payload(token, token_payload(token)[:20]), AAD, resolve_only(DEK_ID)
        )


@pytest.mark.parametrize("bad_id", ["", "has.dot", "has space", "x" * 65, "é"])
def test_encrypt_refuses_bad_key_ids(bad_id: str) -> None:
    with pytest.raises(VaultKeyError):
        encrypt_field(bad_id, DEK, "x", AAD)


def test_encrypt_refuses_wrong_length_key() -> None:
    with pytest.raises(VaultKeyError, match="32 bytes"):
        encrypt_field(DEK_ID, DEK[:16], "x", AAD)


# --------------------------------------------------------------------------- documents


@given(document=st.binary(max_size=2000), dek_id=key_ids)
def test_document_round_trip(document: bytes, dek_id: str) -> None:
    blob = encrypt_bytes(dek_id, DEK, document, AAD)
    assert blob.startswith(DOCUMENT_MAGIC + bytes([len(dek_id)]) + dek_id.encode())
    assert key_id_of_bytes(blob) == dek_id
    assert decrypt_bytes(blob, AAD, resolve_only(dek_id)) == document


@given(document=st.binary(max_size=200), position=st.integers(min_value=0))
def test_document_any_flipped_bit_fails(document: bytes, position: int) -> None:
    blob = encrypt_bytes(DEK_ID, DEK, document, AAD)
    with pytest.raises(VaultIntegrityError):
        decrypt_bytes(flip_bit(blob, position), AAD, {DEK_ID: DEK, "dek-2025": DEK}.__getitem__)


def test_document_bound_to_its_cell() -> None:
    blob = encrypt_bytes(DEK_ID, DEK, b"%PDF-1.7", AAD)
    with pytest.raises(VaultIntegrityError):
        decrypt_bytes(blob, field_aad("person", "surname", "43"), resolve_only(DEK_ID))


def test_field_and_document_ciphertexts_are_not_interchangeable() -> None:
    blob = encrypt_bytes(DEK_ID, DEK, b"secret", AAD)
    sealed = blob[len(DOCUMENT_MAGIC) + 1 + len(DEK_ID) :]
    as_token = token_with_payload(f"hv1.{DEK_ID}.", sealed)
    with pytest.raises(VaultIntegrityError):
        decrypt_field(as_token, AAD, resolve_only(DEK_ID))


@pytest.mark.parametrize("blob", [b"", b"hv1", b"hv1\x05ab", b"xx1\x01a" + bytes(40)])
def test_malformed_documents_fail_cleanly(blob: bytes) -> None:
    with pytest.raises(VaultIntegrityError):
        decrypt_bytes(blob, AAD, resolve_only("a"))


# --------------------------------------------------------------------------- data keys


@given(dek=st.binary(min_size=32, max_size=32), dek_id=key_ids, kek_id=key_ids)
def test_wrap_unwrap_round_trip(dek: bytes, dek_id: str, kek_id: str) -> None:
    wrapped = wrap_data_key(kek_id, KEK, dek_id, dek)
    assert wrapping_kek_id(wrapped) == kek_id
    assert dek not in wrapped
    assert unwrap_data_key({kek_id: KEK}, dek_id, wrapped) == dek


def test_new_data_keys_are_random_32_bytes() -> None:
    first, second = new_data_key(), new_data_key()
    assert len(first) == len(second) == 32
    assert first != second


def test_unwrap_picks_the_named_kek_among_several() -> None:
    keks = {"kek-old": OTHER_DEK, KEK_ID: KEK, "kek-new": DEK}
    wrapped = wrap_data_key(KEK_ID, KEK, DEK_ID, DEK)
    assert unwrap_data_key(keks, DEK_ID, wrapped) == DEK


def test_unwrap_with_wrong_kek_fails() -> None:
    wrapped = wrap_data_key(KEK_ID, KEK, DEK_ID, DEK)
    with pytest.raises(VaultIntegrityError, match="failed to unwrap"):
        unwrap_data_key({KEK_ID: OTHER_DEK}, DEK_ID, wrapped)


def test_unwrap_with_missing_kek_fails() -> None:
    wrapped = wrap_data_key(KEK_ID, KEK, DEK_ID, DEK)
    with pytest.raises(VaultIntegrityError, match="unknown KEK 'kek-a'"):
        unwrap_data_key({"kek-b": KEK}, DEK_ID, wrapped)


def test_wrapped_key_is_bound_to_its_dek_id() -> None:
    wrapped = wrap_data_key(KEK_ID, KEK, DEK_ID, DEK)
    with pytest.raises(VaultIntegrityError):
        unwrap_data_key({KEK_ID: KEK}, "dek-2025", wrapped)


@given(position=st.integers(min_value=0))
def test_wrapped_key_any_flipped_bit_fails(position: int) -> None:
    wrapped = wrap_data_key(KEK_ID, KEK, DEK_ID, DEK)
    with pytest.raises(VaultIntegrityError):
        unwrap_data_key({KEK_ID: KEK, "kek-b": KEK}, DEK_ID, flip_bit(wrapped, position))


def test_rewrap_moves_data_key_to_new_kek() -> None:
    wrapped = wrap_data_key(KEK_ID, KEK, DEK_ID, DEK)
    rewrapped = rewrap_data_key({KEK_ID: KEK}, DEK_ID, wrapped, "kek-b", OTHER_DEK)
    assert wrapping_kek_id(rewrapped) == "kek-b"
    assert unwrap_data_key({"kek-b": OTHER_DEK}, DEK_ID, rewrapped) == DEK
    with pytest.raises(VaultIntegrityError):
        unwrap_data_key({KEK_ID: KEK}, DEK_ID, rewrapped)


# --------------------------------------------------------------------------- KEK loading


def kek_text(kek: bytes) -> str:
    return base64.urlsafe_b64encode(kek).decode()


def test_load_kek_from_env_derives_stable_id() -> None:
    kek_id, kek = load_kek(None, kek_text(KEK))
    assert kek == KEK
    assert kek_id == derive_kek_id(KEK)
    assert len(kek_id) == 8
    assert load_kek(None, kek_text(KEK))[0] == kek_id
    assert derive_kek_id(OTHER_DEK) != kek_id


def test_load_kek_from_env_with_explicit_id() -> None:
    assert load_kek(None, f"prod-2025:{kek_text(KEK)}\n") == ("prod-2025", KEK)


def test_load_kek_env_takes_priority_over_file(tmp_path: Path) -> None:
    key_file = tmp_path / "kek.key"
    key_file.write_text(kek_text(OTHER_DEK))
    assert load_kek(key_file, kek_text(KEK))[1] == KEK


@pytest.mark.parametrize("blank_env", [None, "", "  \n"])
def test_load_kek_from_file_when_env_unset(tmp_path: Path, blank_env: str | None) -> None:
    key_file = tmp_path / "kek.key"
    key_file.write_text(kek_text(KEK) + "\n")
    assert load_kek(key_file, blank_env) == (derive_kek_id(KEK), KEK)


def test_load_kek_accepts_unpadded_base64() -> None:
    assert load_kek(None, kek_text(KEK).rstrip("="))[1] == KEK


def assert_one_line(error: pytest.ExceptionInfo[VaultKeyError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_load_kek_missing_file_message(tmp_path: Path) -> None:
    path = tmp_path / "kek.key"
    with pytest.raises(VaultKeyError) as error:
        load_kek(path, None)
    assert assert_one_line(error) == (
        f"HAVEN key file {path} is missing: run `haven keys init` or set HAVEN_KEK"
    )


def test_load_kek_nothing_configured_message() -> None:
    with pytest.raises(VaultKeyError, match="set HAVEN_KEK") as error:
        load_kek(None, None)
    assert_one_line(error)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_load_kek_wrong_length_message(tmp_path: Path, length: int) -> None:
    path = tmp_path / "kek.key"
    path.write_text(kek_text(bytes(length)) if length else "\n")
    with pytest.raises(VaultKeyError, match=str(path)) as error:
        load_kek(path, None)
    message = assert_one_line(error)
    assert ("is empty" in message) if length == 0 else (f"holds {length} bytes" in message)


def test_load_kek_bad_env_never_echoes_the_value() -> None:
    secret_looking = "not*base64*" + "s3cr3t" * 5
    with pytest.raises(VaultKeyError, match="HAVEN_KEK") as error:
        load_kek(None, secret_looking)
    assert "s3cr3t" not in assert_one_line(error)


def test_load_kek_rejects_bad_explicit_id() -> None:
    with pytest.raises(VaultKeyError, match="key id"):
        load_kek(None, f"bad id:{kek_text(KEK)}")


def test_generated_kek_text_loads_as_fresh_key() -> None:
    first, second = generate_kek_text(), generate_kek_text()
    assert first != second
    assert len(load_kek(None, first)[1]) == 32


def test_write_kek_file_is_private_and_loadable(tmp_path: Path) -> None:
    path = tmp_path / "kek.key"
    kek_id = write_kek_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_kek(path, None)[0] == kek_id


def test_write_kek_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "kek.key"
    path.write_text("precious")
    with pytest.raises(VaultKeyError, match="refusing to overwrite"):
        write_kek_file(path)
    assert path.read_text() == "precious"


# --------------------------------------------------------------------------- key ring


def test_key_ring_encrypts_with_active_key_and_decrypts_old_ones() -> None:
    ring = KeyRing()
    ring.add_key("old", DEK)
    ring.add_key("new", OTHER_DEK, active=True)
    old_token = encrypt_field("old", DEK, "Jane", AAD)
    new_token = ring.encrypt("Jane", AAD)
    assert key_id_of(new_token) == "new"
    assert ring.decrypt(old_token, AAD) == ring.decrypt(new_token, AAD) == "Jane"
    assert ring.needs_reencryption(old_token)
    assert not ring.needs_reencryption(new_token)
    rotated = ring.reencrypt(old_token, AAD)
    assert key_id_of(rotated) == "new"
    assert ring.decrypt(rotated, AAD) == "Jane"


def test_key_ring_documents_round_trip() -> None:
    ring = KeyRing()
    ring.add_key(DEK_ID, DEK, active=True)
    assert ring.decrypt_bytes(ring.encrypt_bytes(b"\x00doc", AAD), AAD) == b"\x00doc"


def test_key_ring_unknown_key_raises_integrity_error() -> None:
    ring = KeyRing()
    ring.add_key("new", DEK, active=True)
    with pytest.raises(VaultIntegrityError, match="unknown data key 'gone'"):
        ring.decrypt(encrypt_field("gone", DEK, "x", AAD), AAD)


def test_key_ring_without_active_key_refuses_to_encrypt() -> None:
    ring = KeyRing()
    ring.add_key("old", DEK)
    with pytest.raises(VaultKeyError, match="no active data key"):
        ring.encrypt("x", AAD)


def test_key_ring_repr_hides_key_material() -> None:
    ring = KeyRing()
    ring.add_key(DEK_ID, DEK, active=True)
    assert DEK_ID in repr(ring)
    assert DEK.hex() not in repr(ring) and repr(DEK) not in repr(ring)
    assert DEK_ID in ring and ring.key_ids == {DEK_ID}


# ------------------------------------------------------- key ring fast path (cached ciphers)


def ring_with(dek_id: str = DEK_ID, dek: bytes = DEK) -> KeyRing:
    ring = KeyRing()
    ring.add_key(dek_id, dek, active=True)
    return ring


@given(plaintext=st.text(max_size=40), position=st.integers(min_value=0))
def test_key_ring_rejects_any_flipped_payload_bit(plaintext: str, position: int) -> None:
    ring = ring_with()
    token = ring.encrypt(plaintext, AAD)
    tampered = token_with_payload(token, flip_bit(token_payload(token), position))
    with pytest.raises(VaultIntegrityError):
        ring.decrypt(tampered, AAD)


@given(position=st.integers(min_value=0), replacement=st.characters())
def test_key_ring_rejects_any_changed_token_character(position: int, replacement: str) -> None:
    ring = ring_with()
    ring.add_key("dek-2025", DEK)
    token = ring.encrypt("07/03/1980", AAD)
    index = position % len(token)
    tampered = token[:index] + replacement + token[index + 1 :]
    if tampered == token:
        return
    with pytest.raises(VaultIntegrityError):
        ring.decrypt(tampered, AAD)


def test_key_ring_rejects_non_canonical_spelling_and_other_cells() -> None:
    ring = ring_with()
    token = ring.encrypt("x", AAD)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    respelled = token[:-1] + alphabet[alphabet.index(token[-1]) + 1]
    assert token_payload(respelled) == token_payload(token)
    owned = field_aad("person", "surname", "42", "case_id=1")
    for bad_token, aad in [
        (respelled, AAD),
        (token, field_aad("person", "surname", "43")),
        (token, owned),
        (ring.encrypt("x", owned), field_aad("person", "surname", "42", "case_id=2")),
    ]:
        with pytest.raises(VaultIntegrityError):
            ring.decrypt(bad_token, aad)


@pytest.mark.parametrize(
    "token", ["", "hv1", "hv1..", "hv2.dek.AAAA", "hv1.dek", "hv1.dek.AA.AA", "hv1.dek.!!"]
)
def test_key_ring_malformed_tokens_fail_cleanly(token: str) -> None:
    with pytest.raises(VaultIntegrityError):
        ring_with("dek").decrypt(token, AAD)


def test_reading_a_cell_refuses_a_token_of_other_than_three_parts() -> None:
    # open_cell finds its cipher by the token's head "hv1.<key id>" (all before the last "."):
    # a good payload behind a head with a part too many or too few must not open.
    ring = ring_with("dek")
    payload = ring.encrypt("Siobhán", AAD).rpartition(".")[2]
    assert ring.decrypt_cell(f"hv1.dek.{payload}", "person", "surname", "42") == "Siobhán"
    for token in (f"hv1.dek.dek.{payload}", f"hv1.hv1.dek.{payload}", f"hv1.{payload}", payload):
        with pytest.raises(VaultIntegrityError):
            ring.decrypt_cell(token, "person", "surname", "42")


@given(head=st.text(alphabet="hv12.dek", max_size=14))
def test_reading_a_cell_accepts_exactly_the_heads_decrypt_accepts(head: str) -> None:
    ring = ring_with("dek")
    token = head + "." + ring.encrypt("Siobhán", AAD).rpartition(".")[2]
    try:
        expected: str | None = ring.decrypt(token, AAD)
    except VaultIntegrityError:
        expected = None
    try:
        got: str | None = ring.decrypt_cell(token, "person", "surname", "42")
    except (VaultIntegrityError, KeyError):  # KeyError: a key the ring lacks (the caller reloads)
        got = None
    assert got == expected


@given(parts=st.lists(st.text(max_size=12), min_size=3, max_size=4))
def test_field_aad_bytes_are_unchanged_by_the_cached_prefix(parts: list[str]) -> None:
    # Stored ciphertexts were sealed with exactly these bytes: the label, then every part
    # length-prefixed. Caching the (table, column) prefix must not change a single byte.
    expected = b"haven-field-v1" + b"".join(
        len(part.encode()).to_bytes(4, "big") + part.encode() for part in parts
    )
    assert field_aad(*parts) == expected


def reference_b64decode(text: str) -> bytes:
    """The decoder before the fast path: alphabet, padding tolerated, canonical by re-encoding."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        raise ValueError(text)
    unpadded = text.rstrip("=")
    raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    if base64.urlsafe_b64encode(raw).decode().rstrip("=") != unpadded:
        raise ValueError(text)
    return raw


@given(text=st.text(alphabet=string.ascii_letters + string.digits + "-_=+/ ", max_size=12))
def test_base64_decoder_accepts_exactly_what_the_reference_accepts(text: str) -> None:
    from haven.vault.crypto import _b64decode

    try:
        expected: bytes | None = reference_b64decode(text)
    except (ValueError, binascii.Error):
        expected = None
    try:
        decoded: bytes | None = _b64decode(text)
    except ValueError:
        decoded = None
    assert decoded == expected


# Stored before the fast paths (cipher per key, cached associated-data prefixes, base64 checks
# on the last character only), made by an independent encoder from the documented format with
# DEK and fixed nonces: every later version must still open them, byte for byte.
STORED_FIELD = "hv1.dek-2024.ZGVmZ2hpamtsbW5vG3KxBBEq9_AeLJxF-icCjyujb2RbZb8P8CwqcVnSdzFmnani"
STORED_OWNED_FIELD = "hv1.dek-2024.yMnKy8zNzs_Q0dLTIU9W67bswhBEDS2Nn9nkYUxGSHjpVSPUoWlBlw"
STORED_OWNED_AAD = (
    "cases_person",
    "phone",
    "6f1c0e2a-0000-4000-8000-000000000001",
    "case_id=6f1c0e2a00004000800000000000000a",
)
STORED_DOCUMENT = bytes.fromhex(
    "6876310864656b2d323032340000000000000000000000002becf198954aeac56dcc5460f1f8ae735f5d14805c"
    "d442f879bf"
)


def test_ciphertexts_stored_by_earlier_versions_still_decrypt() -> None:
    ring = ring_with(DEK_ID)
    owned_aad = field_aad(*STORED_OWNED_AAD)
    assert ring.decrypt(STORED_FIELD, AAD) == "Siobhán Ní Bhriain"
    assert decrypt_field(STORED_FIELD, AAD, resolve_only(DEK_ID)) == "Siobhán Ní Bhriain"
    assert ring.decrypt(STORED_OWNED_FIELD, owned_aad) == "07700 900123"
    assert ring.decrypt_bytes(STORED_DOCUMENT, b"doc-aad") == b"%PDF fixed"
    assert decrypt_bytes(STORED_DOCUMENT, b"doc-aad", resolve_only(DEK_ID)) == b"%PDF fixed"


def test_stored_ciphertexts_stay_bound_to_their_cell() -> None:
    ring = ring_with(DEK_ID)
    table, column, row, owner = STORED_OWNED_AAD
    for aad in (
        field_aad("person", "surname", "43"),
        field_aad("person", "forename", "42"),
        field_aad("person", "surname", "42", "case_id=x"),
    ):
        with pytest.raises(VaultIntegrityError):
            ring.decrypt(STORED_FIELD, aad)
    with pytest.raises(VaultIntegrityError):
        ring.decrypt(STORED_OWNED_FIELD, field_aad(table, column, row))
    with pytest.raises(VaultIntegrityError):
        ring.decrypt_bytes(STORED_DOCUMENT, b"doc-aaD")


def test_reading_a_cell_opens_stored_ciphertexts_and_only_in_their_own_cell() -> None:
    # decrypt_cell builds the associated data from cached per-key and per-column prefixes:
    # it must open what earlier versions stored, and nothing moved to another cell.
    ring = ring_with(DEK_ID)
    table, column, row, owner = STORED_OWNED_AAD
    assert ring.decrypt_cell(STORED_FIELD, "person", "surname", "42") == "Siobhán Ní Bhriain"
    assert ring.decrypt_cell(STORED_OWNED_FIELD, table, column, row, owner) == "07700 900123"
    for cell in (
        ("person", "surname", "43", None),
        ("person", "forename", "42", None),
        ("person", "surname", "42", "case_id=x"),
    ):
        with pytest.raises(VaultIntegrityError):
            ring.decrypt_cell(STORED_FIELD, *cell)
    for cell in ((table, column, row, None), (table, column, row, owner + "0")):
        with pytest.raises(VaultIntegrityError):
            ring.decrypt_cell(STORED_OWNED_FIELD, *cell)


def test_a_replaced_key_is_not_read_with_its_old_cipher() -> None:
    ring = ring_with(DEK_ID)
    assert ring.decrypt_cell(STORED_FIELD, "person", "surname", "42") == "Siobhán Ní Bhriain"
    ring.add_key(DEK_ID, bytes(32), active=True)  # same id, other key material
    with pytest.raises(VaultIntegrityError):
        ring.decrypt_cell(STORED_FIELD, "person", "surname", "42")


@given(
    plaintext=st.text(max_size=40), position=st.integers(min_value=0), replacement=st.characters()
)
def test_reading_a_cell_refuses_any_changed_token_character(
    plaintext: str, position: int, replacement: str
) -> None:
    # decrypt_cell decodes a canonical unpadded payload in one strict binascii call: a changed
    # character anywhere (key id, alphabet, canonical last character, length) must still fail.
    ring = ring_with()
    ring.add_key("dek-2025", DEK)  # a relabelled key id that the ring holds must fail too
    sealed = ring.encrypt(plaintext, AAD)
    assert ring.decrypt_cell(sealed, "person", "surname", "42") == plaintext
    index = position % len(sealed)
    tampered = sealed[:index] + replacement + sealed[index + 1 :]
    if tampered == sealed:
        return
    with pytest.raises((VaultIntegrityError, KeyError)):  # KeyError: a key the ring lacks
        ring.decrypt_cell(tampered, "person", "surname", "42")


@given(payload=st.text(alphabet=string.ascii_letters + string.digits + "-_=+/. é", max_size=80))
def test_reading_a_cell_accepts_exactly_the_payloads_decrypt_accepts(payload: str) -> None:
    # Whatever the payload text (padded, non-canonical, strangers, any length), decrypt_cell
    # decides as decrypt does, with the same plaintext when both open it.
    ring = ring_with()
    token = ring.encrypt("Siobhán", AAD)
    for candidate in (f"hv1.{DEK_ID}.{payload}", token + payload, token + "=" * len(payload)):
        try:
            expected: str | None = ring.decrypt(candidate, AAD)
        except VaultIntegrityError:
            expected = None
        try:
            got: str | None = ring.decrypt_cell(candidate, "person", "surname", "42")
        except VaultIntegrityError:
            got = None
        assert got == expected


@pytest.mark.parametrize("plaintext", ["", "x", "xy", "xyz"])  # every payload length mod 4
def test_reading_a_cell_refuses_every_other_spelling_of_the_last_character(plaintext: str) -> None:
    ring = ring_with()
    token = ring.encrypt(plaintext, AAD)
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
    respellings = [token[:-1] + other for other in alphabet if other != token[-1]]
    same_bytes = [t for t in respellings if token_payload(t) == token_payload(token)]
    assert same_bytes or len(token.split(".")[2]) % 4 == 0  # 2 or 4 unused bits: respellable
    for respelled in respellings:
        with pytest.raises(VaultIntegrityError):
            ring.decrypt_cell(respelled, "person", "surname", "42")
    assert ring.decrypt_cell(token, "person", "surname", "42") == plaintext
