"""`mlops airflow standalone`, the one-command Airflow of the getting-started guide, on its real
processes with the metadata on PostgreSQL: it becomes healthy, its generated admin password logs
in, and the REST API lists every DAG of the repository, none paused by an import error. (The loop
itself runs on the scaled-out executor in `test_end_to_end.py`; the DAGs' runs in-process in
`test_runs.py`.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import DAGS, free_port
from tests.dags.conftest import DAY, Processes, wait_until_healthy

pytestmark = pytest.mark.slow


def test_standalone_starts_logs_in_and_lists_every_dag(tmp_path: Path, postgres_url: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MLOPS_HOME": str(tmp_path),
        "MLOPS_DB_URL": f"sqlite:///{tmp_path / 'store.db'}",  # no task runs here
        "MLOPS_AIRFLOW_METADATA_URL": postgres_url,
        "MLOPS_DAGS_START": DAY.isoformat(),
        "MLOPS_DAGS_END": DAY.isoformat(),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    mlops = str(Path(sys.executable).parent / "mlops")
    processes = Processes(tmp_path)
    try:
        command = [mlops, "airflow", "standalone", "--port", str(port), "--dags", str(DAGS)]
        processes.start("standalone", command, env)
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        log = tmp_path / "standalone.log"
        wait_until_healthy(api, processes.running["standalone"], log)
        assert api.get("/api/v2/dags").status_code == 401  # no token, no answer

        passwords = tmp_path / "airflow" / "simple_auth_manager_passwords.json.generated"
        password = httpx.Response(200, content=passwords.read_bytes()).json()["admin"]
        token = api.post("/auth/token", json={"username": "admin", "password": password})
        assert token.status_code in (200, 201), token.text
        api.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        wrong = httpx.post(
            f"http://127.0.0.1:{port}/auth/token",
            json={"username": "admin", "password": password + "x"},
        )
        assert wrong.status_code == 401

        listed = api.get("/api/v2/dags").json()["dags"]
        assert {d["dag_id"] for d in listed} == {p.stem for p in DAGS.glob("*.py")}
        errors = api.get("/api/v2/importErrors").json()
        assert errors["total_entries"] == 0, errors
    finally:
        processes.stop()
