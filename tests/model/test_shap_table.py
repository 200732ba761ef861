"""The SHAP table gives CatBoost's own values, whatever records fill it and in what order."""

import numpy as np
import pandas as pd
import pytest

from advanced_mlops.inference import model_pool, predict_records, shap_values
from advanced_mlops.serving.shap_table import ShapTable
from advanced_mlops.training.model import Trial
from advanced_mlops.training.split import TimeSplit


def records(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def test_the_table_equals_catboosts_values_as_it_fills(trained: Trial, split: TimeSplit) -> None:
    model, table = trained.model, ShapTable(trained.model)
    holdout = records(split.holdout)
    # One record, then small batches, then a large one: each call meets leaves never seen.
    for start, size in ((0, 1), (1, 6), (7, 6), (13, 40), (53, 300)):
        pool = model_pool(holdout[start : start + size])
        np.testing.assert_allclose(table(pool), shap_values(model, pool), rtol=0, atol=1e-9)
    again, known = model_pool(holdout[:60]), [-1, table.known_leaves]
    while known[-1] != known[-2]:  # a few trees a call, until these records' leaves are known
        np.testing.assert_allclose(table(again), shap_values(model, again), rtol=0, atol=1e-9)
        known.append(table.known_leaves)
    assert len(known) <= 3 + model.tree_count_ // table.trees_per_call
    assert 0 < known[-1] <= sum(model.get_tree_leaf_counts())


def test_a_call_asks_catboost_about_a_few_trees_at_most(trained: Trial, split: TimeSplit) -> None:
    """An explained answer never waits for the whole table: one record, four trees learnt."""
    table = ShapTable(trained.model, trees_per_call=4)
    pool = model_pool(records(split.holdout)[:1])
    np.testing.assert_allclose(table(pool), shap_values(trained.model, pool), rtol=0, atol=1e-9)
    assert table.known_leaves == 4


def test_reasons_from_the_table_are_catboosts_reasons(trained: Trial, split: TimeSplit) -> None:
    batch = records(split.valid)[:25]
    flags = [i % 3 == 0 for i in range(len(batch))]
    table = ShapTable(trained.model)
    assert predict_records(trained.model, batch, flags, explainer=table) == predict_records(
        trained.model, batch, flags
    )


def test_the_models_own_leaf_values_are_untouched(trained: Trial, split: TimeSplit) -> None:
    """The table sets leaf values on an instance of its own, never on the model it serves."""
    before = np.asarray(trained.model.get_leaf_values()).copy()
    ShapTable(trained.model)(model_pool(records(split.holdout)[:50]))
    assert np.array_equal(np.asarray(trained.model.get_leaf_values()), before)


def test_only_oblivious_trees_are_tabled(trained: Trial, split: TimeSplit) -> None:
    from catboost import CatBoostClassifier

    from advanced_mlops.inference import CATEGORICAL_INDEX, TEXT_INDEX, to_model_frame

    rows = to_model_frame(split.train.head(400))
    deep = CatBoostClassifier(iterations=5, grow_policy="Depthwise", verbose=0, thread_count=1)
    deep.fit(rows, split.train.head(400)["credit_score"], cat_features=CATEGORICAL_INDEX,
             text_features=TEXT_INDEX)  # fmt: skip
    assert not ShapTable.supports(deep)
    assert ShapTable.supports(trained.model)


def test_a_model_the_table_cannot_take_is_served_without_one(
    trained: Trial, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A table that fails to build leaves the model to CatBoost's own call, never unserved."""
    from advanced_mlops.serving import champion

    def fail(*_: object) -> None:
        raise RuntimeError("no leaf values here")

    monkeypatch.setattr(champion.ShapTable, "__init__", fail)
    assert champion._shap_table(trained.model, "7") is None
    assert "v7 explains through CatBoost's own call" in caplog.text
