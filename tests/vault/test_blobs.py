from __future__ import annotations

import stat
from pathlib import Path

import pytest
from django.test import override_settings

from haven.vault.blobs import BlobNotFound, delete_blob, read_blob, store_blob
from haven.vault.crypto import VaultIntegrityError
from haven.vault.keyring import create_data_key, reset_keyring_cache

pytestmark = pytest.mark.django_db

DOCUMENT = b"%PDF-1.7 witness statement: Ophelia Brightwater, 12 Lark Rise" * 50


@pytest.fixture(autouse=True)
def blob_dir(tmp_path: Path):
    with override_settings(BLOB_DIR=tmp_path / "blobs"):
        yield tmp_path / "blobs"


def test_round_trip_and_file_holds_no_plaintext(blob_dir: Path) -> None:
    blob_id = store_blob(DOCUMENT, b"case:1:doc:1")
    files = [path for path in blob_dir.rglob("*") if path.is_file()]
    assert [path.name for path in files] == [blob_id]
    raw = files[0].read_bytes()
    assert raw.startswith(b"hv1") and b"Ophelia" not in raw
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert read_blob(blob_id, b"case:1:doc:1") == DOCUMENT


def test_wrong_aad_or_tampering_fails(blob_dir: Path) -> None:
    blob_id = store_blob(b"secret", b"case:1:doc:1")
    with pytest.raises(VaultIntegrityError):
        read_blob(blob_id, b"case:2:doc:1")
    path = next(path for path in blob_dir.rglob("*") if path.is_file())
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(VaultIntegrityError, match="altered"):
        read_blob(blob_id, b"case:1:doc:1")


@pytest.mark.parametrize(
    "bad_id",
    ["../../etc/passwd", "bl" + "0" * 31, "bl" + "0" * 31 + "/", "BL" + "0" * 32, "", "bl..", 5],
)
def test_blob_ids_are_validated(bad_id) -> None:
    for operation in (lambda: read_blob(bad_id, b""), lambda: delete_blob(bad_id)):
        with pytest.raises(VaultIntegrityError, match="invalid blob id"):
            operation()


def test_delete_and_missing_blob() -> None:
    blob_id = store_blob(b"x", b"a")
    assert delete_blob(blob_id) is True
    assert delete_blob(blob_id) is False
    with pytest.raises(BlobNotFound):
        read_blob(blob_id, b"a")


def test_blob_readable_after_data_key_rotation() -> None:
    blob_id = store_blob(b"old key document", b"a")
    create_data_key()
    reset_keyring_cache()
    assert read_blob(blob_id, b"a") == b"old key document"
    assert read_blob(store_blob(b"new", b"b"), b"b") == b"new"
