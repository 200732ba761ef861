"""Airflow 3 on this machine: the environment that points it at this project, then `standalone`.

Everything is configured through Airflow's own environment variables, so the same DAGs run
unchanged in the compose stack, where those variables come from `.env`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings

STORE_CONN_ID = "mlops_store"


def airflow_environment(
    settings: Settings, dags_folder: Path, port: int, base: dict[str, str]
) -> dict[str, str]:
    """`base` plus what Airflow needs to run this project's DAGs against this project's stores.

    Airflow's metadata goes to MLOPS_AIRFLOW_METADATA_URL (PostgreSQL) or else SQLite under
    MLOPS_HOME; the feature store is handed over as the Airflow connection `mlops_store`.
    """
    home = (settings.store.home / "airflow").resolve()
    metadata = settings.airflow.metadata_url or f"sqlite:///{home / 'airflow.db'}"
    python_bin = str(Path(sys.executable).parent)
    return {
        **celery_environment(settings.airflow.celery_broker_url, settings.airflow.metadata_url),
        **base,
        "PATH": f"{python_bin}{os.pathsep}{base.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder.resolve()),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__PARALLELISM": base.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        f"AIRFLOW_CONN_{STORE_CONN_ID.upper()}": settings.store.url,
        "MLOPS_AIRFLOW_CONN_ID": STORE_CONN_ID,
        "MLOPS_HOME": str(settings.store.home.resolve()),
        "MLFLOW_TRACKING_URI": settings.store.tracking_uri,
        "GX_ANALYTICS_ENABLED": "false",
    }


def celery_environment(broker_url: str | None, metadata_url: str | None) -> dict[str, str]:
    """The CeleryExecutor's variables when a broker is set (else none: LocalExecutor).

    Task results go to the metadata database (`db+` SQLAlchemy URL), so no second store is
    needed; SQLite cannot be shared by workers, hence PostgreSQL is required."""
    if not broker_url:
        return {}
    if not metadata_url or metadata_url.startswith("sqlite"):
        raise MlopsError(
            "MLOPS_AIRFLOW_CELERY_BROKER_URL needs MLOPS_AIRFLOW_METADATA_URL (PostgreSQL): "
            "Celery workers cannot share a SQLite metadata database"
        )
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_url}",
    }


def dags_folder(path: Path | None) -> Path:
    """The DAG folder given, or `./dags` (the repository's), checked to hold DAG files."""
    folder = path or Path.cwd() / "dags"
    if not folder.is_dir() or not any(folder.glob("*.py")):
        raise MlopsError(f"--dags: no DAG files in {folder} (run from the repository or pass it)")
    return folder


def airflow_executable(env: dict[str, str]) -> str:
    found = shutil.which("airflow", path=env["PATH"])
    if found is None:
        raise MlopsError("airflow is not installed here: run `uv sync --extra airflow` first")
    return found
