"""Drift statistics: effect sizes that mean the same on a day of 100 rows and of a million."""

from __future__ import annotations

import math

import numpy as np
import pytest

from advanced_mlops.monitoring.drift import categorical_drift, chi_square, psi, text_drift

SHARES = np.array([0.05, 0.10, 0.15, 0.20, 0.20, 0.15, 0.10, 0.05])
RNG = np.random.default_rng(7)


def raw_psi(shares: np.ndarray, counts: np.ndarray) -> float:
    actual = np.clip(counts / counts.sum(), 1e-4, None)
    return float(np.sum((actual - shares) * np.log(actual / shares)))


def test_no_drift_on_a_small_day_is_not_an_alarm() -> None:
    """Raw PSI of a 100-row sample of the reference itself is mostly noise; corrected, ~0."""
    samples = [RNG.multinomial(100, SHARES) for _ in range(300)]
    raw = np.mean([raw_psi(SHARES, s) for s in samples])
    corrected = [psi(SHARES, s, reference_rows=20_000) for s in samples]
    assert raw > 0.05  # what an uncorrected PSI reports for pure chance
    assert np.mean(corrected) < 0.02
    assert np.quantile(corrected, 0.99) < 0.2  # the default threshold: 1 false alarm in >100 days


def test_a_real_shift_reads_the_same_on_small_and_huge_days() -> None:
    shifted = np.roll(SHARES, 2)
    small = np.median([psi(SHARES, RNG.multinomial(200, shifted), 20_000) for _ in range(200)])
    huge = psi(SHARES, RNG.multinomial(1_000_000, shifted), 20_000)
    assert huge > 0.3
    assert small == pytest.approx(huge, rel=0.25)


def test_a_trivial_shift_on_a_huge_day_is_significant_but_small() -> None:
    """The p-value only says there were many rows; Cramér's V says the effect is negligible."""
    nudged = SHARES + np.array([0.005, -0.005, 0, 0, 0, 0, 0.005, -0.005])
    _, p_value, v = chi_square(SHARES.tolist(), RNG.multinomial(1_000_000, nudged).tolist())
    assert p_value < 1e-6
    assert v < 0.05


def test_an_unseen_category_counts_as_drift() -> None:
    expected = {"Good": 0.3, "Standard": 0.5, "Bad": 0.2}
    same = categorical_drift("credit_mix", expected, {"Good": 30, "Standard": 50, "Bad": 20}, 0.2)
    new = categorical_drift("credit_mix", expected, {"Good": 30, "Standard": 20, "Odd": 50}, 0.2)
    assert not same.drifted
    assert new.drifted
    assert new.p_value is not None
    assert new.p_value < 1e-6


def test_new_tokens_in_a_text_feature_drift() -> None:
    expected = {"auto loan": 0.5, "mortgage loan": 0.5}
    found = text_drift("type_of_loan", expected, {"payday loan": 80, "auto loan": 20}, 5000, 0.2)
    assert found.kind == "text"
    assert found.drifted


def test_an_empty_day_has_no_statistic() -> None:
    assert math.isnan(psi(SHARES, [0] * len(SHARES), 100))
    assert all(math.isnan(x) for x in chi_square([0.5, 0.5], [0, 0]))
