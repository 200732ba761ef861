"""`mlops loadtest`: locust, headless, bounded in users and time, reports kept under MLOPS_HOME."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from advanced_mlops.errors import MlopsError
from advanced_mlops.serving.sample_requests import sample_requests
from advanced_mlops.settings import Settings

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
COLUMNS = ["Name", "Request Count", "Failure Count", "Requests/s", "50%", "95%", "99%"]


@dataclass(frozen=True)
class LoadtestResult:
    report_dir: Path
    rows: list[dict[str, Any]]
    columns: list[str]
    failures: int


def run_loadtest(
    settings: Settings, users: int, duration: int, host: str, wait: str
) -> LoadtestResult:
    if not re.fullmatch(r"\d+(\.\d+)?-\d+(\.\d+)?", wait):
        raise MlopsError(f"--wait: {wait!r} is not MIN-MAX seconds (e.g. 1-5)")
    if not host.startswith(("http://127.0.0.1", "http://localhost")):
        raise MlopsError(f"--host: load tests only target this machine, not {host}")
    out = settings.store.home.resolve() / "loadtest" / datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{duration}s",
        "--host", host, "--csv", str(out / "stats"), "--html", str(out / "report.html"),
        "--only-summary", "--stop-timeout", "10",
    ]  # fmt: skip
    records = out / "records.json"
    records.write_text(json.dumps(sample_requests(500)))
    env = {**os.environ, "MLOPS_LOADTEST_WAIT": wait, "MLOPS_LOADTEST_RECORDS": str(records)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    stats = out / "stats_stats.csv"
    if not stats.exists():
        raise MlopsError(f"locust did not run: {(done.stderr or done.stdout).strip()[-300:]}")
    with stats.open() as handle:
        rows = [{c: _short(row.get(c, "")) for c in COLUMNS} for row in csv.DictReader(handle)]
    total = next((r for r in rows if r["Name"] == "Aggregated"), rows[-1])
    if int(total["Request Count"] or 0) == 0:
        said = (done.stderr or done.stdout).strip()[-300:]
        raise MlopsError(
            f"no request completed against {host} in {duration} s; is it serving? locust: {said}"
        )
    return LoadtestResult(out, rows, COLUMNS, int(total["Failure Count"] or 0))


def _short(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        return value
    return f"{number:.1f}" if not number.is_integer() else str(int(number))
