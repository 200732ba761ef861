"""Shared fixtures: isolated settings, a real MariaDB database per test, small fast data."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.settings import GROUPS, Settings

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

# One Airflow home per test process, set before any test module imports Airflow (whose settings
# are read once, at first import): tests/code imports task helpers, tests/dags runs the DAGs.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-tests-"))
DAGS = Path(__file__).resolve().parents[1] / "dags"
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    }
)

MARIADB_SERVER = os.environ.get("MLOPS_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")
START = date(2025, 1, 1)
SMALL: dict[str, dict[str, object]] = {
    "data": {"customers": 600},
    "training": {"max_iterations": 120, "early_stopping_rounds": 20},
    # Latency has tests of its own: on 2 shared cores, a p95 over 50 ms is the machine.
    "gate": {"max_latency_ms": 2000.0},
}


@pytest.fixture(autouse=True)
def _no_tracking_uri_from_earlier_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """`mlflow.set_tracking_uri` also exports MLFLOW_TRACKING_URI, which Settings reads: without
    this, one test's MLflow store would become the next test's default."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def fast_settings(home: Path, db_url: str | None = None, **groups: dict[str, object]) -> Settings:
    """Settings for tests: a small population and short training, everything under `home`.

    `groups` override fields of a group, e.g. `data={"customers": 900}`."""
    # MLflow's own store in `home` unless told otherwise: never one left in the environment by
    # an earlier test (mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI).
    store: dict[str, object] = {
        "home": home,
        "mlflow_tracking_uri": f"sqlite:///{home / 'mlflow.db'}",
        **({"db_url": db_url} if db_url else {}),
        **groups.pop("store", {}),
    }
    values = {**SMALL, "store": store}
    for name, fields in groups.items():
        values[name] = {**values.get(name, {}), **fields}
    return Settings(**{name: GROUPS[name](**fields) for name, fields in values.items()})


@contextmanager
def mariadb_database(server_url: str = MARIADB_SERVER) -> Iterator[str]:
    """A database of its own on the real MariaDB server, dropped afterwards. Never skipped."""
    name = f"mlops_test_{uuid.uuid4().hex[:10]}"
    server = create_engine(server_url, connect_args={"connect_timeout": 5})
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield f"{server_url}/{name}?charset=utf8mb4"
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the OS picks it)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    with mariadb_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture(params=["sqlite", "mariadb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test once on SQLite and once on MariaDB: one code path for both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("mariadb_url"))


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> Settings:
    return fast_settings(tmp_path / "home", store_url)


@pytest.fixture(scope="session")
def clean_days() -> pd.DataFrame:
    """60 cleaned stable days of the small population, labelled on their own date."""
    generator = Generator(customers=1500)
    frames = [clean_batch(generator.batch(START + timedelta(days=i))) for i in range(60)]
    frame = pd.concat(frames, ignore_index=True).dropna(subset=["credit_score"])
    return frame.rename(columns={"date": "label_date"}).assign(
        feature_date=lambda f: f["label_date"]
    )


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real HTTP server on localhost that keeps the JSON bodies posted to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()
