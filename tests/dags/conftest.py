"""Airflow for the DAG tests: its metadata and `dag.test()` helpers for the in-process tests, and
for the tests that run Airflow's real processes, a seeded store, a PostgreSQL database for the
metadata, the processes themselves and waits on the REST API. The Airflow home itself is set by
the root conftest, before any test module can import Airflow."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.store.engine import upgrade
from tests.conftest import DAGS, mariadb_database

POSTGRES_SERVER = os.environ.get(
    "MLOPS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432"
)
# The day a REST call ingests. The 40 days before it and 2 after it are already stored, so a
# training run can only pick DAY from the asset event (the newest stored day is DAY + 2).
DAY = date(2025, 2, 10)
SMALL_TRAINING = {
    "MLOPS_CUSTOMERS": "900",
    "MLOPS_MAX_ITERATIONS": "120",
    "MLOPS_EARLY_STOPPING_ROUNDS": "20",
    "MLOPS_GATE_MIN_MACRO_F1": "0.3",
    "MLOPS_GATE_MIN_CLASS_RECALL": "0.1",
}


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata (SQLite, in the session's Airflow home) with the DAGs serialized."""
    for command in (["db", "migrate"], ["dags", "reserialize"]):
        subprocess.run([sys.executable, "-m", "airflow", *command], check=True, capture_output=True)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own for Airflow's metadata, dropped afterwards."""
    name = f"airflow_test_{uuid.uuid4().hex[:10]}"
    server = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@contextmanager
def seeded_store() -> Iterator[str]:
    """A MariaDB store of its own holding the 40 days before DAY and the 2 after it."""
    with mariadb_database() as store_url:
        upgrade(store_url)
        days = [DAY + timedelta(days=i) for i in (*range(-40, 0), 1, 2)]
        ingest_days(store_url, Generator(customers=900), days, 7, lambda _: "stable", "test")
        yield store_url


class Processes:
    """Long-running processes, each in a session of its own with its log file; all stopped,
    their whole process trees, however the test ended."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        with (self.folder / f"{name}.log").open("w") as log:
            self.running[name] = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def tails(self, *names: str) -> dict[str, str]:
        """The end of each named log, for an assertion's message."""
        return {name: self.log(name)[-3000:] for name in names}

    def stop(self) -> None:
        for process in self.running.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_until_healthy(
    api: httpx.Client, process: subprocess.Popen[bytes], log: Path, seconds: float = 180
) -> None:
    """Until the scheduler and the DAG processor report healthy and the API answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"Airflow exited: {log.read_text()[-3000:]}"
        try:
            health = api.get("/api/v2/monitor/health").json()
            if all(
                health.get(k, {}).get("status") == "healthy" for k in ("scheduler", "dag_processor")
            ):
                dags = api.get("/api/v2/dags")  # unauthenticated: 401 once the API is up
                if dags.status_code in (200, 401):
                    return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    raise AssertionError(f"Airflow not healthy in {seconds} s: {log.read_text()[-3000:]}")


def wait_for_run(api: httpx.Client, dag_id: str, timeout: float) -> dict[str, Any]:
    """The DAG's first run once it has finished (or an assertion with its task states)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns", params={"order_by": "run_after"})
        runs = runs.json()["dag_runs"]
        if runs and runs[0]["state"] in ("success", "failed"):
            return dict(runs[0])
        time.sleep(3)
    tasks = api.get(f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances").json()
    states = [(t["task_id"], t["state"], t["try_number"]) for t in tasks["task_instances"]]
    raise AssertionError(f"{dag_id} did not finish in {timeout} s: {states}")


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
