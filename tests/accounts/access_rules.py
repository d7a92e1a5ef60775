"""Access rules of the sign-in and security pages and of account administration (factors)."""

from __future__ import annotations

from haven.accounts.roles import Module
from tests.access.rules import Rule, anyone, module

# Public sign-in steps (the pending user in the session decides) are listed in
# tests/access/test_access_matrix.py PUBLIC and tests/access/test_gates.py DECLARED_PUBLIC.
WEB_POLICY: dict[str, Rule] = {
    "accounts:security": anyone,
    "accounts:change_password": anyone,
    "accounts:end_session": anyone,
    "accounts:recovery_codes": anyone,
    "accounts:passkey_register_begin": anyone,
    "accounts:passkey_register_complete": anyone,
    "accounts:passkey_rename": anyone,
    "accounts:passkey_remove": anyone,
    "accounts:passkey_reauth_begin": anyone,
    "accounts:passkey_reauth_complete": anyone,
    "administration:reset_factors": module(Module.ADMINISTRATION),
    "administration:reset_password": module(Module.ADMINISTRATION),
}


def nobodys(actor: object, inside: bool) -> bool:
    """Own-account operations on a passkey id nobody has: 404 for everyone."""
    return False


API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/account/passkeys"): anyone,
    ("PATCH", "/api/account/passkeys/{passkey_id}"): nobodys,
    ("POST", "/api/account/passkeys/{passkey_id}/remove"): nobodys,
    ("POST", "/api/account/password"): anyone,
    ("GET", "/api/account/sessions"): anyone,
    ("POST", "/api/account/sessions/{session_id}/end"): nobodys,
    ("POST", "/api/accounts/{user_id}/reset-factors"): module(Module.ADMINISTRATION),
    ("POST", "/api/accounts/{user_id}/password-reset"): module(Module.ADMINISTRATION),
}

# Nobody's passkey: each page answers for the signed-in user's own passkeys only.
PARAMS = {
    "device_id": lambda world, inside: "999999",
    "passkey_id": lambda world, inside: "999999",
    "session_id": lambda world, inside: "0" * 16,
}

# Well-formed bodies, so that the operations' own answers (404 for nobody's passkey) are judged.
SAMPLE_PAYLOADS = {
    ("PATCH", "/api/account/passkeys/{passkey_id}"): lambda world: {
        "name": "Matrix key",
        "password": "not-the-password",
        "code": "000000",
    },
    ("POST", "/api/account/sessions/{session_id}/end"): lambda world: {
        "password": "not-the-password",
        "code": "000000",
    },
    ("POST", "/api/account/passkeys/{passkey_id}/remove"): lambda world: {
        "password": "not-the-password",
        "code": "000000",
    },
}
