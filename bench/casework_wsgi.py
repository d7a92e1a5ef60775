"""WSGI entry for bench/casework.py. With HAVEN_BENCH_PLAIN=1 (bench only, never production)
the ledger and field encryption are switched off, to measure the security overhead."""

from __future__ import annotations

import base64
import os

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()


class PlainRing:
    """Stores text base64-encoded in the vault token shape: no cipher, no key lookups."""

    def encrypt(self, text: str, aad: bytes) -> str:
        return "hv1.plain." + base64.urlsafe_b64encode(text.encode()).decode()

    def decrypt(self, token: str, aad: bytes) -> str:
        return base64.urlsafe_b64decode(token.split(".", 2)[2]).decode()


def switch_security_off() -> None:
    from haven.audit import ledger
    from haven.vault import fields

    ledger.record = lambda **kwargs: None  # type: ignore[assignment]
    fields.get_keyring = lambda: PlainRing()  # type: ignore[assignment]
    fields.keyring_with = lambda key_id: PlainRing()  # type: ignore[assignment]


if os.environ.get("HAVEN_BENCH_PLAIN") == "1":
    switch_security_off()
