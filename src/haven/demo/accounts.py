"""Synthetic demo accounts, one per role. Names are obviously fictional."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from haven.accounts import services
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]
    clearance: int


DEMO_ACCOUNTS = [
    DemoAccount("officer", "Ada", "Fictional", (Role.PROTECTION_OFFICER,), Clearance.SECRET),
    DemoAccount("manager", "Bram", "Imaginary", (Role.PROTECTION_MANAGER,), Clearance.SECRET),
    DemoAccount("authoriser", "Cleo", "Madeup", (Role.AUTHORISING_OFFICER,), Clearance.TOP_SECRET),
    DemoAccount(
        "identity",
        "Dov",
        "Invented",
        (Role.PROTECTION_OFFICER, Role.IDENTITY_OFFICER),
        Clearance.TOP_SECRET,
    ),
    DemoAccount("technician", "Esme", "Pretend", (Role.TECHNICAL_OFFICER,), Clearance.SECRET),
    DemoAccount("supervisor", "Finn", "Notreal", (Role.TECHNICAL_SUPERVISOR,), Clearance.SECRET),
    DemoAccount("oversight", "Gita", "Storybook", (Role.OVERSIGHT_OFFICER,), Clearance.OFFICIAL),
    DemoAccount("oversighthead", "Hal", "Sample", (Role.OVERSIGHT_HEAD,), Clearance.OFFICIAL),
    DemoAccount("auditor", "Iris", "Placeholder", (Role.AUDITOR,), Clearance.SECRET),
    DemoAccount("admin", "Jude", "Example", (Role.ADMINISTRATOR,), Clearance.OFFICIAL),
]


def demo_password(spec: DemoAccount) -> str:
    """A random password the account's own validators accept: now and then a random one is
    "too similar" to a name (zxcvbn and Django's similarity check look at the account), and a
    demo that fails one run in a few hundred is no demo."""
    person = User(username=spec.username, first_name=spec.first_name, last_name=spec.last_name)
    for _ in range(20):
        password = "demo-" + secrets.token_urlsafe(9)
        try:
            password_validation.validate_password(password, person)
        except ValidationError:
            continue
        return password
    raise RuntimeError(f"no acceptable demo password found for {spec.username}")


@transaction.atomic
def create_demo_accounts() -> list[tuple[User, str]]:
    """Create the demo accounts, or give existing ones a fresh password and authenticator.

    Existing accounts are kept rather than recreated: demo casework, deployments and ledger
    entries refer to them, and the ledger cannot be rewritten."""
    created = []
    for spec in DEMO_ACCOUNTS:
        password = demo_password(spec)
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = services.create_user(
                spec.username,
                password,
                roles=list(spec.roles),
                clearance=spec.clearance,
                first_name=spec.first_name,
                last_name=spec.last_name,
            )
        else:
            user.set_password(password)
            user.locked_until = None
            user.failed_logins = 0
            user.save(update_fields=["password", "locked_until", "failed_logins"])
        services.enrol_totp_now(user)
        created.append((user, password))
    return created
