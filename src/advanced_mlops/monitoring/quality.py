"""Data quality of a day's log: missing values, values out of range, features absent from rows.

A broken upstream (a renamed field, a unit change) shows up here, not as drift: the decision
refuses to judge drift or performance on data that breaks its contract.
"""

from __future__ import annotations

from dataclasses import dataclass

from advanced_mlops import schema
from advanced_mlops.monitoring.aggregate import DayCounts
from advanced_mlops.settings import MonitoringSettings
from advanced_mlops.training.reference import ReferenceProfile

SHOWN_KEYS = 10  # unknown keys named in a note; a client sending junk must not flood it


@dataclass(frozen=True)
class FeatureQuality:
    feature: str
    missing_rate: float
    reference_missing_rate: float
    out_of_range_rate: float  # numbers outside schema.NUMERIC_RANGES, unknown categories
    absent_rows: int  # rows whose features do not have this key at all


def feature_quality(counts: DayCounts, reference: ReferenceProfile) -> list[FeatureQuality]:
    rows = max(counts.rows, 1)
    result = []
    for name in schema.FEATURES:
        profile = (
            reference.numeric.get(name) or reference.categorical.get(name) or reference.text[name]
        )
        present = max(rows - counts.absent.get(name, 0), 1)
        result.append(
            FeatureQuality(
                feature=name,
                missing_rate=counts.missing.get(name, 0) / present,
                reference_missing_rate=profile.missing,
                out_of_range_rate=counts.out_of_range.get(name, 0) / present,
                absent_rows=counts.absent.get(name, 0),
            )
        )
    return result


def quality_problems(quality: list[FeatureQuality], limits: MonitoringSettings) -> list[str]:
    """One line per broken feature; empty when the day's data can be judged."""
    problems = []
    for q in quality:
        if q.absent_rows:
            problems.append(f"feature {q.feature} is absent from {q.absent_rows} log row(s)")
        elif q.missing_rate > q.reference_missing_rate + limits.max_missing_increase:
            problems.append(
                f"feature {q.feature} is missing in {q.missing_rate:.0%} of rows "
                f"(reference {q.reference_missing_rate:.0%})"
            )
        elif q.out_of_range_rate > limits.max_out_of_range:
            problems.append(
                f"feature {q.feature} is out of range or unknown in {q.out_of_range_rate:.0%} "
                "of rows"
            )
    return problems


def unknown_keys(counts: DayCounts) -> list[str]:
    """A note naming the keys of logged rows that the schema does not know (a renamed field shows
    up as one of these and as an absent feature). Told, but not a reason to refuse the day."""
    if not counts.unknown_keys:
        return []
    found = sorted(counts.unknown_keys.items(), key=lambda item: (-item[1], item[0]))
    listed = ", ".join(f"{_short(k)} ({n})" for k, n in found[:SHOWN_KEYS])
    more = f" and {len(found) - SHOWN_KEYS} more" if len(found) > SHOWN_KEYS else ""
    return [f"log rows carry keys the schema does not know, ignored (rows): {listed}{more}"]


def _short(key: str, limit: int = 40) -> str:
    return repr(key if len(key) <= limit else key[: limit - 1] + "…")
