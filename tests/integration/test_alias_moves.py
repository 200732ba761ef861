"""The registry fails between two alias writes of a promotion or a rollback (the registry has
no transaction): every alias is as it was before, and the history records nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import mlflow.catboost
import numpy as np
import pytest
from catboost import CatBoostClassifier
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from advanced_mlops import mlflow_io
from advanced_mlops.mlflow_io import RegistryError
from advanced_mlops.registry.promotion import history, promote, rollback
from advanced_mlops.settings import Settings
from advanced_mlops.store.engine import upgrade
from tests.conftest import fast_settings


@pytest.fixture
def three_versions(tmp_path: Path) -> Settings:
    """A real SQLite registry holding three versions of a small model, and the store's history."""
    settings = fast_settings(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(settings.store.url)
    mlflow_io.client(settings)
    rng = np.random.default_rng(0)
    x, y = rng.random((60, 3)), rng.integers(0, 3, 60)
    model = CatBoostClassifier(iterations=5, verbose=False).fit(x, y)
    for _ in range(3):
        with mlflow.start_run():
            mlflow.catboost.log_model(
                model, name="model", registered_model_name=settings.store.model_name
            )
    return settings


def aliases(settings: Settings) -> dict[str, str]:
    client = MlflowClient(settings.store.tracking_uri, settings.store.tracking_uri)
    found = client.get_registered_model(settings.store.model_name).aliases
    return {alias: str(version) for alias, version in found.items()}


def failing_on(monkeypatch: pytest.MonkeyPatch, alias: str) -> None:
    """The registry answers every call but the write of `alias`, as a server going away would."""
    real_set = MlflowClient.set_registered_model_alias
    real_delete = MlflowClient.delete_registered_model_alias

    def refuse(which: str) -> None:
        if which == alias:
            raise MlflowException("service unavailable", error_code="TEMPORARILY_UNAVAILABLE")

    def set_alias(self: Any, name: str, which: str, version: str) -> None:
        refuse(which)
        real_set(self, name, which, version)

    def delete_alias(self: Any, name: str, which: str) -> None:
        refuse(which)
        real_delete(self, name, which)

    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", set_alias)
    monkeypatch.setattr(MlflowClient, "delete_registered_model_alias", delete_alias)


def test_a_promotion_cut_between_its_alias_writes_changes_nothing(
    three_versions: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = three_versions
    promote(settings, "1", reason="first", force=True)
    promote(settings, "2", reason="second", force=True)
    before, recorded = aliases(settings), history(settings)
    assert before == {"champion": "2", "previous_champion": "1"}

    with monkeypatch.context() as patch:
        failing_on(patch, "champion")  # previous_champion -> 2 is written first
        with pytest.raises(RegistryError, match="service unavailable"):
            promote(settings, "3", reason="cut", force=True)
    assert aliases(settings) == before
    assert history(settings) == recorded

    with monkeypatch.context() as patch:
        failing_on(patch, "previous_champion")  # champion -> 1 is written first
        with pytest.raises(RegistryError):
            rollback(settings, reason="cut")
    assert aliases(settings) == before
    assert history(settings) == recorded

    # The registry back: both work, and each moves both aliases.
    assert rollback(settings, reason="back") == ("2", "1")
    assert aliases(settings) == {"champion": "1"}
    promote(settings, "3", reason="after", force=True)
    assert aliases(settings) == {"champion": "3", "previous_champion": "1"}
