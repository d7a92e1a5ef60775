"""KEK behind the KeyEncryptionKey protocol: local and PKCS#11 (SoftHSM2), issue 17 item 7."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven.vault import crypto
from haven.vault.crypto import VaultIntegrityError, VaultKeyError
from haven.vault.kek import KeyEncryptionKey, LocalKek, Pkcs11Kek

SOFTHSM_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
SOFTHSM = next((path for path in SOFTHSM_CANDIDATES if Path(path).exists()), None)
PIN = "1234"
DEK = bytes(range(32))


@pytest.fixture(scope="session")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh SoftHSM2 token in a temporary directory holding one AES-256 key "haven-kek".

    Session-scoped: a PKCS#11 library reads its configuration once per process."""
    if SOFTHSM is None or shutil.which("softhsm2-util") is None:
        pytest.skip("SoftHSM2 is not installed (make softhsm, or apt-get install softhsm2)")
    pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed (haven[hsm])")
    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    config = directory / "softhsm2.conf"
    config.write_text(
        f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(config)
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            "haven",
            "--pin",
            PIN,
            "--so-pin",
            "5678",
        ],
        check=True,
        capture_output=True,
    )
    with pkcs11.lib(SOFTHSM).get_token(token_label="haven").open(user_pin=PIN, rw=True) as session:
        session.generate_key(pkcs11.KeyType.AES, 256, label="haven-kek", store=True)
    yield SOFTHSM
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def hsm_kek(token: str) -> Iterator[Pkcs11Kek]:
    kek = Pkcs11Kek(token, "haven", PIN, "haven-kek")
    yield kek
    kek.close()


def test_local_kek_satisfies_the_protocol_and_round_trips() -> None:
    kek = LocalKek("local1", bytes(32))
    assert isinstance(kek, KeyEncryptionKey)
    wrapped = kek.wrap("dk1", DEK)
    assert kek.unwrap("dk1", wrapped) == DEK and DEK not in wrapped
    with pytest.raises(VaultIntegrityError):
        kek.unwrap("dk2", wrapped)  # bound to its data key id


def test_pkcs11_kek_wraps_on_the_token(hsm_kek: Pkcs11Kek) -> None:
    kek = hsm_kek
    assert isinstance(kek, KeyEncryptionKey) and kek.key_id == "p11-haven-kek"
    wrapped = kek.wrap("dk1", DEK)
    assert crypto.wrapping_kek_id(wrapped) == "p11-haven-kek" and DEK not in wrapped
    assert kek.unwrap("dk1", wrapped) == DEK
    assert kek.wrap("dk1", DEK) != wrapped  # fresh nonce each time
    with pytest.raises(VaultIntegrityError, match="failed to unwrap"):
        kek.unwrap("dk2", wrapped)  # another data key id: associated data differs
    tampered = bytearray(wrapped)
    tampered[-1] ^= 1
    with pytest.raises(VaultIntegrityError):
        kek.unwrap("dk1", bytes(tampered))
    with pytest.raises(VaultIntegrityError, match="unknown KEK"):
        kek.unwrap("dk1", LocalKek("local1", bytes(32)).wrap("dk1", DEK))


def test_pkcs11_kek_with_a_wrong_pin_or_label_is_one_clear_error(token: str) -> None:
    with pytest.raises(VaultKeyError, match="not usable"):
        Pkcs11Kek(token, "haven", "0000", "haven-kek")
    with pytest.raises(VaultKeyError, match="not usable"):
        Pkcs11Kek(token, "haven", PIN, "no-such-key")


@pytest.mark.django_db
def test_the_vault_runs_on_a_pkcs11_kek(token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from haven.vault import keyring
    from haven.vault.models import DataKey
    from tests.vault.probe.models import Probe

    monkeypatch.setenv("HAVEN_KEK_PROVIDER", "pkcs11")
    for name, value in (
        ("HAVEN_PKCS11_LIBRARY", token),
        ("HAVEN_PKCS11_TOKEN", "haven"),
        ("HAVEN_PKCS11_PIN", PIN),
        ("HAVEN_PKCS11_KEY_LABEL", "haven-kek"),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(keyring, "_hsm_kek", None)
    DataKey.objects.all().delete()  # a fresh installation whose data keys live under the HSM
    keyring.reset_keyring_cache()
    probe = Probe.objects.create(name="Wrapped by the token")
    assert DataKey.objects.get(active=True).kek_id == "p11-haven-kek"
    keyring.reset_keyring_cache()
    assert Probe.objects.get(pk=probe.pk).name == "Wrapped by the token"
    hsm = keyring._hsm_kek
    assert isinstance(hsm, Pkcs11Kek)
    hsm.close()
    monkeypatch.setattr(keyring, "_hsm_kek", None)
    keyring.reset_keyring_cache()
