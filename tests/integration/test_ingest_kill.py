"""`mlops ingest` killed (SIGKILL) while it writes: each day is in the store whole or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, select

from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.store.repository import day_counts
from advanced_mlops.store.tables import ingestions

FIRST = date(2025, 3, 1)
DAYS = 8


def stored_days(url: str) -> dict[date, dict[str, int]]:
    with connect(url) as conn:
        days = conn.scalars(select(ingestions.c.date)).all()
        return {day: day_counts(conn, day) for day in days}


def ingest(env: dict[str, str]) -> subprocess.Popen[bytes]:
    argv = [str(Path(sys.executable).with_name("mlops")), "ingest", "--date", str(FIRST),
            "--days", str(DAYS)]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_killed_ingestion_leaves_each_day_whole_or_absent(
    mariadb_url: str, tmp_path: Path
) -> None:
    upgrade(mariadb_url)
    env = {**os.environ, "MLOPS_HOME": str(tmp_path), "MLOPS_DB_URL": mariadb_url,
           "MLOPS_CUSTOMERS": "3000", "MLOPS_LABEL_DELAY_DAYS": "0"}  # fmt: skip
    run = ingest(env)
    deadline = time.monotonic() + 300
    with connect(mariadb_url) as conn:
        while time.monotonic() < deadline and run.poll() is None:
            conn.rollback()  # a fresh snapshot each time
            if conn.scalar(select(func.count()).select_from(ingestions)):
                break  # the first day committed: the next is being written
            time.sleep(0.02)
    assert run.poll() is None, run.stderr.read() if run.stderr else ""
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=10)
    after_kill = stored_days(mariadb_url)
    assert 1 <= len(after_kill) < DAYS  # killed in the middle of the run

    finished = ingest(env)  # the same run again, to the end: the reference for each day
    assert finished.wait(timeout=600) == 0
    complete = stored_days(mariadb_url)
    assert set(complete) == {FIRST + timedelta(days=i) for i in range(DAYS)}
    for day, counts in after_kill.items():
        assert counts == complete[day], day  # whole, not half-written
        assert counts["features"] > 0
