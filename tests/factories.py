"""Factories shared by every domain's tests."""

from __future__ import annotations

import factory
from django.test import Client
from django_otp.oath import TOTP

from haven.accounts.models import AuthenticatorDevice, User
from haven.accounts.roles import Clearance, Role

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = "Fictional"
    roles = factory.LazyFunction(lambda: [Role.PROTECTION_OFFICER])
    clearance = Clearance.SECRET
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def with_totp(obj, create, extracted, **kwargs):  # noqa: N805
        obj.save()
        if create and extracted is not False:
            AuthenticatorDevice(user=obj, name="test", confirmed=True).save()


def current_code(user: User) -> str:
    """A code the device will accept now: TOTP refuses a replayed step, so after a sign-in in
    this 30-second window use the next step, which the device's one-step tolerance allows."""
    device = AuthenticatorDevice.objects.get(user=user, confirmed=True)
    counter = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    step = max(counter.t(), device.last_t + 1)
    counter.drift = step - counter.t() + device.drift
    return f"{counter.token():06d}"


def issue_token(user: User, name: str = "test", *, modules=None, can_write: bool = True):  # type: ignore[no-untyped-def]
    """An API token for the user's modules (or `modules`), able to write unless told."""
    from haven.accounts import services

    scope = user.modules if modules is None else modules
    return services.issue_api_token(user, name, modules=scope, can_write=can_write)


def force_sign_in(client, user: User):  # type: ignore[no-untyped-def]
    """A fully signed-in session (password and TOTP) without replaying TOTP codes."""
    from django.utils import timezone

    from haven.accounts.middleware import EPOCH, SIGNED_IN_AT

    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id if device else None
    session[EPOCH] = user.session_epoch
    session[SIGNED_IN_AT] = int(timezone.now().timestamp())
    session.save()
    return client


def make_case(lead: User, *, name: str = "Ivy Testcase", manager: User | None = None, **kwargs):  # type: ignore[no-untyped-def]
    from haven.cases import services

    return services.create_case(lead, subject_name=name, manager=manager, **kwargs)


def web_client(user: User) -> Client:
    """A browser-like client signed in as `user` (both factors)."""
    return force_sign_in(Client(), user)


def token_client(user: User) -> Client:
    """An API client with a read-write token for every module the user's roles open."""
    from haven.accounts import services as account_services

    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
