"""Workforce categories: grades and the nine protected characteristics (Equality Act 2010 s.4).

Values are codes as a force would send them in its CSV return; every characteristic allows
"not_stated" so that nobody has to declare anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NOT_STATED = ("not_stated", "Not stated")


@dataclass(frozen=True)
class Characteristic:
    code: str
    label: str
    values: tuple[tuple[str, str], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.values)

    def label_for(self, code: str) -> str:
        return dict(self.values).get(code, code)


GRADES: tuple[tuple[str, str], ...] = (
    ("constable", "Constable"),
    ("sergeant", "Sergeant"),
    ("inspector", "Inspector and chief inspector"),
    ("superintendent", "Superintendent and above"),
    ("staff", "Police staff"),
)

CHARACTERISTICS: tuple[Characteristic, ...] = (
    Characteristic(
        "age_band",
        "Age",
        (
            ("under_25", "Under 25"),
            ("25_34", "25 to 34"),
            ("35_44", "35 to 44"),
            ("45_54", "45 to 54"),
            ("55_plus", "55 and over"),
            NOT_STATED,
        ),
    ),
    Characteristic(
        "disability", "Disability", (("yes", "Disabled"), ("no", "Not disabled"), NOT_STATED)
    ),
    Characteristic(
        "gender_reassignment",
        "Gender reassignment",
        (("yes", "Gender differs from sex at birth"), ("no", "Same as sex at birth"), NOT_STATED),
    ),
    Characteristic(
        "marriage_civil_partnership",
        "Marriage and civil partnership",
        (("married", "Married or in a civil partnership"), ("not_married", "Neither"), NOT_STATED),
    ),
    Characteristic(
        "pregnancy_maternity",
        "Pregnancy and maternity",
        (("yes", "Pregnant or on maternity leave"), ("no", "No"), NOT_STATED),
    ),
    Characteristic(
        "race",
        "Race (ethnic group)",
        (
            ("asian", "Asian"),
            ("black", "Black"),
            ("mixed", "Mixed"),
            ("white", "White"),
            ("other", "Other ethnic group"),
            NOT_STATED,
        ),
    ),
    Characteristic(
        "religion_belief",
        "Religion or belief",
        (
            ("none", "No religion"),
            ("christian", "Christian"),
            ("muslim", "Muslim"),
            ("hindu", "Hindu"),
            ("sikh", "Sikh"),
            ("jewish", "Jewish"),
            ("buddhist", "Buddhist"),
            ("other", "Other"),
            NOT_STATED,
        ),
    ),
    Characteristic("sex", "Sex", (("female", "Female"), ("male", "Male"), NOT_STATED)),
    Characteristic(
        "sexual_orientation",
        "Sexual orientation",
        (
            ("heterosexual", "Heterosexual"),
            ("gay_lesbian", "Gay or lesbian"),
            ("bisexual", "Bisexual"),
            ("other", "Other"),
            NOT_STATED,
        ),
    ),
)

BY_CODE: Mapping[str, Characteristic] = {c.code: c for c in CHARACTERISTICS}
GRADE_CODES = tuple(code for code, _ in GRADES)
