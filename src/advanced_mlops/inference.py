"""Inference: the model's input rows, its probabilities in class order, and predictions.

Training, the gate, monitoring and the service all go through this module, so a value is prepared
the same way whether it came from the store or from a request, and probabilities always come in
`schema.CLASSES` order whatever order the model learnt its classes in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import schema

MISSING_CATEGORY = "Unknown"
MISSING_TEXT = "none"
CATEGORICAL_INDEX = list(
    range(
        len(schema.NUMERIC_FEATURES),
        len(schema.NUMERIC_FEATURES) + len(schema.CATEGORICAL_FEATURES),
    )
)
TEXT_INDEX = list(range(CATEGORICAL_INDEX[-1] + 1, len(schema.FEATURES)))


def model_row(record: Mapping[Any, Any]) -> list[Any]:
    """The 22 features in the model's order: numbers as float (NaN when missing), categories and
    text as strings with a placeholder when missing. Trees need no scaling, so unlike the course
    there is no per-column scaler to load or apply."""
    return [
        *(_number(record.get(c)) for c in schema.NUMERIC_FEATURES),
        *(_label(record.get(c), MISSING_CATEGORY) for c in schema.CATEGORICAL_FEATURES),
        *(_label(record.get(c), MISSING_TEXT) for c in schema.TEXT_FEATURES),
    ]


def model_rows(records: Iterable[Mapping[Any, Any]]) -> list[list[Any]]:
    return [model_row(record) for record in records]


def to_model_frame(records: pd.DataFrame) -> pd.DataFrame:
    """`model_row` over a DataFrame, as a DataFrame (what CatBoost trains on)."""
    rows = model_rows(records.to_dict("records"))
    frame = pd.DataFrame(rows, columns=list(schema.FEATURES), index=records.index)
    return frame.astype(dict.fromkeys(schema.NUMERIC_FEATURES, float))


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _label(value: Any, fill: str) -> str:
    if value is None or value != value or value == "":  # None, NaN, NA, empty
        return fill
    return str(value)


def predict_proba(model: Any, rows: pd.DataFrame | list[list[Any]]) -> np.ndarray:
    """Class probabilities in `schema.CLASSES` order, whatever order the model learnt them in."""
    proba = np.asarray(model.predict_proba(rows))
    order = [list(model.classes_).index(c) for c in schema.CLASSES]
    return proba[:, order]


def predict_records(model: Any, records: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    """One call to the model for all records; class and probabilities for each, in order."""
    proba = predict_proba(model, model_rows(records))
    labels = np.asarray(schema.CLASSES)[proba.argmax(axis=1)]
    return [
        {
            "credit_score": str(label),
            "probabilities": {
                c: round(float(p), 6) for c, p in zip(schema.CLASSES, row, strict=True)
            },
        }
        for label, row in zip(labels, proba, strict=True)
    ]
