"""Behavioural tests of a trained model (Made-With-ML's minimum functionality / directional)."""

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier

from advanced_mlops import schema
from advanced_mlops.inference import predict_proba, predict_records, to_model_frame
from advanced_mlops.training.metrics import classification_metrics
from advanced_mlops.training.model import Trial, fit
from advanced_mlops.training.split import TimeSplit
from tests.model.conftest import MODEL_CONFIG


def poor_probability(model: object, rows: pd.DataFrame) -> np.ndarray:
    return predict_proba(model, to_model_frame(rows))[:, schema.CLASSES.index("Poor")]


def test_minimum_functionality_on_the_newest_holdout(trained: Trial, split: TimeSplit) -> None:
    proba = predict_proba(trained.model, to_model_frame(split.holdout))
    metrics = classification_metrics(split.holdout[schema.LABEL], proba)
    assert metrics["macro_f1"] > 0.62  # a constant model scores ~0.23
    assert min(metrics[f"recall_{c.lower()}"] for c in schema.CLASSES) > 0.45
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_more_late_payments_raise_the_risk_of_poor(trained: Trial, split: TimeSplit) -> None:
    rows = split.holdout.head(200)
    worse = rows.assign(num_of_delayed_payment=25.0, delay_from_due_date=60.0, credit_mix="Bad")
    assert (
        poor_probability(trained.model, worse) >= poor_probability(trained.model, rows)
    ).mean() > 0.9


def test_identity_columns_do_not_change_the_prediction(trained: Trial, split: TimeSplit) -> None:
    rows = split.holdout.head(50)
    other = rows.assign(customer_id="CUS_0xfffff", name="Someone Else", ssn="000-00-0000")
    np.testing.assert_array_equal(
        poor_probability(trained.model, rows), poor_probability(trained.model, other)
    )


def test_missing_values_are_served_not_rejected(trained: Trial) -> None:
    empty = pd.DataFrame([dict.fromkeys(schema.FEATURES)])
    proba = predict_proba(trained.model, to_model_frame(empty))
    assert proba.shape == (1, 3)


def test_training_is_deterministic_for_a_seed(split: TimeSplit) -> None:
    small = MODEL_CONFIG.model_copy(update={"max_iterations": 60})
    params = {"depth": 4, "l2_leaf_reg": 3}
    first = fit(split.train, split.valid, params, small)
    second = fit(split.train, split.valid, params, small)
    frame = to_model_frame(split.holdout)
    np.testing.assert_array_equal(
        predict_proba(first.model, frame), predict_proba(second.model, frame)
    )


def test_a_model_of_other_features_is_refused_not_scored(split: TimeSplit) -> None:
    """CatBoost scores a Pool of more features than a model learnt with the first ones, without a
    word: `predict_records` refuses such a model (a version registered around `mlops shadow`)."""
    frame = to_model_frame(split.holdout.head(30))[list(schema.NUMERIC_FEATURES[:5])]
    narrow = CatBoostClassifier(iterations=5, verbose=False, allow_writing_files=False)
    narrow.fit(frame, [schema.CLASSES[i % 3] for i in range(len(frame))])
    records = split.holdout.head(3).to_dict("records")
    with pytest.raises(ValueError, match="not the schema's 22"):
        predict_records(narrow, records)
