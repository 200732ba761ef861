"""The steps of the DAGs. Each takes the logical date (or a version) and returns something small
enough for an XCom. Heavy imports stay inside the functions so that DAG files parse fast."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advanced_mlops.settings import Settings

log = logging.getLogger("advanced_mlops.dags")


def task_settings() -> Settings:
    """Settings inside a task: the store comes from the Airflow connection when one is named."""
    from advanced_mlops.orchestration.connections import store_url_from_airflow
    from advanced_mlops.settings import load_settings

    settings = load_settings()
    if settings.airflow_conn_id:
        url = store_url_from_airflow(settings.airflow_conn_id)
        settings = settings.model_copy(update={"db_url": url})
    return settings


@contextmanager
def fail_fast_on_bad_data() -> Iterator[None]:
    """A broken contract fails the task at once: retrying the same data cannot help."""
    from advanced_mlops.errors import ContractError

    try:
        yield
    except ContractError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc


def check_raw_contract(day: str) -> int:
    """Fail the run when the day's raw batch breaks its contract; nothing is written."""
    from advanced_mlops.data.ingest import check_raw_batch
    from advanced_mlops.data.sources import source_from_settings

    logical_date = date.fromisoformat(day)
    raw = source_from_settings(task_settings()).batch(logical_date)
    with fail_fast_on_bad_data():
        check_raw_batch(raw, logical_date)
    return len(raw)


def ingest(day: str) -> dict[str, int]:
    """Replace the day in the feature store (idempotent for the logical date)."""
    from advanced_mlops.data.ingest import ingest_days
    from advanced_mlops.data.sources import scenario_of, source_from_settings

    settings = task_settings()
    source = source_from_settings(settings)
    with fail_fast_on_bad_data():
        [result] = ingest_days(
            settings.store_url, source, [date.fromisoformat(day)], settings.label_delay_days,
            scenario_of(source), "airflow",
        )  # fmt: skip
    return {"features": result.feature_rows, "labels": result.label_rows}


def resolve_base_date(logical_day: str | None, triggering_asset_events: Any = None) -> str:
    """The day to train for: the logical date of a scheduled or manual run; for a run scheduled
    by the feature-store asset (which has none), the newest day its events announce, else the
    newest day in the store."""
    from advanced_mlops.store import repository
    from advanced_mlops.store.engine import connect

    if logical_day and logical_day != "None":
        return logical_day
    announced = [
        str(event.extra["day"])
        for events in (triggering_asset_events or {}).values()
        for event in events
        if (event.extra or {}).get("day")
    ]
    if announced:
        return max(announced)
    with connect(task_settings().store_url) as conn:
        newest = repository.latest_ingested_day(conn)
    if newest is None:
        from advanced_mlops.errors import MlopsError

        raise MlopsError("no logical date and nothing ingested yet: nothing to train on")
    return newest.isoformat()


def build_snapshot(day: str) -> int:
    """Store the point-in-time snapshot of the logical date, refused if it breaks its contract."""
    from advanced_mlops.training.job import build_snapshot as build

    with fail_fast_on_bad_data():
        return len(build(task_settings(), date.fromisoformat(day)))


def train_model(day: str) -> str:
    """Train on the snapshot stored for the logical date; returns the new registered version."""
    from advanced_mlops.training.job import stored_snapshot, train

    settings = task_settings()
    base_date = date.fromisoformat(day)
    result = train(settings, base_date, snapshot=stored_snapshot(settings, base_date))
    log.info("trained v%s: holdout macro-F1 %.4f", result.version, result.metrics["macro_f1"])
    return result.version


def gate_model(version: str, day: str) -> dict[str, Any]:
    """Judge the challenger on the logical date's newest holdout; the verdict says why."""
    from advanced_mlops.registry.promotion import gate

    result = gate(task_settings(), version, date.fromisoformat(day))
    log.info("gate v%s vs champion v%s: %s", version, result.champion, result.verdict)
    return {"version": version, "passed": result.passed, "verdict": result.verdict}


def choose_branch(verdict: dict[str, Any]) -> str:
    """The branch to follow after the gate, logged with the reason."""
    branch = "promote" if verdict["passed"] else "keep_champion"
    log.info("%s v%s: %s", branch, verdict["version"], verdict["verdict"])
    return branch


def promote_model(version: str) -> str:
    from advanced_mlops.registry.promotion import promote

    promote(task_settings(), version, reason="airflow: passed the gate")
    return version


def keep_champion(version: str, verdict: str) -> str | None:
    """A refusal is not a failure: say which champion stays and why."""
    from advanced_mlops.registry import mlflow_io

    champion = mlflow_io.alias_version(task_settings(), mlflow_io.CHAMPION)
    log.info("kept champion v%s: challenger v%s %s", champion, version, verdict)
    return champion


NOTE_LIMIT = 1000  # characters Airflow keeps of a run's note


def monitor(day: str) -> dict[str, Any]:
    """Monitor the logical date's predictions; the decision, its reasons and a run note."""
    from advanced_mlops.monitoring.job import monitor_day

    result = monitor_day(task_settings(), date.fromisoformat(day))
    decision = result.decision
    for reason in decision.reasons:
        log.info("monitoring %s: %s", day, reason)
    note = f"monitoring of {day} ({decision.status}): " + "; ".join(decision.reasons)
    return {
        "day": day,
        "status": decision.status,
        "retrain": decision.retrain,
        "reasons": decision.reasons,
        "note": note if len(note) <= NOTE_LIMIT else note[: NOTE_LIMIT - 1] + "…",
    }


def choose_retraining(result: dict[str, Any]) -> str:
    """`retrain` when the rule fired, else `no_retrain`; the log says which and why."""
    branch = "retrain" if result["retrain"] else "no_retrain"
    log.info("%s: %s", branch, result["note"])
    return branch
