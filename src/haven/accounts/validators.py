"""Password rules Django does not ship (listed in settings.AUTH_PASSWORD_VALIDATORS)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from .strength import estimate


class MaximumLengthValidator:
    """ASVS 4.0.3 2.1.2: passwords of 64 characters and more are allowed, up to 128."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"Your password must be {self.max_length} characters or fewer",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password must be {self.max_length} characters or fewer."


class StrengthValidator:
    """ASVS 4.0.3 2.1.8: refuse a password zxcvbn rates easy to guess, saying why; the same
    estimate drives the strength meter on the forms (haven.accounts.strength)."""

    def validate(self, password: str, user: Any = None) -> None:
        names = [getattr(user, field, "") for field in ("username", "first_name", "last_name")]
        strength = estimate(password, names)
        if not strength.acceptable:
            raise ValidationError(
                f"Choose a password that is harder to guess. {strength.advice}",
                code="password_too_guessable",
            )

    def get_help_text(self) -> str:
        return "Your password must be hard to guess: several uncommon words work well."
