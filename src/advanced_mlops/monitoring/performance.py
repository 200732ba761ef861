"""Live performance from labelled predictions: macro-F1 and recall per class.

Labels arrive `MLOPS_LABEL_DELAY_DAYS` after the prediction, so monitoring day D judges the
predictions made in the newest `MLOPS_MONITOR_PERFORMANCE_DAYS` days whose labels have arrived
by D: days D-delay-(window-1) .. D-delay. Only the current champion's predictions count: a model
that no longer serves is not what the decision is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from advanced_mlops import schema


@dataclass(frozen=True)
class LivePerformance:
    first_day: date
    last_day: date
    rows: int
    macro_f1: float | None = None
    recall: dict[str, float] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # true -> predicted -> n


def performance_window(day: date, label_delay_days: int, window_days: int) -> tuple[date, date]:
    """The prediction days whose labels are the newest known on `day`."""
    last = day - timedelta(days=label_delay_days)
    return last - timedelta(days=window_days - 1), last


def from_confusion(
    counts: Mapping[tuple[str, str], int], first_day: date, last_day: date
) -> LivePerformance:
    """Macro-F1 (as sklearn's, over the three classes) from (true, predicted) counts."""
    classes = schema.CLASSES
    matrix = {t: {p: int(counts.get((t, p), 0)) for p in classes} for t in classes}
    rows = sum(sum(row.values()) for row in matrix.values())
    if rows == 0:
        return LivePerformance(first_day, last_day, 0)
    f1s, recall = [], {}
    for c in classes:
        tp = matrix[c][c]
        actual = sum(matrix[c].values())
        predicted = sum(matrix[t][c] for t in classes)
        r = tp / actual if actual else 0.0
        p = tp / predicted if predicted else 0.0
        recall[c] = r
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return LivePerformance(first_day, last_day, rows, sum(f1s) / len(f1s), recall, matrix)
