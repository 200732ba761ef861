"""Evaluation metrics and the artifacts that explain them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from advanced_mlops import schema


def classification_metrics(
    y_true: pd.Series | Sequence[str], proba: np.ndarray
) -> dict[str, float]:
    """Accuracy, macro-F1, log-loss, expected calibration error, per-class precision and recall."""
    classes = list(schema.CLASSES)
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    precision, recall, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=classes, average="macro")),
        "log_loss": multiclass_log_loss(y_true, proba),
        "ece": expected_calibration_error(y_true, proba),
    }
    for name, p, r in zip(classes, precision, recall, strict=True):
        metrics[f"precision_{name.lower()}"] = float(p)
        metrics[f"recall_{name.lower()}"] = float(r)
    return metrics


def expected_calibration_error(
    y_true: pd.Series | Sequence[str], proba: np.ndarray, bins: int = 10
) -> float:
    """How far the top class's probability is from how often it is right: the gap in each of
    `bins` equal-width confidence bins, weighted by the bin's share of rows."""
    index = np.asarray([schema.CLASSES.index(y) for y in y_true])
    confidence = proba.max(axis=1) / proba.sum(axis=1)
    correct = proba.argmax(axis=1) == index
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(gap)


def multiclass_log_loss(y_true: pd.Series | Sequence[str], proba: np.ndarray) -> float:
    """Log-loss with columns in `schema.CLASSES` order (sklearn's assumes sorted labels)."""
    index = np.asarray([schema.CLASSES.index(y) for y in y_true])
    normalised = proba / proba.sum(axis=1, keepdims=True)
    picked = np.clip(normalised[np.arange(len(index)), index], 1e-15, 1.0)
    return float(-np.log(picked).mean())


def confusion_matrix_plot(y_true: pd.Series, proba: np.ndarray, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    classes = list(schema.CLASSES)
    y_pred = np.asarray(classes)[proba.argmax(axis=1)]
    matrix = confusion_matrix(y_true, y_pred, labels=classes)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay(matrix, display_labels=classes).plot(ax=ax, colorbar=False)
    ax.set_title("Holdout confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
