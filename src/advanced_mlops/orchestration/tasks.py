"""The steps of the ingestion and training DAGs. Each takes the logical date (or a version) and
returns something small enough for an XCom."""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advanced_mlops.settings import Settings

log = logging.getLogger("advanced_mlops.dags")


def _settings() -> Settings:
    from advanced_mlops.settings import load_settings

    return load_settings()


def check_raw_contract(day: str) -> int:
    """Fail the run when the day's raw batch breaks its contract; nothing is written."""
    from advanced_mlops.contracts.suites import SuiteName
    from advanced_mlops.contracts.validate import validate
    from advanced_mlops.data.sources import source_from_settings
    from advanced_mlops.errors import MlopsError

    settings = _settings()
    raw = source_from_settings(settings).batch(date.fromisoformat(day))
    if raw.empty:
        raise MlopsError(f"{day}: the source has no rows for this day")
    report = validate(raw, SuiteName.RAW_BATCH)
    if not report.success:
        raise MlopsError(f"batch of {day} breaks its contract: {report.summary()}")
    return len(raw)


def ingest(day: str) -> dict[str, int]:
    """Replace the day in the feature store (idempotent for the logical date)."""
    from advanced_mlops.data.ingest import ingest_days
    from advanced_mlops.data.sources import scenario_of, source_from_settings

    settings = _settings()
    source = source_from_settings(settings)
    [result] = ingest_days(
        settings.store_url, source, [date.fromisoformat(day)], settings.label_delay_days,
        scenario_of(source), "airflow",
    )  # fmt: skip
    return {"features": result.feature_rows, "labels": result.label_rows}


def train_model(day: str) -> str:
    from advanced_mlops.training.job import train

    return train(_settings(), date.fromisoformat(day)).version


def gate_model(version: str) -> bool:
    from advanced_mlops.registry.promotion import gate

    result = gate(_settings(), version)
    failed = [c.name for c in result.checks if not c.passed]
    log.info(
        "gate v%s: %s", version, "passed" if result.passed else f"refused ({', '.join(failed)})"
    )
    return result.passed


def promote_model(version: str) -> str:
    from advanced_mlops.registry.promotion import promote

    promote(_settings(), version, reason="airflow: passed the gate")
    return version


def keep_champion(version: str) -> str | None:
    """A refusal is not a failure: say which champion stays and why."""
    from advanced_mlops.registry import mlflow_io

    champion = mlflow_io.alias_version(_settings(), mlflow_io.CHAMPION)
    log.info("kept champion v%s: challenger v%s was refused by the gate", champion, version)
    return champion
