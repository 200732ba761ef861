"""Drift statistics: pure functions of reference shares and a day's counts.

Both statistics are effect sizes corrected for sample size, so a threshold means the same on a
day of 100 predictions and on a day of a million: a raw PSI or chi-square grows with pure noise
on small days (about (k-1)/n) and turns any trivial shift "significant" on huge ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import chi2 as chi2_distribution  # type: ignore[import-untyped]

FLOOR = 1e-4  # share given to an empty bin, so that the log stays finite

Kind = Literal["numeric", "categorical", "text", "prediction"]


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: Kind
    statistic: Literal["psi", "cramers_v"]
    value: float
    threshold: float
    rows: int
    p_value: float | None = None

    @property
    def drifted(self) -> bool:
        return self.value >= self.threshold


def psi(expected: Sequence[float], counts: Sequence[int], reference_rows: int) -> float:
    """Population stability index of `counts` against the `expected` shares, minus its expected
    value under no drift, (k-1)(1/n + 1/m); never below 0. NaN when there are no counts.

    The day's shares get half a count per bin (Jeffreys smoothing): an empty bin on a small day is
    chance, not a log(0) explosion.
    """
    observed = np.asarray(counts, dtype=float)
    n = observed.sum()
    if n == 0:
        return math.nan
    reference = np.asarray(expected, dtype=float)
    used = (reference > 0) | (observed > 0)
    observed, reference = observed[used], np.clip(reference[used], FLOOR, None)
    bins = len(observed)
    actual = (observed + 0.5) / (n + 0.5 * bins)
    raw = float(np.sum((actual - reference) * np.log(actual / reference)))
    bias = (bins - 1) * (1 / n + 1 / max(reference_rows, 1))
    return float(max(0.0, raw - bias))


def chi_square(expected: Sequence[float], counts: Sequence[int]) -> tuple[float, float, float]:
    """Goodness of fit of `counts` to the `expected` shares: (chi-square, p-value, Cramér's V).

    V = sqrt((chi2 - (k-1)) / (n (k-1))), bias-corrected: about 0.1 is a small effect, 0.3 a
    medium one, whatever n is; the p-value alone only says how many rows there were.
    """
    observed = np.asarray(counts, dtype=float)
    shares = np.asarray(expected, dtype=float)
    n = observed.sum()
    if n == 0:
        return math.nan, math.nan, math.nan
    keep = shares > 0
    # A category the reference never saw: give it the floor, so that it counts as drift.
    shares = np.where(keep | (observed > 0), np.clip(shares, FLOOR, None), 0.0)
    used = shares > 0
    shares = shares[used] / shares[used].sum()
    observed = observed[used]
    k = len(observed)
    if k < 2:
        return 0.0, 1.0, 0.0
    statistic = float(np.sum((observed - n * shares) ** 2 / (n * shares)))
    p_value = float(chi2_distribution.sf(statistic, k - 1))
    v = math.sqrt(max(0.0, statistic - (k - 1)) / (n * (k - 1)))
    return statistic, p_value, v


def numeric_drift(
    feature: str,
    expected: Sequence[float],
    counts: Sequence[int],
    reference_rows: int,
    threshold: float,
    kind: Kind = "numeric",
) -> FeatureDrift:
    return FeatureDrift(
        feature, kind, "psi", psi(expected, counts, reference_rows), threshold, int(sum(counts))
    )


def categorical_drift(
    feature: str, expected: Mapping[str, float], counts: Mapping[str, int], threshold: float
) -> FeatureDrift:
    keys = list(expected)
    extra = [k for k in counts if k not in expected]
    _, p_value, v = chi_square(
        [expected[k] for k in keys] + [0.0] * len(extra),
        [counts.get(k, 0) for k in keys] + [counts[k] for k in extra],
    )
    return FeatureDrift(
        feature, "categorical", "cramers_v", v, threshold, int(sum(counts.values())), p_value
    )


def text_drift(
    feature: str,
    expected: Mapping[str, float],
    counts: Mapping[str, int],
    reference_tokens: int,
    threshold: float,
) -> FeatureDrift:
    """PSI over the token frequencies of a text feature (each loan type's share of all tokens)."""
    keys = sorted(set(expected) | set(counts))
    return numeric_drift(
        feature,
        [expected.get(k, 0.0) for k in keys],
        [counts.get(k, 0) for k in keys],
        reference_tokens,
        threshold,
        kind="text",
    )
