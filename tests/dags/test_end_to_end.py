"""The platform's loop on Airflow's real processes, scaled out as production runs it: API server,
scheduler and DAG processor with the CeleryExecutor on the real Redis (a database number of its
own), the metadata on PostgreSQL, and two Celery workers started the way a user starts them,
`mlops airflow worker`. A run triggered through the REST API ingests a day; the asset it updates
schedules training, which gates and promotes a champion; both workers executed tasks (each
worker's own log names what it ran)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from advanced_mlops import mlflow_io
from advanced_mlops.orchestration.local import airflow_environment
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect
from tests.conftest import DAGS, fast_settings, free_port
from tests.dags.conftest import (
    DAY,
    SMALL_TRAINING,
    Processes,
    seeded_store,
    wait_for_run,
    wait_until_healthy,
)

pytestmark = pytest.mark.slow

# Redis database 13 of the server tests use: flushed before and after, never another database.
REDIS_URL = os.environ.get("MLOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
EXECUTED = re.compile(r"Executing workload in Celery: .*?task_id='(\w+)'")
WORKERS = ("worker-1", "worker-2")


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


@pytest.fixture
def celery_airflow(tmp_path: Path, postgres_url: str, broker_url: str) -> Iterator[dict[str, Any]]:
    """API server, scheduler and DAG processor with the CeleryExecutor, and two workers."""
    with seeded_store() as store_url:
        port = free_port()
        mlops_env = {
            **SMALL_TRAINING,
            "MLOPS_HOME": str(tmp_path),
            "MLOPS_DB_URL": store_url,
            "MLOPS_AIRFLOW_METADATA_URL": postgres_url,
            "MLOPS_AIRFLOW_CELERY_BROKER_URL": broker_url,
            # The schedule holds DAY alone, and the REST call below creates its run first: the
            # scheduler then has nothing of its own to add.
            "MLOPS_DAGS_START": DAY.isoformat(),
            "MLOPS_DAGS_END": DAY.isoformat(),
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
        base = {
            **os.environ,
            **mlops_env,
            # A test's stack: every request is the admin's, no login (`test_standalone.py`
            # logs in with the generated password).
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
            for name in WORKERS:  # as a user starts them: from MLOPS_* only
                command = [mlops, "airflow", "worker", "--name", name, "--concurrency", "1"]
                # Each worker serves its tasks' logs on a port of its own (one host here).
                own = {**base, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
                processes.start(name, [*command, "--port", str(port), "--dags", str(DAGS)], own)
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
            # Five processes starting at once on two cores: more time than standalone's.
            api_server, scheduler_log = processes.running["api-server"], tmp_path / "scheduler.log"
            wait_until_healthy(api, api_server, scheduler_log, seconds=420)
            yield {"api": api, "processes": processes, "store_url": store_url, "home": tmp_path}
        finally:
            processes.stop()


def test_rest_triggered_ingestion_trains_and_promotes_on_two_celery_workers(
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

    ingestion = wait_for_run(api, "feature_ingestion", timeout=300)
    assert ingestion["state"] == "success", processes.tails("scheduler", *WORKERS)
    training = wait_for_run(api, "continuous_training", timeout=420)
    assert training["run_type"] == "asset_triggered"
    assert training["state"] == "success", processes.tails("scheduler", *WORKERS)
    run_id = training["dag_run_id"]
    base_date = api.get(
        f"/api/v2/dags/continuous_training/dagRuns/{run_id}/taskInstances/base_date"
        "/xcomEntries/return_value"
    )
    assert base_date.json()["value"] == DAY.isoformat()  # from the event, not the newest day

    # The feature-store event (which names its day) created the training run; the promotion
    # emitted the champion asset.
    events = api.get("/api/v2/assets/events", params={"order_by": "timestamp"}).json()
    announced = [
        (e["uri"], e["extra"]["day"], [r["run_id"] for r in e["created_dagruns"]])
        for e in events["asset_events"]
        if e["source_dag_id"] == "feature_ingestion"
    ]
    assert announced == [("mlops://feature_store/features", DAY.isoformat(), [run_id])]
    champion = [
        (e["uri"], e["source_task_id"], e["source_run_id"])
        for e in events["asset_events"]
        if e["source_dag_id"] == "continuous_training"
    ]
    assert champion == [("mlops://registry/credit_score_classifier/champion", "promote", run_id)]

    with connect(celery_airflow["store_url"]) as conn:
        assert repository.day_counts(conn, DAY)["features"] > 0
        assert [h["event"] for h in repository.read_history(conn, "credit_score_classifier")] == [
            "gate",
            "promote",
        ]
    settings = fast_settings(celery_airflow["home"], celery_airflow["store_url"])
    assert mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == "1"

    # Every task ran on a Celery worker, and both workers had some.
    ran = {name: EXECUTED.findall(processes.log(name)) for name in WORKERS}
    assert all(ran.values()), ran
    tasks = api.get("/api/v2/dags/~/dagRuns/~/taskInstances").json()["task_instances"]
    succeeded = sorted(t["task_id"] for t in tasks if t["state"] == "success")
    assert set(succeeded) <= set(ran["worker-1"] + ran["worker-2"])
    assert {t.get("executor") or "CeleryExecutor" for t in tasks} == {"CeleryExecutor"}
