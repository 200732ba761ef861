"""The model's view of a record. Training, the gate and the service all go through here."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops import schema

MISSING_CATEGORY = "Unknown"
MISSING_TEXT = "none"


def to_model_frame(records: pd.DataFrame) -> pd.DataFrame:
    """The 22 features in a fixed order, numbers as float, missing categories and text filled.

    Trees need no scaling, so unlike the course there is no per-column scaler to load or apply.
    """
    frame = pd.DataFrame(index=records.index)
    for column in schema.NUMERIC_FEATURES:
        frame[column] = pd.to_numeric(records[column], errors="coerce").astype(float)
    for column in schema.CATEGORICAL_FEATURES:
        frame[column] = _filled(records[column], MISSING_CATEGORY)
    for column in schema.TEXT_FEATURES:
        frame[column] = _filled(records[column], MISSING_TEXT)
    return frame


def _filled(values: pd.Series, fill: str) -> pd.Series:
    text = values.astype(object)
    return text.where(text.notna() & (text != ""), fill).astype(str)


def predict_proba(model: Any, frame: pd.DataFrame) -> np.ndarray:
    """Class probabilities in `schema.CLASSES` order, whatever order the model learnt them in."""
    proba = np.asarray(model.predict_proba(frame))
    order = [list(model.classes_).index(c) for c in schema.CLASSES]
    return proba[:, order]
