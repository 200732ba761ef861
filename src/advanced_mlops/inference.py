"""Inference: the model's input rows, its probabilities in class order, and predictions.

Training, the gate, monitoring and the service all go through this module, so a value is prepared
the same way whether it came from the store or from a request, and probabilities always come in
`schema.CLASSES` order whatever order the model learnt its classes in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
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


def model_pool(records: Sequence[Mapping[Any, Any]]) -> Any:
    """The records as a CatBoost Pool. Built once per model call and shared by the prediction and
    the SHAP values: CatBoost converts a list of rows more slowly than it builds a Pool (0.15
    against 0.13 ms for one record, 0.86 against 0.57 for 64; bench/README.md)."""
    from catboost import Pool

    return Pool(model_rows(records), cat_features=CATEGORICAL_INDEX, text_features=TEXT_INDEX)


def predict_proba(model: Any, rows: Any) -> np.ndarray:
    """Class probabilities in `schema.CLASSES` order, whatever order the model learnt them in
    (`rows`: a frame of `to_model_frame`, a `model_pool` or a list of `model_row`s)."""
    proba = np.asarray(model.predict_proba(rows))
    order = [list(model.classes_).index(c) for c in schema.CLASSES]
    return proba[:, order]


def predict_records(
    model: Any,
    records: Sequence[Mapping[Any, Any]],
    explain: Sequence[bool] = (),
    exact: bool = True,
    explainer: Callable[[Any], np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """One model call for all records: class and probabilities for each, in order, and `reasons`
    (`reason_codes`) for the records flagged in `explain`, None for the others. `explainer`:
    where the exact SHAP values of a `model_pool` come from, if not from CatBoost's call
    (`serving.shap_table.ShapTable`, the same values for a fraction of the cost).

    A model that does not take the schema's features, in its order, raises ValueError: given a
    Pool of more features than it learnt, CatBoost would score the first ones without a word."""
    if list(model.feature_names_) != list(schema.FEATURES):
        raise ValueError(
            f"the model takes features {list(model.feature_names_)}, not the schema's "
            f"{len(schema.FEATURES)} ({', '.join(schema.FEATURES[:3])}, ...)"
        )
    pool = model_pool(records)
    proba = predict_proba(model, pool)
    labels = [str(label) for label in np.asarray(schema.CLASSES)[proba.argmax(axis=1)]]
    reasons: list[list[dict[str, Any]] | None] = [None] * len(records)
    wanted = [i for i, flag in enumerate(explain) if flag]
    if wanted:
        explained = pool if len(wanted) == len(records) else pool.slice(wanted)
        values = (
            explainer(explained)
            if explainer is not None and exact
            else shap_values(model, explained, exact)
        )
        found = reason_codes(
            values,
            [str(c) for c in model.classes_],
            [records[i] for i in wanted],
            [labels[i] for i in wanted],
        )
        for i, reason in zip(wanted, found, strict=True):
            reasons[i] = reason
    return [
        {
            "credit_score": label,
            "probabilities": {
                c: round(float(p), 6) for c, p in zip(schema.CLASSES, row, strict=True)
            },
            "reasons": reason,
        }
        for label, row, reason in zip(labels, proba, reasons, strict=True)
    ]


# A service's parallelism is its workers. On the few records of a request, CatBoost's threads
# for a SHAP call wait for each other spinning (sched_yield), which costs CPU the other worker
# needs: in process, 0.6 against 1.0-1.2 ms for one record (p99 1 against 6 ms); bench/README.md.
SHAP_THREADS = 1


def shap_values(model: Any, pool: Any, exact: bool = True) -> np.ndarray:
    """CatBoost's own SHAP values of a `model_pool`, [records, model classes, features + 1]
    (last: expected value).

    For each class, the contributions plus the expected value give the model's raw score
    (`predict(prediction_type="RawFormulaVal")`), so the reasons add up to the decision. Exact
    values cost ~0.5 ms a record for a 105-tree model of depth 4 and ~15 ms for 177 trees of
    depth 6; CatBoost's approximate ones less, and also add up (bench/README.md)."""
    values = np.asarray(
        model.get_feature_importance(
            pool,
            type="ShapValues",
            shap_calc_type="Regular" if exact else "Approximate",
            thread_count=SHAP_THREADS,
        )
    )
    return values if values.ndim == 3 else values[:, np.newaxis, :]


def reason_codes(
    values: np.ndarray,
    classes: Sequence[str],
    records: Sequence[Mapping[Any, Any]],
    predicted: Sequence[str],
    top: int = 3,
) -> list[list[dict[str, Any]]]:
    """Per record, the `top` features that pushed hardest toward its predicted class: name, the
    record's value as sent, and its SHAP contribution to that class's raw score (largest first).
    `values` are the records' `shap_values`, whose class axis follows `classes`."""
    position = {label: i for i, label in enumerate(classes)}
    reasons = []
    for record, label, per_class in zip(records, predicted, values, strict=True):
        contributions = per_class[position[label], :-1]
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
