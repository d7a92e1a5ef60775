"""Working-time and welfare thresholds as versioned configuration, each with its citation.

Sources: ../shared/reference/uk-domain-rules.md §6. The Working Time Regulations 1998
(S.I. 1998/1833) thresholds are flagged, never enforced: reg 18(2)(a) disapplies them where
police services "inevitably conflict" (read as emergencies only) and reg 21 special cases need
compensatory rest (reg 24), so the service records the breach for a supervisor to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import MappingProxyType


@dataclass(frozen=True)
class WelfareRule:
    code: str
    title: str
    threshold: float
    unit: str
    citation: str
    window: float = 0
    window_unit: str = ""
    confirmed: bool = True
    notes: str = ""


@dataclass(frozen=True)
class WelfareRuleSet:
    version: str
    valid_from: date
    rules: MappingProxyType[str, WelfareRule]

    def __getitem__(self, code: str) -> WelfareRule:
        return self.rules[code]


WTR_1998 = "Working Time Regulations 1998 (S.I. 1998/1833)"

RULESETS: tuple[WelfareRuleSet, ...] = (
    WelfareRuleSet(
        # v2 corrects v1 (same regulations, in force throughout): leave excluded from the
        # reference period and shorter service (reg 4(4), (6)), rest in each 24 hours (reg 10),
        # the fortnightly weekly-rest option (reg 11(2)) and night work (reg 6).
        version="wtr-1998.v2",
        valid_from=date(1998, 10, 1),
        rules=MappingProxyType(
            {
                "weekly_average": WelfareRule(
                    "weekly_average",
                    "Average working week over 48 hours",
                    threshold=48,
                    unit="hours per week",
                    window=17,
                    window_unit="weeks",
                    citation=(
                        f"{WTR_1998} reg 4(1)-(7): 48 hours averaged over 17 weeks, or the "
                        "service so far if shorter; leave days excluded and made up after"
                    ),
                    notes=(
                        "Average = (A + B) / C (reg 4(6)). A rolling check takes the latest "
                        "reference period whose B days are complete [interpretation, "
                        "unconfirmed]. 26 weeks for reg 21 special cases is not applied. A "
                        "written opt-out (reg 5) resolves the flag."
                    ),
                ),
                "daily_rest": WelfareRule(
                    "daily_rest",
                    "Under 11 hours' rest in a 24-hour period",
                    threshold=11,
                    unit="hours",
                    citation=f"{WTR_1998} reg 10(1): 11 consecutive hours' rest in each 24",
                    notes=(
                        "Each 24 hours counted from the start of a period of work "
                        "[interpretation, unconfirmed: the regulations fix no start]."
                    ),
                ),
                "weekly_rest": WelfareRule(
                    "weekly_rest",
                    "No 24-hour rest in 7 days",
                    threshold=24,
                    unit="hours",
                    window=7,
                    window_unit="days",
                    citation=(
                        f"{WTR_1998} reg 11(1)-(2): 24 hours' uninterrupted rest in each 7 days"
                    ),
                    notes=(
                        "Or, where the employer so determines, two 24-hour rests or one 48-hour "
                        "rest in each 14 days (reg 11(2)). Windows are rolling, not the Monday "
                        "weeks of reg 11(6); reg 11(7) (daily rest not counted in weekly rest) "
                        "is not applied [unconfirmed, stricter choices left for review]."
                    ),
                ),
                "night_work": WelfareRule(
                    "night_work",
                    "Night worker over 8 hours in 24 on average",
                    threshold=8,
                    unit="hours in each 24",
                    window=3,
                    window_unit="hours of night time (11 pm to 6 am) on most days worked",
                    citation=(
                        f"{WTR_1998} reg 6(1)-(5): a night worker's normal hours average at "
                        "most 8 in each 24 over the reference period; night time reg 2"
                    ),
                    notes=(
                        "Night worker: at least 3 hours of night time on most days worked "
                        "(reg 2). Average = A / (B - C), C taken as one rest day in seven; all "
                        "recorded hours treated as normal hours [unconfirmed]. reg 6(7) "
                        "(special hazards) is not applied."
                    ),
                    confirmed=False,
                ),
                "rest_break": WelfareRule(
                    "rest_break",
                    "Over 6 hours without a break",
                    threshold=6,
                    unit="hours",
                    window=20,
                    window_unit="minutes of break",
                    citation=f"{WTR_1998} reg 12(1): a 20-minute break when working over 6 hours",
                ),
                "deployment_run": WelfareRule(
                    "deployment_run",
                    "Back-to-back deployments over 12 days",
                    threshold=12,
                    unit="days",
                    window=24,
                    window_unit="hours between deployments to break a run",
                    citation="Unit welfare policy (technical officer role profile: "
                    "'sporadic back to back deployments greater than 12 days'); not a WTR limit",
                    confirmed=False,
                ),
                "psych_assessment": WelfareRule(
                    "psych_assessment",
                    "Psychological assessment due",
                    threshold=12,
                    unit="months between assessments",
                    window=30,
                    window_unit="days' notice",
                    citation="Unit welfare policy (assumed interval; no statutory source found)",
                    confirmed=False,
                ),
            }
        ),
    ),
)


def ruleset_for(day: date) -> WelfareRuleSet:
    """The version in force on `day` (the latest that started on or before it)."""
    candidates = [ruleset for ruleset in RULESETS if ruleset.valid_from <= day]
    if not candidates:
        raise LookupError(f"no welfare rules in force on {day}")
    return max(candidates, key=lambda ruleset: ruleset.valid_from)
