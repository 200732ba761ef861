"""Request and response bodies. Built from `schema`, so the service validates exactly what the
model was trained on: the same ranges the cleaning rules keep, the same categories."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from advanced_mlops import schema

MAX_TEXT = 512


def _feature_fields() -> dict[str, Any]:
    """Every feature is required; null is allowed (the model handles missing values)."""
    fields: dict[str, Any] = {}
    for name in schema.NUMERIC_FEATURES:
        low, high = schema.NUMERIC_RANGES[name]
        fields[name] = (float | None, Field(ge=low, le=high, allow_inf_nan=False))
    for name, allowed in schema.CATEGORIES.items():
        fields[name] = (Literal[allowed] | None, Field())
    for name in schema.TEXT_FEATURES:
        fields[name] = (str | None, Field(max_length=MAX_TEXT))
    return fields


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


CreditRecord: type[_Strict] = create_model(
    "CreditRecord",
    __base__=_Strict,
    customer_id=(str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")),
    **_feature_fields(),
)


# `/predict`'s body: a record, and whether to explain the answer (a strict bool: "yes" is a 400).
PredictRequest: type[_Strict] = create_model(
    "PredictRequest", __base__=CreditRecord, explain=(bool, Field(default=False))
)


class Reason(BaseModel):
    """A feature that pushed the answer toward its class: its SHAP contribution to that class's
    raw score (log-odds scale), with the value the record had."""

    feature: str
    value: float | str | None
    contribution: float


class Prediction(BaseModel):
    request_id: str
    customer_id: str
    credit_score: Literal["Poor", "Standard", "Good"]
    probabilities: dict[str, float]
    model_version: str
    # Only in the answer when the request asked for it.
    reasons: list[Reason] | None = Field(default=None, exclude_if=lambda value: value is None)


class BatchPrediction(BaseModel):
    predictions: list[Prediction]


class Metadata(BaseModel):
    """The champion being served, and the release of the service serving it."""

    model_name: str
    version: str
    service_version: str
    run_id: str
    trained_at: str
    gate: dict[str, str]
