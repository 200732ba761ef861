"""`mlops airflow`: the environment that points Airflow at this project, and its bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from advanced_mlops.errors import MlopsError
from advanced_mlops.orchestration.local import STORE_CONN_ID, airflow_environment, dags_folder
from tests.conftest import fast_settings

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_embedded_defaults_keep_everything_under_mlops_home(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    env = airflow_environment(settings, DAGS, 8793, {"PATH": "/usr/bin"})
    assert env["AIRFLOW_HOME"] == str((tmp_path / "airflow").resolve())
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("/airflow/airflow.db")
    # Tasks reach the store through the Airflow connection, not MLOPS_DB_URL.
    assert env["MLOPS_AIRFLOW_CONN_ID"] == STORE_CONN_ID
    assert env[f"AIRFLOW_CONN_{STORE_CONN_ID.upper()}"] == settings.store.url
    # The API server is not on 8080: tasks must be told where the execution API is.
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8793/execution/"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(DAGS)
    assert env["PATH"].endswith("/usr/bin")  # the venv's bin comes first, the rest is kept


def test_metadata_goes_to_postgresql_when_configured(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://airflow:pw@db:5432/airflow"
    settings = fast_settings(tmp_path, airflow={"metadata_url": url})
    env = airflow_environment(settings, DAGS, 8080, {"AIRFLOW__CORE__PARALLELISM": "16"})
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == url
    assert env["AIRFLOW__CORE__PARALLELISM"] == "16"  # what the caller set wins


def test_a_folder_without_dags_is_refused(tmp_path: Path) -> None:
    assert dags_folder(DAGS) == DAGS
    with pytest.raises(MlopsError, match="--dags: no DAG files"):
        dags_folder(tmp_path)


def test_the_command_prints_export_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from advanced_mlops.cli.app import app

    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    monkeypatch.delenv("MLOPS_DB_URL", raising=False)
    out = CliRunner().invoke(app, ["airflow", "env", "--port", "9090", "--dags", str(DAGS)])
    assert out.exit_code == 0, out.output
    lines = dict(
        line.removeprefix("export ").split("=", 1)
        for line in out.output.splitlines()
        if not line.startswith("#")
    )
    assert lines["AIRFLOW__API__PORT"] == "9090"
    assert "AIRFLOW_CONN_MLOPS_STORE" in lines
    bad = CliRunner().invoke(app, ["airflow", "env", "--dags", str(tmp_path)])
    assert bad.exit_code != 0


def test_a_broker_switches_to_the_celery_executor_on_postgresql_only(tmp_path: Path) -> None:
    url = "postgresql+psycopg2://airflow:pw@db:5432/airflow"
    broker = "redis://127.0.0.1:6379/0"
    settings = fast_settings(tmp_path, airflow={"metadata_url": url, "celery_broker_url": broker})
    env = airflow_environment(settings, DAGS, 8080, {})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == broker
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == f"db+{url}"
    assert "AIRFLOW__CORE__EXECUTOR" not in airflow_environment(
        fast_settings(tmp_path, airflow={"metadata_url": url}), DAGS, 8080, {}
    )
    on_sqlite = fast_settings(tmp_path, airflow={"celery_broker_url": broker})
    with pytest.raises(MlopsError, match="needs MLOPS_AIRFLOW_METADATA_URL"):
        airflow_environment(on_sqlite, DAGS, 8080, {})
