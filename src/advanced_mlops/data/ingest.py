"""Daily ingestion: raw batch -> contract -> cleaning -> one transaction per day.

Every day of a run is fetched and checked before anything is written, so a refused day leaves the
store exactly as it was. A day is replaced as a whole, so re-running a date never duplicates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from advanced_mlops import schema
from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.contracts.validate import ContractError, broken_contract
from advanced_mlops.data.cleaning import clean_batch, to_category, to_text
from advanced_mlops.data.sources import Source
from advanced_mlops.errors import MlopsError
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema


@dataclass(frozen=True)
class DayBatch:
    """One day ready to write: its cleaned features and the labels that arrive that day."""

    day: date
    features: pd.DataFrame
    labels: pd.DataFrame
    scenario: str


@dataclass(frozen=True)
class IngestResult:
    day: date
    feature_rows: int
    label_rows: int
    scenario: str


def arriving_labels(raw: pd.DataFrame, arrival: date) -> pd.DataFrame:
    """Labels of an earlier day's batch, stamped with the day they become known."""
    labels = pd.DataFrame(
        {
            "customer_id": to_text(raw["customer_id"]),
            "label_date": pd.to_datetime(raw["date"], errors="coerce").dt.date,
            schema.LABEL: to_category(raw[schema.LABEL], schema.CLASSES)
            if schema.LABEL in raw
            else None,
        }
    )
    labels["available_at"] = arrival
    labels = labels.dropna(subset=["customer_id", "label_date", schema.LABEL])
    return labels.drop_duplicates(["customer_id", "label_date"], keep="last")


def check_raw_batch(raw: pd.DataFrame, day: date) -> None:
    """Refuse an empty day (MlopsError) or one that breaks the raw-batch contract."""
    if raw.empty:
        raise MlopsError(f"--date {day}: the source has no rows for this day; nothing stored")
    if broken := broken_contract(raw, SuiteName.RAW_BATCH):
        raise ContractError(
            f"batch of {day} breaks its contract, nothing stored: {broken.summary()}", day, broken
        )


def prepare_day(
    source: Source, day: date, label_delay_days: int, scenario_of: Callable[[date], str]
) -> DayBatch:
    """Fetch, check and clean one day; raises MlopsError when the day must be refused."""
    raw = source.batch(day)
    check_raw_batch(raw, day)
    label_raw = source.batch(day - timedelta(days=label_delay_days))
    return DayBatch(
        day=day,
        features=clean_batch(raw),
        labels=arriving_labels(label_raw, day) if not label_raw.empty else _no_labels(),
        scenario=scenario_of(day),
    )


def _no_labels() -> pd.DataFrame:
    return pd.DataFrame(columns=repository.LABEL_ROW)


def ingest_days(
    db_url: str,
    source: Source,
    days: list[date],
    label_delay_days: int,
    scenario_of: Callable[[date], str],
    source_name: str,
    progress: Callable[[IngestResult], None] = lambda _: None,
) -> list[IngestResult]:
    """Check every day first, then write each day in its own transaction."""
    require_current_schema(db_url)
    batches = [prepare_day(source, day, label_delay_days, scenario_of) for day in days]
    results = []
    for batch in batches:
        with connect(db_url, write=True) as conn:
            repository.replace_day(
                conn, batch.day, batch.features, batch.labels, source_name, batch.scenario
            )
        result = IngestResult(batch.day, len(batch.features), len(batch.labels), batch.scenario)
        progress(result)
        results.append(result)
    return results
