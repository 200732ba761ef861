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


def shap_values(model: Any, rows: list[list[Any]], exact: bool = True) -> np.ndarray:
    """CatBoost's own SHAP values, [records, model classes, features + 1] (last: expected value).

    For each class, the contributions plus the expected value give the model's raw score
    (`predict(prediction_type="RawFormulaVal")`), so the reasons add up to the decision. Exact
    values cost ~20 ms a record for a 400-tree model; CatBoost's approximate ones ~1-2 ms and
    also add up (bench/README.md)."""
    from catboost import Pool

    pool = Pool(rows, cat_features=CATEGORICAL_INDEX, text_features=TEXT_INDEX)
    values = np.asarray(
        model.get_feature_importance(
            pool, type="ShapValues", shap_calc_type="Regular" if exact else "Approximate"
        )
    )
    return values if values.ndim == 3 else values[:, np.newaxis, :]


def reason_codes(
    model: Any,
    records: Sequence[Mapping[Any, Any]],
    predicted: Sequence[str],
    top: int = 3,
    exact: bool = True,
) -> list[list[dict[str, Any]]]:
    """Per record, the `top` features that pushed hardest toward its predicted class: name, the
    record's value as sent, and its SHAP contribution to that class's raw score (largest first)."""
    values = shap_values(model, model_rows(records), exact)
    classes = [str(c) for c in model.classes_]
    reasons = []
    for record, label, per_class in zip(records, predicted, values, strict=True):
        contributions = per_class[classes.index(label), :-1]
        strongest = np.argsort(-contributions, kind="stable")[:top]
        reasons.append(
            [
                {
                    "feature": schema.FEATURES[i],
                    "value": _plain(record.get(schema.FEATURES[i])),
                    "contribution": round(float(contributions[i]), 6),
                }
                for i in strongest
            ]
        )
    return reasons


def _plain(value: Any) -> Any:
    """A JSON value: NaN and missing become null, numpy scalars plain Python."""
    if value is None or value != value:
        return None
    return value.item() if isinstance(value, np.generic) else value
