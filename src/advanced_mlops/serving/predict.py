"""From validated records to predictions: a pure function of the model and the records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from advanced_mlops import schema
from advanced_mlops.training.features import model_rows, predict_proba


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
