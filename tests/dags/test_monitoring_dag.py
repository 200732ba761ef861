"""The monitoring DAG under `dag.test()` against MariaDB: it triggers `continuous_training`
exactly when the stored decision says retrain, once per day, with the reasons as the run's note."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.registry import promotion
from advanced_mlops.serving.traffic import log_traffic
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.training.job import train
from tests.conftest import START, fast_settings, mariadb_database
from tests.dags.conftest import dag_runs, run_dag_tasks, use_environment

pytestmark = pytest.mark.slow
DAYS = 40
LAST = START + timedelta(days=DAYS - 1)
RULES = {"MLOPS_MONITOR_MIN_ROWS": "30", "MLOPS_MONITOR_MIN_LABELLED": "60"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """40 stable days, a champion trained on the first 30, and 10 days of its logged traffic."""
    home = tmp_path_factory.mktemp("monitoring-dag")
    with mariadb_database() as url:
        settings = fast_settings(home, url, data={"customers": 1500})
        upgrade(url)
        days = [START + timedelta(days=i) for i in range(DAYS)]
        generator = Generator(settings.data.seed, settings.data.customers)
        ingest_days(url, generator, days, settings.data.label_delay_days, lambda _: "stable", "gen")
        promotion.promote(settings, train(settings, LAST - timedelta(days=10)).version, "t", True)
        for day in days[-10:]:
            log_traffic(settings, day)
        yield {
            "MLOPS_HOME": str(home),
            "AIRFLOW_CONN_MLOPS_STORE": url,
            "MLOPS_AIRFLOW_CONN_ID": "mlops_store",
            "MLFLOW_TRACKING_URI": settings.store.tracking_uri,
            "MLOPS_CUSTOMERS": "1500",
            **RULES,
        }


def monitor(day: date) -> tuple[dict[str, tuple[str, int]], dict[str, object]]:
    """Run the DAG for `day`: its tasks' states and the decision it stored."""
    state, tasks = run_dag_tasks("monitoring", day)
    assert state == "success", tasks
    return tasks, stored_decision(day)


def stored_decision(day: date) -> dict[str, object]:
    import os

    with connect(os.environ["AIRFLOW_CONN_MLOPS_STORE"]) as conn:
        [decision] = repository.read_decisions(conn, day, day + timedelta(days=1))
    return decision


def training_runs() -> dict[str, dict[str, object]]:
    """The training runs the monitoring DAG triggered (other tests may have run it too)."""
    runs = dag_runs("continuous_training")
    return {str(r["run_id"]): r for r in runs if str(r["run_id"]).startswith("monitoring__")}


def test_training_is_triggered_exactly_when_the_rule_fires(
    airflow_db: None, store: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(store, monkeypatch)
    quiet_day, alarm_day = LAST, LAST - timedelta(days=1)

    # A stable day: the rule holds, nothing is triggered.
    tasks, decision = monitor(quiet_day)
    assert decision["retrain"] is False
    assert decision["status"] == "ok", decision["reasons"]
    assert tasks["no_retrain"][0] == "success"
    assert tasks["retrain"][0] == "skipped"
    assert training_runs() == {}

    # The same kind of day under a floor the champion cannot reach: a performance alarm.
    monkeypatch.setenv("MLOPS_MONITOR_MIN_MACRO_F1", "0.99")
    tasks, decision = monitor(alarm_day)
    assert decision["retrain"] is True
    assert tasks["retrain"][0] == "success"
    assert tasks["no_retrain"][0] == "skipped"
    runs = training_runs()
    assert list(runs) == [f"monitoring__{alarm_day}"]
    run = runs[f"monitoring__{alarm_day}"]
    assert run["logical_date"].date() == alarm_day  # type: ignore[attr-defined]
    assert "below the floor 0.99" in str(run["note"])
    assert str(run["note"]).startswith(f"monitoring of {alarm_day} (retrain)")

    # A re-run of that day decides the same but does not train twice.
    tasks, decision = monitor(alarm_day)
    assert decision["retrain"] is True
    assert tasks["retrain"][0] == "skipped"
    assert list(training_runs()) == [f"monitoring__{alarm_day}"]

    # The next day still alarms, but within the cooldown: recorded, not triggered.
    tasks, decision = monitor(quiet_day)
    assert decision["status"] == "cooldown"
    assert decision["retrain"] is False
    assert tasks["retrain"][0] == "skipped"
    assert list(training_runs()) == [f"monitoring__{alarm_day}"]
