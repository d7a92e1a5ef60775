"""Risk rules as versioned configuration, each with its source.

There is no mandated national banding of the 5x5 likelihood x impact matrix (uk-domain-rules.md
§2): bands, their colours and the review interval each band sets are configuration. Each scheme
is versioned; an assessment records the scheme code and version it was scored with, so a later
change of configuration never rewrites the band of an assessment already made.

Select the scheme with the setting ``HAVEN_RISK_BAND_SCHEME`` (default ``haven-5x5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

SCALE = range(1, 6)  # likelihood and impact are each scored 1-5

# Colours are chosen from the palette in static/risk/risk.css (no inline style is allowed).
PALETTE = ("green", "yellow", "amber", "red", "purple")

LOCAL_POLICY = "Haven risk scoring standard v1 (local policy, configurable; no national banding)"


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    lowest: int  # inclusive score range
    highest: int
    colour: str
    review_days: int

    def __post_init__(self) -> None:
        if self.colour not in PALETTE:
            raise ValueError(f"band {self.code}: colour must be one of {PALETTE}")
        if self.review_days <= 0 or self.lowest > self.highest:
            raise ValueError(f"band {self.code}: bad range or review interval")


@dataclass(frozen=True)
class BandScheme:
    code: str
    version: int
    title: str
    source: str
    valid_from: date
    bands: tuple[Band, ...]
    threat_to_life_review_days: int  # a threat-to-life case is never reviewed later than this

    def __post_init__(self) -> None:
        covered = [s for band in self.bands for s in range(band.lowest, band.highest + 1)]
        if sorted(covered) != list(range(1, 26)):
            raise ValueError(f"scheme {self.code} v{self.version}: bands must cover 1-25 once")

    def band_for(self, score: int) -> Band:
        for band in self.bands:
            if band.lowest <= score <= band.highest:
                return band
        raise ValueError(f"score {score} is outside 1-25")

    def band(self, code: str) -> Band | None:
        return next((band for band in self.bands if band.code == code), None)

    def review_days(self, band_code: str, threat_to_life: bool) -> int:
        band = self.band(band_code)
        days = band.review_days if band else self.threat_to_life_review_days
        return min(days, self.threat_to_life_review_days) if threat_to_life else days


SCHEMES: dict[tuple[str, int], BandScheme] = {
    (s.code, s.version): s
    for s in (
        BandScheme(
            code="haven-5x5",
            version=1,
            title="Four bands (1-6 low, 8-12 medium, 14-20 high, over 20 very high)",
            source="University of Cambridge 5x5 risk matrix banding, adopted as " + LOCAL_POLICY,
            valid_from=date(2026, 1, 1),
            bands=(
                Band("low", "Low", 1, 7, "green", 180),
                Band("medium", "Medium", 8, 13, "yellow", 90),
                Band("high", "High", 14, 20, "amber", 28),
                Band("very_high", "Very high", 21, 25, "red", 7),
            ),
            threat_to_life_review_days=7,
        ),
        BandScheme(
            code="three-band",
            version=1,
            title="Three bands (1-4 low, 5-10 medium, 12 and over high)",
            source="Alternative 5x5 template banding (uk-domain-rules.md §2), " + LOCAL_POLICY,
            valid_from=date(2026, 1, 1),
            bands=(
                Band("low", "Low", 1, 4, "green", 180),
                Band("medium", "Medium", 5, 11, "amber", 60),
                Band("high", "High", 12, 25, "red", 14),
            ),
            threat_to_life_review_days=7,
        ),
    )
}
DEFAULT_SCHEME = "haven-5x5"


def current_scheme(on: date | None = None) -> BandScheme:
    """The newest version of the configured scheme in force on the given day."""
    code = getattr(settings, "HAVEN_RISK_BAND_SCHEME", DEFAULT_SCHEME)
    versions = [s for (c, _), s in SCHEMES.items() if c == code]
    if not versions:
        raise ValueError(f"unknown risk band scheme {code!r}")
    if on is not None:
        versions = [s for s in versions if s.valid_from <= on] or versions
    return max(versions, key=lambda s: s.version)


def scheme(code: str, version: int) -> BandScheme:
    return SCHEMES[(code, version)]


# National Decision Model stages (College of Policing APP, uk-domain-rules.md §2).
NDM_STAGES: tuple[tuple[str, str], ...] = (
    ("information", "1. Gather information and intelligence"),
    ("assessment", "2. Assess threat and risk and develop a working strategy"),
    ("powers", "3. Consider powers and policy"),
    ("options", "4. Identify options and contingencies"),
    ("action", "5. Take action and review what happened"),
    ("ethics", "Code of Ethics (centre of the model)"),
)

# The default catalogue of protective measures (seeded by migration; managers add more).
MEASURE_CATALOGUE: tuple[tuple[str, str, str], ...] = (
    ("relocation", "Relocation", "Move the protected person and family to a new area"),
    ("identity-change", "Identity change", "New identity documents and records"),
    ("alarm", "Alarm", "Intruder or panic alarm at the residence"),
    ("covert-camera", "Covert camera", "Concealed camera covering an approach"),
    ("tracker", "Tracker", "Tracker on a vehicle or property"),
    ("safe-house", "Safe house", "Temporary accommodation at a safe house"),
    ("financial-support", "Financial support", "Subsistence or relocation costs"),
    ("school-move", "School move", "Move children to a new school"),
    ("target-hardening", "Target hardening", "Locks, lighting and doors at the residence"),
    ("marker", "Police marker", "Urgent-response marker on the address"),
)
