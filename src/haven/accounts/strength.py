"""How hard a password is to guess (ASVS 4.0.3 2.1.8): zxcvbn's estimate, shared by the
validator that refuses weak passwords and the meter beside every new-password field, so the
meter never says "good" about a password the server then refuses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from zxcvbn import zxcvbn

# zxcvbn scores 0–4; 3 is "safely unguessable" (about 10^8 guesses: fine against an online
# attack, and the hash, pepper and throttling stand behind it).
MINIMUM_SCORE = 3
# Passwords are at most 128 characters (MaximumLengthValidator); estimating more would only
# cost time, and zxcvbn's own default stops at 72.
LONGEST = 128

WORDS = {0: "very weak", 1: "very weak", 2: "weak", 3: "good", 4: "strong"}


@dataclass(frozen=True)
class Strength:
    score: int
    advice: str

    @property
    def acceptable(self) -> bool:
        return self.score >= MINIMUM_SCORE

    @property
    def hint(self) -> str:
        """The meter's words, shown as GOV.UK hint text."""
        words = f"Password strength: {WORDS[self.score]}."
        if self.acceptable:
            return words
        return f"{words} {self.advice}".strip()


def estimate(password: str, user_inputs: Iterable[str] = ()) -> Strength:
    """The score of ``password``; ``user_inputs`` (the person's names) count as easy guesses."""
    result = zxcvbn(
        password[:LONGEST], user_inputs=[i for i in user_inputs if i], max_length=LONGEST
    )
    feedback = result["feedback"]
    advice = " ".join([feedback["warning"], *feedback["suggestions"]]).strip()
    return Strength(score=int(result["score"]), advice=advice or "Add more words.")
