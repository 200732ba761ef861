"""`mlops contracts check`: which frame each suite is run on for one day."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select

from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.contracts.validate import ContractReport, validate
from advanced_mlops.data.labels import delivered_labels
from advanced_mlops.data.sources import Source
from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema
from advanced_mlops.store.tables import prediction_log
from advanced_mlops.training.snapshot import snapshot_at


def parse_suites(value: str) -> list[SuiteName]:
    if value == "all":
        return list(SuiteName)
    try:
        return [SuiteName(value)]
    except ValueError:
        allowed = ", ".join([*(s.value for s in SuiteName), "all"])
        raise MlopsError(f"--suite: unknown suite {value!r} (choose from {allowed})") from None


def check_day(
    settings: Settings, source: Source, day: date, suites: list[SuiteName]
) -> tuple[list[ContractReport], list[str]]:
    """Reports for the suites that have data on `day`, and a note for each that has none."""
    reports, skipped = [], []
    for suite in suites:
        frame = _frame_for(settings, source, day, suite)
        if frame.empty:
            skipped.append(f"{suite.value}: no rows for {day}")
        else:
            reports.append(validate(frame, suite))
    if not reports:
        raise MlopsError(f"--date {day}: no data to check ({'; '.join(skipped)})")
    return reports, skipped


def _frame_for(settings: Settings, source: Source, day: date, suite: SuiteName) -> pd.DataFrame:
    """The frame the suite checks on `day`."""
    if suite is SuiteName.RAW_BATCH:
        return source.batch(day)
    require_current_schema(settings.store.url)
    with connect(settings.store.url) as conn:
        if suite is SuiteName.TRAINING_SNAPSHOT:
            return snapshot_at(conn, day, settings.training.train_window_days)
        if suite is SuiteName.LABELS:  # those arriving on `day`, as ingestion checks them
            stored = set(repository.ingested_days(conn)["date"])
            known = set(repository.customer_ids(conn))
            raw = source.batch(day - timedelta(days=settings.data.label_delay_days))
            return delivered_labels(raw, day, stored, known)
        query = select(prediction_log).where(func.date(prediction_log.c.created_at) == day)
        return pd.DataFrame(conn.execute(query).mappings().all())
