"""Real Airflow processes (`mlops airflow standalone`) with their metadata on PostgreSQL: a run
triggered through the REST API ingests a day, and the asset it updates schedules training."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from advanced_mlops import mlflow_io
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from tests.conftest import fast_settings, mariadb_database
from tests.dags.conftest import DAGS

pytestmark = pytest.mark.slow

POSTGRES_SERVER = os.environ.get(
    "MLOPS_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432"
)
# The day the REST call ingests. The 40 days before it and 2 after it are already stored, so
# the training run can only pick DAY from the asset event (the newest stored day is DAY + 2).
DAY = date(2025, 2, 10)
SMALL_TRAINING = {
    "MLOPS_CUSTOMERS": "900",
    "MLOPS_MAX_ITERATIONS": "120",
    "MLOPS_EARLY_STOPPING_ROUNDS": "20",
    "MLOPS_GATE_MIN_MACRO_F1": "0.3",
    "MLOPS_GATE_MIN_CLASS_RECALL": "0.1",
}


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def airflow(tmp_path: Path, postgres_url: str) -> Iterator[dict[str, Any]]:
    """`mlops airflow standalone` on a free port, a MariaDB store with 42 days around DAY, and an
    API token."""
    with mariadb_database() as store_url:
        upgrade(store_url)
        days = [DAY + timedelta(days=i) for i in (*range(-40, 0), 1, 2)]
        ingest_days(store_url, Generator(customers=900), days, 7, lambda _: "stable", "test")
        port = free_port()
        env = {
            **os.environ,
            **SMALL_TRAINING,
            "MLOPS_HOME": str(tmp_path),
            "MLOPS_DB_URL": store_url,
            "MLOPS_AIRFLOW_METADATA_URL": postgres_url,
            # The schedule holds DAY alone, and the REST call below creates its run first: the
            # scheduler then has nothing of its own to add.
            "MLOPS_DAGS_START": DAY.isoformat(),
            "MLOPS_DAGS_END": DAY.isoformat(),
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        }
        mlops = Path(sys.executable).parent / "mlops"
        log = (tmp_path / "standalone.log").open("w")
        process = subprocess.Popen(
            [str(mlops), "airflow", "standalone", "--port", str(port), "--dags", str(DAGS)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            wait_until_healthy(api, process, tmp_path / "standalone.log")
            password_file = tmp_path / "airflow" / "simple_auth_manager_passwords.json.generated"
            password = httpx.Response(200, content=password_file.read_bytes()).json()["admin"]
            token = api.post("/auth/token", json={"username": "admin", "password": password})
            api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            yield {"api": api, "store_url": store_url, "home": tmp_path, "log": log.name}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()


def wait_until_healthy(
    api: httpx.Client, process: subprocess.Popen[bytes], log: Path, seconds: float = 180
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, f"standalone exited: {log.read_text()[-3000:]}"
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


def test_rest_triggered_ingestion_schedules_training_through_the_asset(
    airflow: dict[str, Any],
) -> None:
    api: httpx.Client = airflow["api"]
    unpause = {"is_paused": False}
    assert api.patch("/api/v2/dags/continuous_training", json=unpause).status_code == 200
    trigger = api.post(
        "/api/v2/dags/feature_ingestion/dagRuns", json={"logical_date": f"{DAY}T00:00:00Z"}
    )
    assert trigger.status_code == 200, trigger.text
    assert api.patch("/api/v2/dags/feature_ingestion", json=unpause).status_code == 200

    ingestion = wait_for_run(api, "feature_ingestion", timeout=240)
    assert ingestion["state"] == "success", Path(airflow["log"]).read_text()[-3000:]
    training = wait_for_run(api, "continuous_training", timeout=300)
    assert training["run_type"] == "asset_triggered"
    assert training["state"] == "success"
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
        (
            e["uri"],
            e["source_dag_id"],
            e["extra"]["day"],
            [r["run_id"] for r in e["created_dagruns"]],
        )
        for e in events["asset_events"]
        if e["source_dag_id"] == "feature_ingestion"
    ]
    assert announced == [
        ("mlops://feature_store/features", "feature_ingestion", DAY.isoformat(), [run_id])
    ]
    champion = [
        (e["uri"], e["source_task_id"], e["source_run_id"])
        for e in events["asset_events"]
        if e["source_dag_id"] == "continuous_training"
    ]
    assert champion == [("mlops://registry/credit_score_classifier/champion", "promote", run_id)]

    with connect(airflow["store_url"]) as conn:
        assert repository.day_counts(conn, DAY)["features"] > 0
        assert [h["event"] for h in repository.read_history(conn, "credit_score_classifier")] == [
            "gate",
            "promote",
        ]
    settings = fast_settings(airflow["home"], airflow["store_url"])
    assert mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == "1"
