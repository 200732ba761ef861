"""`dag.test()` runs of both DAGs against a MariaDB store of their own."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.registry import mlflow_io
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from tests.conftest import fast_settings, mariadb_database
from tests.dags.conftest import DAGS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def airflow_db() -> None:
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([sys.executable, "-m", "airflow", *command], check=True, capture_output=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("dag-runs")
    with mariadb_database() as url:
        upgrade(url)
        settings = fast_settings(home, url, customers=900)
        yield {
            "MLOPS_HOME": str(home),
            "MLOPS_DB_URL": url,
            "MLFLOW_TRACKING_URI": settings.tracking_uri,
            "MLOPS_CUSTOMERS": "900",
            "MLOPS_MAX_ITERATIONS": "120",
            "MLOPS_EARLY_STOPPING_ROUNDS": "20",
            "MLOPS_GATE_MIN_MACRO_F1": "0.3",
            "MLOPS_GATE_MIN_CLASS_RECALL": "0.1",
        }


def run_dag(dag_id: str, day: date) -> str:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags[dag_id]
    run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
    return str(run.state)


def test_ingestion_runs_are_idempotent_per_logical_date(
    airflow_db: None, store: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in store.items():
        monkeypatch.setenv(key, value)
    days = [date(2025, 1, 10), date(2025, 1, 11), date(2025, 1, 12)]
    assert [run_dag("feature_ingestion", d) for d in days] == ["success"] * 3
    with connect(store["MLOPS_DB_URL"]) as conn:
        counts = repository.table_counts(conn)
        stored = set(repository.ingested_days(conn)["date"])
    assert stored == set(days)
    assert counts["features"] > 60
    assert run_dag("feature_ingestion", days[1]) == "success"
    with connect(store["MLOPS_DB_URL"]) as conn:
        assert repository.table_counts(conn) == counts


def test_training_run_trains_gates_and_promotes(
    airflow_db: None, store: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in store.items():
        monkeypatch.setenv(key, value)
    base = date(2025, 2, 10)
    days = [base - timedelta(days=i) for i in range(30)][::-1]
    ingest_days(store["MLOPS_DB_URL"], Generator(customers=900), days, 7, lambda _: "stable", "t")
    assert run_dag("continuous_training", base) == "success"
    settings = fast_settings(Path(store["MLOPS_HOME"]), store["MLOPS_DB_URL"])
    assert mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == "1"
    with connect(store["MLOPS_DB_URL"]) as conn:
        events = [h["event"] for h in repository.read_history(conn, settings.model_name)]
    assert events == ["gate", "promote"]
