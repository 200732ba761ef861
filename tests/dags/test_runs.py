"""`dag.test()` runs of both DAGs against a MariaDB store of their own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from advanced_mlops import mlflow_io
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.training.snapshot import snapshot_at
from tests.conftest import fast_settings, mariadb_database
from tests.dags.conftest import returned, run_dag, run_dag_tasks, use_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("dag-runs")
    with mariadb_database() as url:
        upgrade(url)
        settings = fast_settings(home, url, data={"customers": 900})
        yield {
            "MLOPS_HOME": str(home),
            # Tasks reach the store only through the Airflow connection; MLOPS_DB_URL stays unset.
            "AIRFLOW_CONN_MLOPS_STORE": url,
            "MLOPS_AIRFLOW_CONN_ID": "mlops_store",
            "MLFLOW_TRACKING_URI": settings.store.tracking_uri,
            "MLOPS_CUSTOMERS": "900",
            "MLOPS_MAX_ITERATIONS": "120",
            "MLOPS_EARLY_STOPPING_ROUNDS": "20",
            "MLOPS_GATE_MIN_MACRO_F1": "0.3",
            "MLOPS_GATE_MIN_CLASS_RECALL": "0.1",
        }


def test_ingestion_runs_are_idempotent_per_logical_date(
    airflow_db: None, store: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(store, monkeypatch)
    days = [date(2025, 1, 10), date(2025, 1, 11), date(2025, 1, 12)]
    assert [run_dag("feature_ingestion", d) for d in days] == ["success"] * 3
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        counts = repository.table_counts(conn)
        stored = set(repository.ingested_days(conn)["date"])
    assert stored == set(days)
    assert counts["features"] > 60
    assert run_dag("feature_ingestion", days[1]) == "success"
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        assert repository.table_counts(conn) == counts


def test_a_contract_breaking_day_fails_at_once_and_writes_nothing(
    airflow_db: None,
    store: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    webhook: tuple[str, list[dict[str, Any]]],
) -> None:
    use_environment(store, monkeypatch)
    url, alerts = webhook
    monkeypatch.setenv("MLOPS_ALERT_WEBHOOK", url)
    broken, next_day = date(2025, 1, 20), date(2025, 1, 21)
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        before = repository.table_counts(conn)
    monkeypatch.setenv("MLOPS_SCENARIO", "schema_break")
    monkeypatch.setenv("MLOPS_SCENARIO_START", broken.isoformat())
    state, tasks = run_dag_tasks("feature_ingestion", broken)
    assert state == "failed"
    assert tasks["check_contract"] == ("failed", 1), "a broken contract is not retried"
    assert tasks["ingest"][0] == "upstream_failed"
    # The failure callback ran for the real task: one line, posted to the webhook.
    [alert] = alerts
    assert alert["text"].startswith("FAILED feature_ingestion.check_contract for 2025-01-20")
    assert "breaks its contract" in alert["text"]
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        assert repository.table_counts(conn) == before
        assert repository.day_counts(conn, broken)["features"] == 0
    monkeypatch.setenv("MLOPS_SCENARIO", "stable")
    assert run_dag("feature_ingestion", next_day) == "success"
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        assert repository.day_counts(conn, next_day)["features"] > 0


def test_training_run_trains_gates_and_promotes(
    airflow_db: None, store: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(store, monkeypatch)
    base = date(2025, 2, 10)
    days = [base - timedelta(days=i) for i in range(30)][::-1]
    ingest_days(
        store["AIRFLOW_CONN_MLOPS_STORE"],
        Generator(customers=900),
        days,
        7,
        lambda _: "stable",
        "t",
    )
    assert run_dag("continuous_training", base) == "success"
    settings = fast_settings(Path(store["MLOPS_HOME"]), store["AIRFLOW_CONN_MLOPS_STORE"])
    assert mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == "1"
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        events = [h["event"] for h in repository.read_history(conn, settings.store.model_name)]
        stored = repository.read_snapshot(conn, base)
        expected = snapshot_at(conn, base, settings.training.train_window_days)
    assert events == ["gate", "promote"]
    assert len(stored) == len(expected) > 0  # the point-in-time snapshot the model was fitted on
    assert stored["label_date"].max() <= base

    # A re-run of the date reuses its model: no second version, no second promotion.
    state, tasks = run_dag_tasks("continuous_training", base)
    assert state == "success"
    assert (tasks["keep_champion"][0], tasks["promote"][0]) == ("success", "skipped")
    assert returned("continuous_training", base)["keep_champion"] == (
        "kept champion v1: challenger v1 is the champion already (this date ran before)"
    )
    assert mlflow_io.registered_versions(settings) == {"1"}
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        assert [
            h["event"] for h in repository.read_history(conn, settings.store.model_name)
        ] == events

    # A refusal is not a failure: the run succeeds, the champion stays, the history says why.
    monkeypatch.setenv("MLOPS_GATE_MIN_MACRO_F1", "0.99")
    earlier = base - timedelta(days=1)
    state, tasks = run_dag_tasks("continuous_training", earlier)
    assert state == "success"
    assert tasks["keep_champion"][0] == "success"
    assert tasks["promote"][0] == "skipped"
    assert mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == "1"
    assert returned("continuous_training", earlier)["keep_champion"].startswith(
        "kept champion v1: challenger v2 failed macro_f1 ("
    )
    with connect(store["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        refusal = repository.read_history(conn, settings.store.model_name)[-1]
    assert (refusal["event"], refusal["version"], refusal["passed"]) == ("gate", "2", False)
    assert refusal["reason"].startswith("failed macro_f1 (")
