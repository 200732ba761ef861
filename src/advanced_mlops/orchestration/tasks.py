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
    if settings.airflow.conn_id:
        url = store_url_from_airflow(settings.airflow.conn_id)
        settings = settings.with_store(db_url=url)
    return settings


@contextmanager
def fail_fast_on_bad_data() -> Iterator[None]:
    """A broken contract fails the task at once: retrying the same data cannot help."""
    from advanced_mlops.contracts.validate import ContractError

    try:
        yield
    except ContractError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(str(exc)) from exc


def logical_day(ds: str | None) -> date:
    """The run's logical date. A run triggered without one (`logical_date: null`) cannot say
    which day it is for: it fails at once with that reason instead of retrying."""
    if not ds or ds == "None":
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            "this run has no logical date: trigger it with one (the day to process)"
        )
    return date.fromisoformat(ds)


def check_raw_contract(day: str | None) -> int:
    """Fail the run when the day's raw batch breaks its contract; nothing is written."""
    from advanced_mlops.data.ingest import check_raw_batch
    from advanced_mlops.data.sources import source_from_settings

    logical_date = logical_day(day)
    raw = source_from_settings(task_settings()).batch(logical_date)
    with fail_fast_on_bad_data():
        check_raw_batch(raw, logical_date)
    return len(raw)


def ingest(day: str | None) -> dict[str, int]:
    """Replace the day in the feature store (idempotent for the logical date)."""
    from advanced_mlops.data.ingest import ingest_days
    from advanced_mlops.data.sources import scenario_of, source_from_settings

    logical_date = logical_day(day)
    settings = task_settings()
    source = source_from_settings(settings)
    with fail_fast_on_bad_data():
        [result] = ingest_days(
            settings.store.url, source, [logical_date], settings.data.label_delay_days,
            scenario_of(source), "airflow",
        )  # fmt: skip
    return {"features": result.feature_rows, "labels": result.label_rows}


def resolve_base_date(ds: str | None, triggering_asset_events: Any = None) -> str:
    """The day to train for. A run scheduled by the feature-store asset has no logical date: the
    newest day its events announce. A run with one (by hand, or from monitoring) trains on it,
    but never past the newest ingested day (a manual run dated today on older data). Without
    either, the newest ingested day."""
    from advanced_mlops.errors import MlopsError
    from advanced_mlops.store import repository
    from advanced_mlops.store.engine import connect

    logical = None if not ds or ds == "None" else date.fromisoformat(ds)
    announced = [
        date.fromisoformat(str(event.extra["day"]))
        for events in (triggering_asset_events or {}).values()
        for event in events
        if (event.extra or {}).get("day")
    ]
    if logical is None and announced:
        return max(announced).isoformat()
    with connect(task_settings().store.url) as conn:
        newest = repository.latest_ingested_day(conn)
    if newest is None:
        raise MlopsError("nothing ingested yet: nothing to train on")
    if logical is None:
        return newest.isoformat()
    if logical > newest:
        log.info("logical date %s is after the newest ingested day: training on %s", ds, newest)
        return newest.isoformat()
    return logical.isoformat()


def build_snapshot(day: str) -> int:
    """Store the point-in-time snapshot of the logical date, refused if it breaks its contract."""
    from advanced_mlops.training.job import build_snapshot as build

    with fail_fast_on_bad_data():
        return len(build(task_settings(), date.fromisoformat(day)))


def train_model(day: str) -> str:
    """Train on the snapshot stored for the logical date; returns the registered version. A re-run
    of the date reuses the version already trained on the same snapshot with the same settings
    (the fit is deterministic), so re-running never piles up identical versions."""
    from advanced_mlops.training.job import stored_snapshot, train, trained_version

    settings = task_settings()
    base_date = date.fromisoformat(day)
    snapshot = stored_snapshot(settings, base_date)
    if version := trained_version(settings, base_date, snapshot):
        log.info("v%s was trained on this snapshot with these settings: reusing it", version)
        return version
    result = train(settings, base_date, snapshot=snapshot)
    log.info("trained v%s: holdout macro-F1 %.4f", result.version, result.metrics["macro_f1"])
    return result.version


ALREADY_CHAMPION = "is the champion already (this date ran before)"


def gate_model(version: str, day: str) -> dict[str, Any]:
    """Judge the challenger on the logical date's newest holdout; the verdict says why."""
    from advanced_mlops import mlflow_io
    from advanced_mlops.registry.promotion import gate

    settings = task_settings()
    if mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == version:
        return {"version": version, "passed": False, "verdict": ALREADY_CHAMPION}
    result = gate(settings, version, date.fromisoformat(day))
    log.info("gate v%s vs champion v%s: %s", version, result.champion, result.verdict)
    return {"version": version, "passed": result.passed, "verdict": result.verdict, "day": day}


def choose_branch(verdict: dict[str, Any]) -> str:
    """The branch to follow after the gate, logged with the reason."""
    branch = "promote" if verdict["passed"] else "keep_champion"
    log.info("%s v%s: %s", branch, verdict["version"], verdict["verdict"])
    return branch


def promote_model(version: str, day: str | None = None) -> str:
    """Promote a version that passed the gate (or, under MLOPS_TRAINING_POLICY=shadow, put it in
    shadow). When the champion moved since that verdict (another run promoted meanwhile), the
    verdict is stale: judge it again against the new champion and promote only if it passes
    that too."""
    from advanced_mlops.registry.promotion import StaleVerdictError, gate, promote
    from advanced_mlops.registry.shadow import shadow_by_policy

    settings = task_settings()
    if line := shadow_by_policy(settings, version, "airflow: passed the gate"):
        log.info(line)
        return line
    try:
        promote(settings, version, reason="airflow: passed the gate")
    except StaleVerdictError as exc:
        log.info("%s: gating again", exc)
        result = gate(settings, version, date.fromisoformat(day) if day else None)
        if not result.passed:
            return keep_champion(version, result.verdict)
        promote(settings, version, reason="airflow: passed the gate again (champion had moved)")
    return version


def keep_champion(version: str, verdict: str) -> str:
    """A refusal is not a failure: say which champion stays and why (in the log and the XCom).
    Under MLOPS_TRAINING_POLICY=shadow, a version refused only on the comparison with the
    champion (every floor passed) goes to shadow: live labels may still prove it better."""
    from advanced_mlops import mlflow_io
    from advanced_mlops.registry.shadow import shadow_by_policy

    settings = task_settings()
    reason = f"airflow: refused on the comparison only ({verdict})"
    if verdict != ALREADY_CHAMPION and (line := shadow_by_policy(settings, version, reason)):
        log.info(line)
        return line
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    line = f"kept champion v{champion}: challenger v{version} {verdict}"
    log.info(line)
    return line


NOTE_LIMIT = 1000  # characters Airflow keeps of a run's note


def monitor(day: str | None) -> dict[str, Any]:
    """Monitor the logical date's predictions; the decision, its reasons and a run note."""
    from advanced_mlops.monitoring.job import monitor_day

    settings = task_settings()
    result = monitor_day(settings, logical_day(day))
    decision = result.decision
    for reason in decision.reasons:
        log.info("monitoring %s: %s", day, reason)
    note = f"monitoring of {day} ({decision.status}): " + "; ".join(decision.reasons)
    if result.shadow is not None:
        log.info("challenger v%s: %s", result.shadow.challenger, result.shadow.reason)
        if result.shadow.action != "wait":
            from advanced_mlops.registry.shadow import settle

            line = settle(settings, result.shadow.action, result.shadow.reason,
                          result.shadow.as_dict())  # fmt: skip
            log.info(line)
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
