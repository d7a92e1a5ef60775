from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from haven.vault.keyring import reset_keyring_cache


@pytest.fixture(autouse=True)
def fresh_keyring() -> Iterator[None]:
    """Each test loads the data keys of its own database state."""
    reset_keyring_cache()
    yield
    reset_keyring_cache()


@pytest.fixture(autouse=True)
def own_blob_store(tmp_path: Path) -> Iterator[None]:
    """Each test has its own empty blob store: blobs other tests left would count in rotation."""
    with override_settings(BLOB_DIR=tmp_path / "blobs"):
        yield


@pytest.fixture
def key_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No key in the environment; KEY_DIR is an empty temporary directory."""
    monkeypatch.delenv("HAVEN_KEK", raising=False)
    monkeypatch.delenv("HAVEN_BLIND_INDEX_KEY", raising=False)
    key_dir = tmp_path / "keys"
    with override_settings(KEY_DIR=key_dir):
        reset_keyring_cache()
        yield key_dir
    reset_keyring_cache()
