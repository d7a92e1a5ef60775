"""WSGI entry for bench/casework.py. With HAVEN_BENCH_PLAIN=1 (bench only, never production)
need-to-know, the ledger and field encryption are all switched off together, to measure the
whole security overhead: every visibility rule answers "everything" (no grant, clearance or
module filter, no route look-up) except that cases are the officer's caseload (the cases whose
team they are on, by one plain join: the same rows as the secure list pages through), nothing
is written to the ledger, and fields are stored base64-encoded instead of sealed."""

from __future__ import annotations

import base64
import os

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

# As haven.wsgi does after set-up (both servers alike): the startup objects kept out of every
# later garbage collection.
from haven.runtime.serving import freeze_startup_objects  # noqa: E402

freeze_startup_objects()


class PlainRing:
    """Stores text base64-encoded in the vault token shape: no cipher, no key lookups."""

    def encrypt(self, text: str, aad: bytes) -> str:
        return "hv1.plain." + base64.urlsafe_b64encode(text.encode()).decode()

    def reserve_ahead(self, count: int) -> None:
        pass

    def encrypt_column(
        self, table: str, column: str, texts: list[str | None], row_parts: list[bytes]
    ) -> list[str | None]:
        return [None if text is None else self.encrypt(text, b"") for text in texts]

    def decrypt(self, token: str, aad: bytes) -> str:
        return base64.urlsafe_b64decode(token.split(".", 2)[2]).decode()

    def decrypt_cell(self, token: str, *binding: object) -> str:
        return self.decrypt(token, b"")

    def open_cell(self, token: str, *binding: object) -> str:  # a loaded row's cells
        return self.decrypt(token, b"")

    def holds_key_of(self, token: str) -> bool:
        return token.startswith("hv1.plain.")


def everything(user: object, action: object) -> object:
    from haven.access.visibility import EVERYTHING

    return EVERYTHING


def caseload(user: object, action: object) -> object:
    """The cases the officer is on the team of, by a plain join: the working list any case
    system shows an officer, kept so that both servers list and page through the same rows.
    With everything visible, the plain case list would sort and count all 100,000 cases: other
    work than the secure list does, not the same work without its checks."""
    from haven.access import policy

    return policy.team_filter(user, "case")  # type: ignore[arg-type]


def switch_security_off() -> None:
    """Call after django.setup(): the apps register their visibility rules in ready()."""
    from haven.access import policy, visibility
    from haven.audit import ledger
    from haven.cases.models import Case
    from haven.vault import fields

    for model in list(visibility._rules):
        visibility._rules[model] = everything  # type: ignore[assignment]
    # No grants, clearance, module or route: only the officer's own caseload.
    visibility._rules[Case] = caseload  # type: ignore[assignment]
    policy.route_to = lambda user, object_type, object_id: policy.Route.TEAM  # type: ignore[assignment]
    # policy.team_places (the user's places, read with the case page's case) is left as it is:
    # it also decides which actions the page offers, so both servers render the same page.
    ledger.record = lambda **kwargs: None  # type: ignore[assignment]
    fields.get_keyring = lambda: PlainRing()  # type: ignore[assignment]
    fields.keyring_with = lambda key_id: PlainRing()  # type: ignore[assignment]


if os.environ.get("HAVEN_BENCH_PLAIN") == "1":
    switch_security_off()
