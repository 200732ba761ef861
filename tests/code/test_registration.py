"""Registering a version prints nothing (the demo's table is the only output) and links the run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from catboost import CatBoostClassifier

from advanced_mlops import mlflow_io
from tests.conftest import fast_settings


def test_versions_are_registered_silently_with_their_run(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import mlflow

    settings = fast_settings(tmp_path)
    mlflow_io.client(settings)
    rows = np.random.default_rng(0).random((40, 2))
    model = CatBoostClassifier(iterations=5, verbose=False).fit(rows, np.arange(40) % 2)
    capfd.readouterr()
    versions, runs = [], []
    for _ in range(2):
        with mlflow.start_run(experiment_id=mlflow_io.experiment_id(settings)) as run:
            info = mlflow.catboost.log_model(model, name="model")
            versions.append(
                mlflow_io.register_version(settings, info.model_uri, run.info.run_id, info.model_id)
            )
            runs.append(run.info.run_id)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert versions == ["1", "2"]
    assert [mlflow_io.model_version(settings, v).run_id for v in versions] == runs
    loaded = mlflow_io.load_model(settings, "2")
    assert loaded.predict(rows[:3]).shape[0] == 3
