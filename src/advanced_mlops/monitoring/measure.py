"""From a day's counts to the rule's evidence: drift per feature, quality, problems. Pure.

Which statistic a feature gets follows `schema`: PSI on the reference's bins for the numeric
features; Cramér's V for the four categories, `payment_behaviour` included (one value of 6 per
row, so its category shares are its token frequencies); PSI on token shares for the one text
feature, `type_of_loan` (several loan types per row). Each compares with the reference's own
sample size (`ReferenceProfile.sample_size`): rows for bins and categories, tokens for text.
"""

from __future__ import annotations

from datetime import date

from advanced_mlops import schema
from advanced_mlops.monitoring import drift
from advanced_mlops.monitoring.aggregate import DayCounts
from advanced_mlops.monitoring.decision import Evidence
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.monitoring.quality import (
    FeatureQuality,
    feature_quality,
    quality_problems,
    unknown_keys,
)
from advanced_mlops.settings import MonitoringSettings
from advanced_mlops.training.reference import ReferenceProfile


def feature_drift(
    counts: DayCounts, reference: ReferenceProfile, rules: MonitoringSettings
) -> list[drift.FeatureDrift]:
    """Every feature present on the day against the reference, with its significance."""
    size, alpha = reference.sample_size, rules.drift_alpha
    result = [
        drift.numeric_drift(
            name,
            reference.numeric[name].shares,
            counts.bins[name].tolist(),
            size(name),
            rules.psi_threshold,
            alpha=alpha,
        )
        for name in schema.NUMERIC_FEATURES
    ]
    result += [
        drift.categorical_drift(
            name,
            reference.categorical[name].shares,
            counts.categories[name],
            size(name),
            rules.cramers_v_threshold,
            alpha=alpha,
        )
        for name in schema.CATEGORICAL_FEATURES
    ]
    result += [
        drift.text_drift(
            name,
            reference.text[name].shares,
            counts.text_tokens[name],
            size(name),
            rules.psi_threshold,
            alpha=alpha,
        )
        for name in schema.TEXT_FEATURES
    ]
    return [d for d in result if d.rows > 0]


def prediction_drift(
    counts: DayCounts, reference: ReferenceProfile, rules: MonitoringSettings
) -> drift.FeatureDrift | None:
    """The champion's predicted-class shares against its own predictions on the reference."""
    observed = [counts.predicted.get(c, 0) for c in schema.CLASSES]
    if not sum(observed):
        return None
    expected = [reference.predicted.get(c, 0.0) for c in schema.CLASSES]
    return drift.numeric_drift(
        "predicted_class",
        expected,
        observed,
        reference.rows,
        rules.psi_threshold,
        alpha=rules.drift_alpha,
        kind="prediction",
    )


def evidence(
    day: date,
    version: str | None,
    counts: DayCounts,
    reference: ReferenceProfile,
    performance: LivePerformance | None,
    *,
    rules: MonitoringSettings,
    problems: list[str] | None = None,
    notes: list[str] | None = None,
) -> tuple[Evidence, list[FeatureQuality]]:
    """The rule's evidence for `day` and the quality figures it was based on.

    `problems` make the day unjudgeable (quality problems are added to them); `notes` are told
    but do not stop the judgement (keys the schema does not know are added to them).
    """
    found = list(problems or [])
    quality = feature_quality(counts, reference) if counts.rows else []
    if counts.rows == 0 and not found:
        found.append(f"no predictions were logged on {day}")
    found += quality_problems(quality, rules)
    return (
        Evidence(
            day=day,
            model_version=version,
            rows=counts.rows,
            problems=found,
            drift=feature_drift(counts, reference, rules) if counts.rows else [],
            important=reference.important_features(rules.important_features),
            performance=performance,
            notes=[*(notes or []), *unknown_keys(counts)],
        ),
        quality,
    )
