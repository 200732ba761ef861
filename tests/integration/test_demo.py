"""`mlops demo` as a newcomer runs it, on a short calendar: it ends well, with the command that
opens MLflow's UI and the newest report, and nothing but its own lines reaches the terminal
(MLflow's registration chatter, warnings and log lines are muted at their source)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NOISE = ("Successfully registered model", "Created version", "Warning", "WARNING", "INFO")


def test_a_short_demo_tells_its_story_and_prints_nothing_else(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MLOPS_HOME": str(tmp_path),
        "MLOPS_MAX_ITERATIONS": "120",
        "COLUMNS": "120",
    }
    for key in ("MLOPS_DB_URL", "MLFLOW_TRACKING_URI"):
        env.pop(key, None)
    command = [str(Path(sys.executable).parent / "mlops"), "demo", "--history-days", "30"]
    command += ["--stable-days", "1", "--covariate-days", "3", "--concept-days", "1"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for step in ("1. stores", "2. ingest 30 days of history", "3. train, gate and promote",
                 "4. daily operations", "5. the first model", "summary"):  # fmt: skip
        assert step in out, step
    # The covariate drift is caught and a model retrained and gated.
    assert re.search(r"retrained: \d{4}-\d\d-\d\d drift: v2 (shadow|refused)", out), out
    assert "finished in" in out
    assert f"uv run mlflow ui --backend-store-uri sqlite:///{tmp_path}/demo/mlflow.db" in out
    assert (tmp_path / "demo" / "store.db").exists()
    noise = [line for line in (out + done.stderr).splitlines() if line.startswith(NOISE)]
    assert noise == []
    assert done.stderr.strip() == ""
