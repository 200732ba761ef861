"""Defaults shared by every DAG: owner, retries with backoff, a failure line (and webhook)."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

log = logging.getLogger("advanced_mlops.dags")


def _midnight_utc(variable: str, day: str) -> datetime:
    """Airflow wants aware datetimes; a day in the environment is that day's midnight UTC."""
    try:
        return datetime.combine(date.fromisoformat(day), time(), tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{variable}: {day!r} is not a day (YYYY-MM-DD)") from None


START_DATE = _midnight_utc("MLOPS_DAGS_START", os.environ.get("MLOPS_DAGS_START") or "2025-01-01")
# The last logical date of the daily ingestion; unset, it goes on every day.
END_DATE = (
    _midnight_utc("MLOPS_DAGS_END", end) if (end := os.environ.get("MLOPS_DAGS_END")) else None
)
FEATURE_STORE_URI = "mlops://feature_store/features"
CHAMPION_URI = "mlops://registry/credit_score_classifier/champion"


def on_failure(context: dict[str, Any]) -> None:
    """One clear line in the task log, and a POST to MLOPS_ALERT_WEBHOOK when it is set."""
    ti = context.get("task_instance")
    reason = " ".join(str(context.get("exception")).split())  # one line, even for tracebacks
    # An asset-triggered run has no logical date: its run id says which run failed.
    run = context.get("logical_date") or getattr(ti, "run_id", None) or "?"
    line = f"FAILED {getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')} for {run}: {reason}"
    log.error(line)
    if url := os.environ.get("MLOPS_ALERT_WEBHOOK"):
        request = urllib.request.Request(
            url,
            data=json.dumps({"text": line}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except OSError as exc:
            log.warning("alert webhook failed: %s", exc)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "mlops",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,  # a multiplier since Airflow 3.3: 30 s, 60 s, 120 s ...
    "max_retry_delay": timedelta(minutes=10),
    "on_failure_callback": on_failure,
}


def daily_dag_args() -> dict[str, Any]:
    """The schedule of a daily pipeline: the run for day D starts once D is over and has logical
    date D; it catches up from MLOPS_DAGS_START (to MLOPS_DAGS_END), one run at a time."""
    from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable

    return {
        "schedule": CronDataIntervalTimetable("@daily", timezone="UTC"),
        "start_date": START_DATE,
        "end_date": END_DATE,
        "catchup": True,
        "max_active_runs": 1,
        "default_args": DEFAULT_ARGS,
    }
