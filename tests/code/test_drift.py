"""Drift statistics: effect sizes that mean the same on a day of 100 rows and of a million, and a
two-sample test that keeps the noise of small days, and of the reference sample, out of the flags.

The no-drift simulations draw the reference itself as a sample of the same population (the
default reference is 14 label days of 3,000 customers: about 1,400 rows), with the production
bins (`numeric_edges`, `bin_counts`), then a day from that population: everything a day of no
drift can differ by. Every simulation is seeded."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.stats import norm, poisson  # type: ignore[import-untyped]

from advanced_mlops.monitoring.drift import (
    FeatureDrift,
    categorical_drift,
    cramers_v,
    numeric_drift,
    psi,
    text_drift,
    two_sample_test,
)
from advanced_mlops.training.reference import bin_counts, numeric_edges

SHARES = np.array([0.05, 0.10, 0.15, 0.20, 0.20, 0.15, 0.10, 0.05])
REFERENCE_ROWS = 1_400
ALPHA = 0.01
THRESHOLD = 0.2
SMALL_DAYS = (50, 75, 100)  # MLOPS_MONITOR_MIN_ROWS is 50
HUGE_DAY = 1_000_000
MAX_FALSE_FLAGS = 0.02  # per feature per day; the rule then needs 2 of 8 features on 2 days

# Populations with the bin probabilities of their values below each reference edge.
Population = tuple[Callable[[np.random.Generator, int], np.ndarray], Callable[[np.ndarray], object]]
NORMAL: Population = (lambda rng, m: rng.normal(size=m), norm.cdf)
COUNTS: Population = (  # an integer feature (inquiries, loans): ties, fewer bins than deciles
    lambda rng, m: rng.poisson(3, size=m).astype(float),
    lambda edges: poisson.cdf(np.ceil(edges) - 1, 3),
)
CREDIT_MIX = {"Good": 0.3, "Standard": 0.5, "Bad": 0.2}
OCCUPATIONS = {f"job{i}": 1 / 15 for i in range(15)}
RARE_LEVEL = {"Yes": 0.6, "No": 0.3, "NM": 0.099, "N/A": 0.001}  # often unseen in the reference


def numeric_day(
    rng: np.random.Generator, population: Population, n: int, shift: float = 0.0
) -> FeatureDrift:
    """A day of `n` values against a reference of REFERENCE_ROWS values of the population; the
    day's population is moved by `shift`."""
    draw, cdf = population
    sample = draw(rng, REFERENCE_ROWS)
    edges = numeric_edges(sample)
    reference = bin_counts(sample, edges)
    below = np.asarray(cdf(np.asarray(edges) - shift), dtype=float)
    probabilities = np.diff(np.concatenate([[0.0], below, [1.0]]))
    counts = rng.multinomial(n, probabilities)
    shares = (reference / reference.sum()).tolist()
    return numeric_drift("x", shares, counts.tolist(), int(reference.sum()), THRESHOLD, alpha=ALPHA)


def categorical_day(
    rng: np.random.Generator,
    population: dict[str, float],
    n: int,
    day: dict[str, float] | None = None,
) -> FeatureDrift:
    keys = list(population)
    reference = rng.multinomial(REFERENCE_ROWS, list(population.values())) / REFERENCE_ROWS
    counts = rng.multinomial(n, [(day or population)[k] for k in keys])
    return categorical_drift(
        "c",
        dict(zip(keys, reference.tolist(), strict=True)),
        dict(zip(keys, counts.tolist(), strict=True)),
        REFERENCE_ROWS,
        THRESHOLD,
        alpha=ALPHA,
    )


def flag_rate(days: list[FeatureDrift]) -> float:
    return sum(d.drifted for d in days) / len(days)


@pytest.mark.parametrize("population", [NORMAL, COUNTS], ids=["continuous", "integer"])
def test_no_drift_rarely_flags_a_numeric_feature_on_small_and_huge_days(
    population: Population,
) -> None:
    rng = np.random.default_rng(11)
    small = [numeric_day(rng, population, n) for n in SMALL_DAYS for _ in range(700)]
    huge = [numeric_day(rng, population, HUGE_DAY) for _ in range(300)]
    assert flag_rate(small) <= MAX_FALSE_FLAGS
    assert flag_rate(huge) <= MAX_FALSE_FLAGS
    # The test itself is calibrated on a huge day: the reference's own noise (n/m) is counted,
    # so the p-value is not "always significant" as a goodness of fit to its shares would be.
    assert np.mean([d.p_value < ALPHA for d in huge]) <= MAX_FALSE_FLAGS


