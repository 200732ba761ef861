"""From a day's counts to the rule's evidence: drift per feature, quality, problems. Pure."""

from __future__ import annotations

from datetime import date

from advanced_mlops import schema
from advanced_mlops.monitoring import drift
from advanced_mlops.monitoring.aggregate import DayCounts
from advanced_mlops.monitoring.decision import Evidence
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.monitoring.quality import (
    FeatureQuality,
    QualityLimits,
    feature_quality,
    quality_problems,
)
from advanced_mlops.monitoring.reference import ReferenceProfile


def feature_drift(
    counts: DayCounts, reference: ReferenceProfile, psi_threshold: float, v_threshold: float
) -> list[drift.FeatureDrift]:
    """Every feature against the reference: PSI on numeric bins and on text tokens, Cramér's V
    (with the chi-square p-value) on categories."""
    result = [
        drift.numeric_drift(
            name,
            reference.numeric[name].shares,
            counts.bins[name].tolist(),
            reference.rows,
            psi_threshold,
        )
        for name in schema.NUMERIC_FEATURES
    ]
    result += [
        drift.categorical_drift(
            name, reference.categorical[name].shares, counts.categories[name], v_threshold
        )
        for name in schema.CATEGORICAL_FEATURES
    ]
    result += [
        drift.text_drift(
            name,
            reference.text[name].shares,
            counts.text_tokens[name],
            reference.rows,
            psi_threshold,
        )
        for name in schema.TEXT_FEATURES
    ]
    return [d for d in result if d.rows > 0]


def prediction_drift(
    counts: DayCounts, reference: ReferenceProfile, psi_threshold: float
) -> drift.FeatureDrift | None:
    """The champion's predicted-class shares against its own predictions on the reference."""
    observed = [counts.predicted.get(c, 0) for c in schema.CLASSES]
    if not sum(observed):
        return None
    expected = [reference.predicted.get(c, 0.0) for c in schema.CLASSES]
    return drift.numeric_drift(
        "predicted_class", expected, observed, reference.rows, psi_threshold, kind="prediction"
    )


def evidence(
    day: date,
    version: str | None,
    counts: DayCounts,
    reference: ReferenceProfile,
    performance: LivePerformance | None,
    *,
    psi_threshold: float,
    v_threshold: float,
    limits: QualityLimits,
    important_features: int,
    problems: list[str] | None = None,
) -> tuple[Evidence, list[FeatureQuality]]:
    """The rule's evidence for `day` and the quality figures it was based on."""
    found = list(problems or [])
    quality = feature_quality(counts, reference) if counts.rows else []
    if counts.rows == 0 and not found:
        found.append(f"no predictions were logged on {day}")
    found += quality_problems(quality, limits)
    return (
        Evidence(
            day=day,
            model_version=version,
            rows=counts.rows,
            problems=found,
            drift=feature_drift(counts, reference, psi_threshold, v_threshold)
            if counts.rows
            else [],
            important=reference.important_features(important_features),
            performance=performance,
        ),
        quality,
    )
