"""Inside tasks, the store comes from the Airflow connection named by MLOPS_AIRFLOW_CONN_ID."""

import pytest

from advanced_mlops.errors import MlopsError
from advanced_mlops.orchestration.tasks import task_settings


def test_the_connection_overrides_the_store_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_DB_URL", "sqlite:////elsewhere.db")
    monkeypatch.setenv("AIRFLOW_CONN_FEATURE_STORE", "mysql://u:s3cret@mariadb:3306/mlops")
    monkeypatch.setenv("MLOPS_AIRFLOW_CONN_ID", "feature_store")
    assert task_settings().store.url == "mysql+pymysql://u:s3cret@mariadb:3306/mlops"


def test_a_missing_connection_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NOWHERE", raising=False)
    monkeypatch.setenv("MLOPS_AIRFLOW_CONN_ID", "nowhere")
    with pytest.raises(MlopsError, match="AIRFLOW_CONN_NOWHERE"):
        task_settings()


def test_without_a_connection_id_the_store_url_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_AIRFLOW_CONN_ID", raising=False)
    monkeypatch.setenv("MLOPS_DB_URL", "sqlite:////tmp/store.db")
    assert task_settings().store.url == "sqlite:////tmp/store.db"
