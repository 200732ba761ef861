"""From validated records to predictions: a pure function of the model and the records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import schema
from advanced_mlops.training.features import predict_proba, to_model_frame


def predict_records(model: Any, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One call to the model for all records; class and probabilities for each, in order."""
    frame = to_model_frame(pd.DataFrame.from_records(records, columns=list(schema.FEATURES)))
    proba = predict_proba(model, frame)
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
