"""Drift statistics: pure functions of reference shares and a day's counts.

A feature drifts when two things hold:
- the effect size reaches its threshold: PSI on bins or tokens, Cramér's V on categories, both
  with their expected value under no drift subtracted, so a threshold means the same on a day of
  100 predictions and on a day of a million (a raw PSI or chi-square grows with pure noise on
  small days, about (k-1)/n);
- the difference is significant: a two-sample chi-square test of the day's counts against the
  reference's, p below `alpha`. The reference is a sample too (about 1,400 rows for 14 days of
  3,000 customers), so the test counts its noise (the n/m term) as well as the day's. The effect
  size alone is noisy on small days (for 3 categories at 50 rows, V >= 0.2 happens on about 5%
  of days with no drift at all); the test alone calls any trivial shift significant on huge days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import chi2 as chi2_distribution  # type: ignore[import-untyped]

FLOOR = 1e-4  # share given to an empty reference bin, so that the log and ratios stay finite
MIN_EXPECTED = 1.0  # a test cell expected to hold fewer values is pooled (Cochran's rule)

Kind = Literal["numeric", "categorical", "text", "prediction"]


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: Kind
    statistic: Literal["psi", "cramers_v"]
    value: float  # the effect size, bias-corrected
    threshold: float
    rows: int  # values counted on the day (tokens for a text feature)
    p_value: float  # two-sample chi-square test against the reference sample
    alpha: float

    @property
    def drifted(self) -> bool:
        """Large enough to matter and more than the noise of either sample (False on NaN)."""
        return self.value >= self.threshold and self.p_value < self.alpha

    @property
    def value_to_threshold(self) -> float:
        """How far the effect size is toward its threshold (1 = at it): comparable across the
        two statistics, so features are ranked by it."""
        return self.value / self.threshold


def psi(expected: Sequence[float], counts: Sequence[int], reference_size: int) -> float:
    """Population stability index of `counts` against the `expected` shares (measured on
    `reference_size` values), minus its expected value under no drift, (k-1)(1/n + 1/m); never
    below 0. NaN when there are no counts.

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
    return float(max(0.0, raw - (bins - 1) * (1 / n + 1 / max(reference_size, 1))))


def cramers_v(expected: Sequence[float], counts: Sequence[int], reference_size: int) -> float:
    """Cramér's V of `counts` against the `expected` shares, bias-corrected like `psi`:
    sqrt((phi² - (k-1)(1/n + 1/m)) / (k-1)) with phi² = sum (p - q)² / q. About 0.1 is a small
    effect, 0.3 a medium one, whatever n is. A category the reference never saw gets the floor
    share, so that it reads as a large effect (the test then says whether it is more than chance).
    """
    observed = np.asarray(counts, dtype=float)
    n = observed.sum()
    if n == 0:
        return math.nan
    shares = np.asarray(expected, dtype=float)
    used = (shares > 0) | (observed > 0)
    shares = np.clip(shares[used], FLOOR, None)
    shares, observed = shares / shares.sum(), observed[used]
    k = len(observed)
    if k < 2:
        return 0.0
    phi2 = float(np.sum((observed / n - shares) ** 2 / shares))
    return math.sqrt(max(0.0, phi2 - (k - 1) * (1 / n + 1 / max(reference_size, 1))) / (k - 1))


def two_sample_test(
    expected: Sequence[float], counts: Sequence[int], reference_size: int
) -> tuple[float, float]:
    """(chi-square, p-value) of the day's `counts` (n values) and the reference's (its shares
    times m = `reference_size`) coming from one distribution: the 2 x k homogeneity test,
    nm/(n+m) sum (p - q)² / pooled. For n >> m it is the goodness of fit divided by 1 + n/m: the
    reference's own noise, not the day's, limits what a huge day can show. NaN when n is 0.

    Cells expected to hold under one value in the smaller sample (a category the reference never
    saw, seen once on the day) are pooled first, with the smallest other cell if needed: the
    chi-square approximation does not hold for them and would call a single row significant.
    """
    observed = np.asarray(counts, dtype=float)
    n, m = observed.sum(), float(max(reference_size, 1))
    if n == 0:
        return math.nan, math.nan
    shares = np.asarray(expected, dtype=float)
    total = shares.sum()
    shares = shares / total if total > 0 else shares
    used = (observed > 0) | (shares > 0)
    observed, shares = _pool_sparse(observed[used], shares[used], min(n, m) / (n + m), m)
    if len(observed) < 2:
        return 0.0, 1.0
    pooled = (observed + shares * m) / (n + m)
    statistic = float(n * m / (n + m) * np.sum((observed / n - shares) ** 2 / pooled))
    return statistic, float(chi2_distribution.sf(statistic, len(observed) - 1))


def _pool_sparse(
    observed: np.ndarray, shares: np.ndarray, scale: float, m: float
) -> tuple[np.ndarray, np.ndarray]:
    """The cells whose expected count in the smaller sample, scale * (x + q m), is below
    MIN_EXPECTED merged into one (itself merged into the smallest other cell if still sparse)."""
    expected = scale * (observed + shares * m)
    sparse = expected < MIN_EXPECTED
    if not sparse.any():
        return observed, shares
    dense = np.flatnonzero(~sparse)
    merged_x, merged_q = observed[sparse].sum(), shares[sparse].sum()
    if expected[sparse].sum() < MIN_EXPECTED and dense.size:
        smallest = dense[np.argmin(expected[dense])]
        merged_x, merged_q = merged_x + observed[smallest], merged_q + shares[smallest]
        dense = dense[dense != smallest]
    return np.append(observed[dense], merged_x), np.append(shares[dense], merged_q)


def numeric_drift(
    feature: str,
    expected: Sequence[float],
    counts: Sequence[int],
    reference_size: int,
    threshold: float,
    *,
    alpha: float,
    kind: Kind = "numeric",
) -> FeatureDrift:
    """PSI over fixed bins (or tokens, or predicted classes) and its significance."""
    _, p_value = two_sample_test(expected, counts, reference_size)
    value = psi(expected, counts, reference_size)
    return FeatureDrift(feature, kind, "psi", value, threshold, int(sum(counts)), p_value, alpha)


def categorical_drift(
    feature: str,
    expected: Mapping[str, float],
    counts: Mapping[str, int],
    reference_size: int,
    threshold: float,
    *,
    alpha: float,
) -> FeatureDrift:
    """Cramér's V over the categories (the reference's and any new one) and its significance."""
    keys = [*expected, *(k for k in counts if k not in expected)]
    shares = [expected.get(k, 0.0) for k in keys]
    observed = [counts.get(k, 0) for k in keys]
    _, p_value = two_sample_test(shares, observed, reference_size)
    value = cramers_v(shares, observed, reference_size)
    rows = int(sum(observed))
    return FeatureDrift(feature, "categorical", "cramers_v", value, threshold, rows, p_value, alpha)


def text_drift(
    feature: str,
    expected: Mapping[str, float],
    counts: Mapping[str, int],
    reference_tokens: int,
    threshold: float,
    *,
    alpha: float,
) -> FeatureDrift:
    """PSI over the token frequencies of a text feature (each loan type's share of all tokens);
    n and m are token counts, not rows (a row holds one to nine loan types)."""
    keys = sorted(set(expected) | set(counts))
    return numeric_drift(
        feature,
        [expected.get(k, 0.0) for k in keys],
        [counts.get(k, 0) for k in keys],
        reference_tokens,
        threshold,
        alpha=alpha,
        kind="text",
    )
