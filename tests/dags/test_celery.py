"""Scale-out for real: Airflow's CeleryExecutor on the real Redis (a database number of its own),
its metadata on PostgreSQL, and two Celery workers started by the test with `mlops airflow
worker`. A REST-triggered ingestion run and the training run its asset schedules both succeed,
and their tasks were executed by both workers (each worker's own log names what it ran)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.orchestration.local import airflow_environment
from advanced_mlops.store.engine import upgrade
from tests.conftest import fast_settings, mariadb_database
from tests.dags.conftest import DAGS
from tests.dags.test_end_to_end import (
    DAY,
    SMALL_TRAINING,
    free_port,
    postgres_url,
    wait_for_run,
    wait_until_healthy,
)

pytestmark = pytest.mark.slow
__all__ = ["postgres_url"]  # the fixture, used below by name

# Redis database 13 of the server tests use: flushed before and after, never another database.
REDIS_URL = os.environ.get("MLOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
EXECUTED = re.compile(r"Executing workload in Celery: .*?task_id='(\w+)'")


@pytest.fixture
def broker_url() -> Iterator[str]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


class Processes:
    """Long-running processes, each in a session of its own with its log file; all stopped."""

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

    def stop(self) -> None:
        for process in self.running.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def celery_airflow(tmp_path: Path, postgres_url: str, broker_url: str) -> Iterator[dict[str, Any]]:
    """API server, scheduler and DAG processor with the CeleryExecutor, and two workers."""
    with mariadb_database() as store_url:
        upgrade(store_url)
        days = [DAY + timedelta(days=i) for i in (*range(-40, 0), 1, 2)]
        ingest_days(store_url, Generator(customers=900), days, 7, lambda _: "stable", "test")
        port = free_port()
        mlops_env = {
            **SMALL_TRAINING,
            "MLOPS_HOME": str(tmp_path),
            "MLOPS_DB_URL": store_url,
            "MLOPS_AIRFLOW_METADATA_URL": postgres_url,
            "MLOPS_AIRFLOW_CELERY_BROKER_URL": broker_url,
            "MLOPS_DAGS_START": DAY.isoformat(),
            "MLOPS_DAGS_END": DAY.isoformat(),
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
        base = {
            **os.environ,
            **mlops_env,
            # A test's stack: every request is the admin's, no login.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "true",
            # One task at a time per worker, none reserved ahead: both workers get work.
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            # A shared 2-core machine: the API server may take longer than the default 5 s to
            # answer a task's Execution API call.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        }
        settings = fast_settings(
            tmp_path, store_url,
            airflow={"metadata_url": postgres_url, "celery_broker_url": broker_url},
        )  # fmt: skip
        env = airflow_environment(settings, DAGS, port, base)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        bin_dir = Path(sys.executable).parent
        airflow, mlops = str(bin_dir / "airflow"), str(bin_dir / "mlops")
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        processes = Processes(tmp_path)
        try:
            processes.start("api-server", [airflow, "api-server", "--port", str(port)], env)
            processes.start("scheduler", [airflow, "scheduler"], env)
            processes.start("dag-processor", [airflow, "dag-processor"], env)
            for name in ("worker-1", "worker-2"):  # as a user starts them: from MLOPS_* only
                command = [mlops, "airflow", "worker", "--name", name, "--concurrency", "1"]
                # Each worker serves its tasks' logs on a port of its own (one host here).
                own = {**base, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
                processes.start(name, [*command, "--port", str(port), "--dags", str(DAGS)], own)
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
            # Five processes starting at once on two cores: more time than standalone's.
            api_server, scheduler_log = processes.running["api-server"], tmp_path / "scheduler.log"
            wait_until_healthy(api, api_server, scheduler_log, seconds=420)
            yield {"api": api, "processes": processes}
        finally:
            processes.stop()


def test_ingestion_and_training_run_on_two_celery_workers(
    celery_airflow: dict[str, Any],
) -> None:
    api: httpx.Client = celery_airflow["api"]
    processes: Processes = celery_airflow["processes"]
    unpause = {"is_paused": False}
    assert api.patch("/api/v2/dags/continuous_training", json=unpause).status_code == 200
    trigger = api.post(
        "/api/v2/dags/feature_ingestion/dagRuns", json={"logical_date": f"{DAY}T00:00:00Z"}
    )
    assert trigger.status_code == 200, trigger.text
    assert api.patch("/api/v2/dags/feature_ingestion", json=unpause).status_code == 200

    logs = lambda: {n: processes.log(n)[-3000:] for n in ("scheduler", "worker-1", "worker-2")}  # noqa: E731
    ingestion = wait_for_run(api, "feature_ingestion", timeout=300)
    assert ingestion["state"] == "success", logs()
    training = wait_for_run(api, "continuous_training", timeout=420)
    assert training["run_type"] == "asset_triggered"
    assert training["state"] == "success", logs()

    ran = {name: EXECUTED.findall(processes.log(name)) for name in ("worker-1", "worker-2")}
    assert all(ran.values()), ran  # both workers executed tasks
    tasks = api.get("/api/v2/dags/~/dagRuns/~/taskInstances").json()["task_instances"]
    succeeded = sorted(t["task_id"] for t in tasks if t["state"] == "success")
    assert set(succeeded) <= set(ran["worker-1"] + ran["worker-2"])  # every one on a worker
    assert {t.get("executor") or "CeleryExecutor" for t in tasks} == {"CeleryExecutor"}
