"""Airflow's metadata for the DAG tests and the helpers that run a DAG under `dag.test()`. The
Airflow home itself is set by the root conftest, before any test module can import Airflow."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.conftest import DAGS


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata (SQLite, in the session's Airflow home) with the DAGs serialized."""
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([sys.executable, "-m", "airflow", *command], check=True, capture_output=True)


def use_environment(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks read their settings from the environment, as in a real deployment."""
    monkeypatch.delenv("MLOPS_DB_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def run_dag(dag_id: str, day: date) -> str:
    return run_dag_tasks(dag_id, day)[0]


def run_dag_tasks(dag_id: str, day: date) -> tuple[str, dict[str, tuple[str, int]]]:
    """`dag.test()` for the logical date `day`: the run's state and each task's (state, try)."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.session import create_session

    dag = DagBag(dag_folder=str(DAGS)).dags[dag_id]
    run = dag.test(logical_date=datetime(day.year, day.month, day.day, tzinfo=UTC))
    with create_session() as session:
        tasks = {
            ti.task_id: (str(ti.state), ti.try_number)
            for ti in run.get_task_instances(session=session)
        }
    return str(run.state), tasks


def returned(dag_id: str, day: date) -> dict[str, Any]:
    """What each task of the run for `day` returned (its `return_value` XCom)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    [run] = [r for r in dag_runs(dag_id) if r["logical_date"].date() == day]
    with create_session() as session:
        rows = session.scalars(XComModel.get_many(run_id=run["run_id"], key="return_value"))
        return {x.task_id: XComModel.deserialize_value(x) for x in rows if x.dag_id == dag_id}


def dag_runs(dag_id: str) -> list[dict[str, Any]]:
    """Every run of a DAG in the metadata, with its id, type, logical date and note."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return [
            {"run_id": r.run_id, "run_type": str(r.run_type), "logical_date": r.logical_date,
             "note": r.note}
            for r in DagRun.find(dag_id=dag_id, session=session)
        ]  # fmt: skip
