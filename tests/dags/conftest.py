"""One Airflow home for the whole test session, set before Airflow is first imported."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-tests-"))
DAGS = Path(__file__).resolve().parents[2] / "dags"
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
    }
)
