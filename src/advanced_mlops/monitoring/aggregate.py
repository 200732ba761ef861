"""A day of the prediction log, reduced to counts in bounded memory.

The log can hold a million rows a day with the features as JSON. Rows are streamed from the
database in chunks (`MLOPS_MONITOR_CHUNK_ROWS`) and each chunk is folded into fixed-size counts
(the reference's bins, categories and tokens), so memory depends on the chunk, not on the day.
What SQL does well stays in SQL: rows per model version, and the labelled confusion counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, select

from advanced_mlops import schema
from advanced_mlops.monitoring.reference import (
    ReferenceProfile,
    bin_counts,
    category_counts,
    token_counts,
)
from advanced_mlops.store.tables import labels, prediction_log

_ABSENT = object()


@dataclass
class DayCounts:
    """Everything the metrics need from a day's log rows, as counts."""

    rows: int = 0
    bins: dict[str, np.ndarray] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)  # null values
    absent: dict[str, int] = field(default_factory=dict)  # the key is not in the row at all
    out_of_range: dict[str, int] = field(default_factory=dict)
    categories: dict[str, dict[str, int]] = field(default_factory=dict)
    text_tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    predicted: dict[str, int] = field(default_factory=dict)  # the champion's rows only

    def add(self, other: DayCounts) -> None:
        self.rows += other.rows
        for name, binned in other.bins.items():
            self.bins[name] = self.bins[name] + binned if name in self.bins else binned.copy()
        flat: tuple[tuple[dict[str, int], dict[str, int]], ...] = (
            (self.missing, other.missing),
            (self.absent, other.absent),
            (self.out_of_range, other.out_of_range),
            (self.predicted, other.predicted),
        )
        for mine, theirs in flat:
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        for mine_nested, theirs_nested in (
            (self.categories, other.categories),
            (self.text_tokens, other.text_tokens),
        ):
            for name, found in theirs_nested.items():
                target = mine_nested.setdefault(name, {})
                for key, value in found.items():
                    target[key] = target.get(key, 0) + value


def count_records(
    features: Sequence[Mapping[str, Any]],
    predictions: Sequence[str],
    reference: ReferenceProfile,
) -> DayCounts:
    """Fold one chunk of logged feature dicts (and their predictions) into counts."""
    counts = DayCounts(rows=len(features))
    for name in schema.FEATURES:
        column = [row.get(name, _ABSENT) for row in features]
        absent = sum(1 for value in column if value is _ABSENT)
        present = [None if value is _ABSENT else value for value in column]
        counts.absent[name] = absent
        if name in schema.NUMERIC_FEATURES:
            values = pd.to_numeric(pd.Series(present, dtype=object), errors="coerce").to_numpy(
                dtype=float
            )
            low, high = schema.NUMERIC_RANGES[name]
            finite = np.isfinite(values)
            counts.missing[name] = int((~finite).sum()) - absent
            outside = finite & ((values < low) | (values > high))
            counts.out_of_range[name] = int(outside.sum())
            counts.bins[name] = bin_counts(values[finite & ~outside], reference.numeric[name].edges)
        elif name in schema.CATEGORIES:
            counts.missing[name] = sum(1 for v in present if v is None) - absent
            found = category_counts(present, schema.CATEGORIES[name])
            counts.out_of_range[name] = found.pop("other")
            counts.categories[name] = found
        else:
            counts.missing[name] = sum(1 for v in present if v is None) - absent
            counts.out_of_range[name] = 0
            counts.text_tokens[name] = token_counts(present, name)
    counts.predicted = category_counts(predictions, schema.CLASSES)
    counts.predicted.pop("other")
    return counts


def count_frame(frame: pd.DataFrame, reference: ReferenceProfile) -> DayCounts:
    """Counts of cleaned feature rows (a generated day), with their `prediction` column if any."""
    records = frame[[c for c in schema.FEATURES if c in frame]].astype(object)
    records = records.where(records.notna(), None)
    predicted = frame["prediction"].tolist() if "prediction" in frame else []
    rows: list[dict[str, Any]] = records.to_dict("records")  # type: ignore[assignment]
    return count_records(rows, predicted, reference)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time())
    return start, start + timedelta(days=1)


def rows_per_version(conn: Connection, day: date) -> dict[str, int]:
    """How many log rows each model version wrote on `day` (one GROUP BY on the indexed time)."""
    start, end = day_bounds(day)
    query = (
        select(prediction_log.c.model_version, func.count())
        .where(prediction_log.c.created_at >= start, prediction_log.c.created_at < end)
        .group_by(prediction_log.c.model_version)
    )
    return {str(version): int(n) for version, n in conn.execute(query).all()}


def stream_day(
    conn: Connection,
    day: date,
    versions: Iterable[str],
    champion: str,
    reference: ReferenceProfile,
    chunk_rows: int,
) -> DayCounts:
    """Counts of the day's rows written by `versions`, read `chunk_rows` at a time."""
    start, end = day_bounds(day)
    query = select(
        prediction_log.c.features, prediction_log.c.prediction, prediction_log.c.model_version
    ).where(
        prediction_log.c.created_at >= start,
        prediction_log.c.created_at < end,
        prediction_log.c.model_version.in_(list(versions)),
    )
    total = DayCounts()
    result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(query)
    for chunk in result.partitions(chunk_rows):
        features = [_as_dict(row[0]) for row in chunk]
        predicted = [row[1] for row in chunk if row[2] == champion]
        total.add(count_records(features, predicted, reference))
    return total


def _as_dict(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    loaded = json.loads(value) if isinstance(value, str | bytes) else None
    return loaded if isinstance(loaded, dict) else {}


def labelled_confusion(
    conn: Connection, first: date, last: date, known_by: date, version: str
) -> dict[tuple[str, str], int]:
    """(true label, prediction) -> rows, for `version`'s predictions made from `first` to `last`
    whose label (same customer, label date = prediction day) had arrived by `known_by`."""
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    query = (
        select(labels.c[schema.LABEL], prediction_log.c.prediction, func.count())
        .select_from(
            prediction_log.join(
                labels,
                and_(
                    labels.c.customer_id == prediction_log.c.customer_id,
                    labels.c.label_date == func.date(prediction_log.c.created_at),
                ),
            )
        )
        .where(
            prediction_log.c.created_at >= start,
            prediction_log.c.created_at < end,
            prediction_log.c.model_version == version,
            labels.c.available_at <= known_by,
        )
        .group_by(labels.c[schema.LABEL], prediction_log.c.prediction)
    )
    return {(str(t), str(p)): int(n) for t, p, n in conn.execute(query).all()}