@pytest.mark.parametrize(
    "population", [CREDIT_MIX, OCCUPATIONS, RARE_LEVEL], ids=["3 levels", "15 levels", "rare level"]
)
def test_no_drift_rarely_flags_a_category_on_small_and_huge_days(
    population: dict[str, float],
) -> None:
    rng = np.random.default_rng(12)
    small = [categorical_day(rng, population, n) for n in SMALL_DAYS for _ in range(700)]
    huge = [categorical_day(rng, population, HUGE_DAY) for _ in range(300)]
    assert flag_rate(small) <= MAX_FALSE_FLAGS
    assert flag_rate(huge) <= MAX_FALSE_FLAGS
    assert np.mean([d.p_value < ALPHA for d in huge]) <= MAX_FALSE_FLAGS


def test_the_effect_size_alone_was_noisy_at_the_minimum_sample() -> None:
    """Why the test is needed: 3 categories at 50 rows pass V >= 0.2 on ~5% of no-drift days."""
    rng = np.random.default_rng(13)
    days = [categorical_day(rng, CREDIT_MIX, 50) for _ in range(2000)]
    by_size_alone = np.mean([d.value >= d.threshold for d in days])
    assert by_size_alone > 0.03
    assert flag_rate(days) < by_size_alone / 2


@pytest.mark.parametrize("n", [*SMALL_DAYS, HUGE_DAY])
def test_a_real_shift_is_flagged_on_small_and_huge_days(n: int) -> None:
    rng = np.random.default_rng(14)
    moved = [numeric_day(rng, NORMAL, n, shift=1.0) for _ in range(200)]
    assert flag_rate(moved) >= 0.95
    mixed = {"Good": 0.6, "Standard": 0.25, "Bad": 0.15}  # V about 0.47
    changed = [categorical_day(rng, CREDIT_MIX, n, mixed) for _ in range(200)]
    assert flag_rate(changed) >= 0.9


def test_a_real_shift_reads_the_same_on_small_and_huge_days() -> None:
    rng = np.random.default_rng(15)
    shifted = np.roll(SHARES, 2)
    small = np.median([psi(SHARES, rng.multinomial(200, shifted), 20_000) for _ in range(200)])
    huge = psi(SHARES, rng.multinomial(1_000_000, shifted), 20_000)
    assert huge > 0.3
    assert small == pytest.approx(huge, rel=0.25)


def test_a_trivial_shift_on_a_huge_day_is_significant_but_not_drift() -> None:
    """The p-value only says there were many rows; Cramér's V says the effect is negligible."""
    rng = np.random.default_rng(16)
    nudged = SHARES + np.array([0.005, -0.005, 0, 0, 0, 0, 0.005, -0.005])
    counts = rng.multinomial(1_000_000, nudged).tolist()
    _, p_value = two_sample_test(SHARES.tolist(), counts, 200_000)
    assert p_value < 1e-6
    assert cramers_v(SHARES.tolist(), counts, 200_000) < 0.05
    expected = {str(i): float(s) for i, s in enumerate(SHARES)}
    found = categorical_drift(
        "c", expected, {str(i): c for i, c in enumerate(counts)}, 200_000, THRESHOLD, alpha=ALPHA
    )
    assert not found.drifted


def test_an_unseen_category_counts_as_drift_only_beyond_chance() -> None:
    expected = {"Good": 0.3, "Standard": 0.5, "Bad": 0.2}

    def drift(counts: dict[str, int]) -> FeatureDrift:
        return categorical_drift("credit_mix", expected, counts, 1400, THRESHOLD, alpha=ALPHA)

    same = drift({"Good": 30, "Standard": 50, "Bad": 20})
    new = drift({"Good": 30, "Standard": 20, "Odd": 50})
    once = drift({"Good": 30, "Standard": 49, "Bad": 20, "Odd": 1})
    assert not same.drifted
    assert new.drifted
    assert new.p_value < 1e-6
    # One row of a category the reference never saw is a large effect on paper, but chance.
    assert once.value >= THRESHOLD
    assert once.p_value > ALPHA
    assert not once.drifted


def test_new_tokens_in_a_text_feature_drift() -> None:
    expected = {"auto loan": 0.5, "mortgage loan": 0.5}
    found = text_drift(
        "type_of_loan", expected, {"payday loan": 80, "auto loan": 20}, 5000, THRESHOLD, alpha=ALPHA
    )
    assert found.kind == "text"
    assert found.drifted


def test_the_reference_size_counts_in_the_test() -> None:
    """The same day against shares measured on 100 rows or on a million: only the second can
    tell a shift of this size from the reference's own noise."""
    counts = [40, 60]
    _, few = two_sample_test([0.5, 0.5], counts, 100)
    _, many = two_sample_test([0.5, 0.5], counts, 1_000_000)
    assert few > 0.1
    assert many < 0.05


def test_an_empty_day_has_no_statistic_and_no_flag() -> None:
    assert math.isnan(psi(SHARES, [0] * len(SHARES), 100))
    assert math.isnan(cramers_v([0.5, 0.5], [0, 0], 100))
    assert all(math.isnan(x) for x in two_sample_test([0.5, 0.5], [0, 0], 100))
    assert not numeric_drift("x", SHARES, [0] * len(SHARES), 100, THRESHOLD, alpha=ALPHA).drifted
