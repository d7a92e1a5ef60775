"""ASVS 4.0.3 2.4.5: passwords are keyed with a pepper (a secret outside the database) before
Argon2id. A dump of the database, hash included, is not enough to check a guess; hashes made
before the pepper keep working and are re-hashed with it at the next sign-in."""

from __future__ import annotations

from unittest import mock

import argon2
import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings

from haven import settings as production
from haven.accounts.hashers import PepperedArgon2PasswordHasher
from haven.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

production_hashers = override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS)


def test_a_dump_and_the_hash_do_not_verify_the_password_without_the_pepper():
    with production_hashers:
        stored = make_password(PASSWORD)
        assert stored.startswith("argon2_peppered$argon2id$")
        hasher = PepperedArgon2PasswordHasher()
        assert hasher.verify(PASSWORD, stored)
        # An attacker with the dump runs Argon2id on their guesses: the right one fails.
        _, argon2_part = stored.split("$", 1)
        with pytest.raises(argon2.exceptions.VerifyMismatchError):
            argon2.PasswordHasher().verify("$" + argon2_part, PASSWORD)
        # ... and so does Haven itself on a host without the pepper's key file.
        with mock.patch("haven.accounts.hashers.blind_index_key", return_value=b"\x01" * 32):
            assert not hasher.verify(PASSWORD, stored)


def test_a_hash_made_before_the_pepper_signs_in_and_is_re_hashed_with_it():
    user = UserFactory()
    with production_hashers:
        User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="argon2"))
        answer = Client().post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
        assert answer.status_code == 302 and answer["Location"] == "/accounts/verify/"
        user.refresh_from_db()
        assert user.password.startswith("argon2_peppered$argon2id$")
        assert user.check_password(PASSWORD)
        assert not user.check_password("not the password")


def test_a_wrong_password_does_not_re_hash_an_old_hash():
    user = UserFactory()
    with production_hashers:
        old = make_password(PASSWORD, hasher="argon2")
        User.objects.filter(pk=user.pk).update(password=old)
        Client().post("/accounts/login/", {"username": user.username, "password": "wrong guess"})
        user.refresh_from_db()
        assert user.password == old
