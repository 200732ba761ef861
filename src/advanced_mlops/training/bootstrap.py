"""Macro-F1 over bootstrap resamples, computed from weighted per-class counts: thousands of
resamples of a holdout cost a few matrix products instead of thousands of scikit-learn calls.
Used for a model's confidence interval (its model card) and for the gate's paired comparison."""

from __future__ import annotations

import numpy as np


def macro_f1_of_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """Macro-F1 from per-class counts (last axis: classes); a class with no true, no predicted
    row scores 0, as scikit-learn's `zero_division=0` does."""
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return np.asarray(f1.mean(axis=-1))


def resampled_macro_f1(
    labels: np.ndarray, predicted: np.ndarray, weights: np.ndarray, classes: int
) -> np.ndarray:
    """Macro-F1 of each bootstrap draw: `weights[b, i]` counts how often row i is in draw b."""
    weights = weights.astype(float)
    tp, fp, fn = (np.empty((len(weights), classes)) for _ in range(3))
    for c in range(classes):
        truth, guess = labels == c, predicted == c
        tp[:, c] = weights @ (truth & guess)
        fp[:, c] = weights @ (~truth & guess)
        fn[:, c] = weights @ (truth & ~guess)
    return macro_f1_of_counts(tp, fp, fn)


def draw_counts(rng: np.random.Generator, draws: int, rows: int) -> np.ndarray:
    """How often each row is picked in each of `draws` resamples of `rows` rows with replacement."""
    picked = rng.integers(0, rows, size=(draws, rows)) + np.arange(draws)[:, None] * rows
    return np.bincount(picked.ravel(), minlength=draws * rows).reshape(draws, rows)


def macro_f1_interval(
    labels: np.ndarray, predicted: np.ndarray, *, resamples: int, seed: int, confidence: float,
    classes: int = 3,
) -> tuple[float, float]:  # fmt: skip
    """The central `confidence` percentile interval of macro-F1 over bootstrap resamples."""
    rng = np.random.default_rng(seed)
    spread = resampled_macro_f1(
        labels, predicted, draw_counts(rng, resamples, len(labels)), classes
    )
    tail = (1 - confidence) / 2
    return float(np.quantile(spread, tail)), float(np.quantile(spread, 1 - tail))
