"""DAG integrity: the files import fast and clean, and every task is owned, tagged and retried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dags.conftest import DAGS

FILES = sorted(DAGS.glob("*.py"))


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors_and_both_dags(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"feature_ingestion", "continuous_training", "monitoring"}


def test_no_dag_has_a_cycle(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag in dagbag.dags.values():
        dag.check_cycle()  # raises AirflowDagCycleException on a cycle


def test_every_task_has_owner_retries_callback_and_the_dag_tags(dagbag) -> None:  # type: ignore[no-untyped-def]
    from advanced_mlops.orchestration.defaults import on_failure

    for dag in dagbag.dags.values():
        assert "mlops" in dag.tags
        for task in dag.tasks:
            assert task.owner == "mlops", task.task_id
            assert task.retries >= 1, task.task_id
            assert task.retry_exponential_backoff >= 2, task.task_id  # the delay grows
            callbacks = task.on_failure_callback
            assert on_failure in (callbacks if isinstance(callbacks, list) else [callbacks])


def test_training_branches_to_promote_or_keep(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["continuous_training"]
    assert dag.task_dict["decide"].downstream_task_ids == {"promote", "keep_champion"}
    assert dag.task_dict["base_date"].downstream_task_ids == {"snapshot"}
    assert dag.task_dict["snapshot"].downstream_task_ids == {"train", "gate"}
    assert dag.task_dict["train"].downstream_task_ids == {"gate"}
    assert dag.task_dict["gate"].downstream_task_ids == {"decide", "promote", "keep_champion"}
    ingestion = dagbag.dags["feature_ingestion"]
    assert ingestion.task_dict["check_contract"].downstream_task_ids == {"ingest"}


def test_monitoring_branches_to_a_training_trigger(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["monitoring"]
    assert dag.task_dict["monitor"].downstream_task_ids == {"decide", "no_retrain"}
    assert dag.task_dict["decide"].downstream_task_ids == {"retrain", "no_retrain"}
    retrain = dag.task_dict["retrain"]
    assert retrain.trigger_dag_id == "continuous_training"
    assert retrain.skip_when_already_exists  # a re-run of a day never trains twice
    assert "note" in retrain.template_fields


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_dag_file_parses_in_under_a_second(path: Path) -> None:
    """Heavy imports live inside tasks: by Airflow's own per-file statistic, a file parses in
    well under a second and pulls in none of pandas, MLflow, CatBoost, GX, sklearn, BentoML."""
    from advanced_mlops.orchestration.parse_time import parse_dag_file

    stat = parse_dag_file(path, {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "false"})
    assert stat.errors == {}
    assert len(stat.dags) == 1
    assert stat.heavy == []
    assert stat.seconds < 1.0


def test_ingestion_of_a_day_runs_once_the_day_is_over(dagbag) -> None:  # type: ignore[no-untyped-def]
    """Catch-up from the start date: the run for day D has logical date D and starts at D+1."""
    from datetime import timedelta

    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    from advanced_mlops.orchestration.defaults import START_DATE

    timetable = coerce_to_core_timetable(dagbag.dags["feature_ingestion"].timetable)
    first = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=START_DATE, latest=None, catchup=True),
    )
    assert first.logical_date == START_DATE
    assert first.run_after == START_DATE + timedelta(days=1)
