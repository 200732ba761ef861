"""Daily ingestion: raw batches -> contracts -> cleaning -> one transaction per day.

Every day of a run is fetched and checked before anything is written, so a refused day leaves the
store exactly as it was. A day is replaced as a whole, so re-running a date never duplicates.

The contracts of all the run's days are checked together (one Great Expectations run for the raw
batches, one for the labels: `contracts/days.py`), so a run of 60 days pays GX's fixed cost once,
not 60 times; a broken day is still named with its failed expectations.

Labels: day X brings the labels of day X - MLOPS_LABEL_DELAY_DAYS, checked by their own contract
and stored only if that day's features are stored (`data/labels.py`). A day that is ingested
after its labels' arrival day (a refused day fixed and re-run) brings its own labels, stamped
with the day they arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from advanced_mlops.contracts.days import broken_days
from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.contracts.validate import ContractError, ContractReport
from advanced_mlops.data.cleaning import clean_batches, to_text
from advanced_mlops.data.labels import delivered_labels, labels_to_store
from advanced_mlops.data.sources import Source
from advanced_mlops.errors import MlopsError
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema

PHASES = ("fetch", "raw contract", "labels contract", "cleaning", "write")


@dataclass(frozen=True)
class DayBatch:
    """One day ready to write: its cleaned features and the labels it brings."""

    day: date
    features: pd.DataFrame
    labels: pd.DataFrame
    scenario: str
    labels_withheld: int = 0


@dataclass(frozen=True)
class IngestResult:
    day: date
    feature_rows: int
    label_rows: int
    scenario: str
    labels_withheld: int = 0  # arrived for a day whose features are not stored


def ingest_days(
    db_url: str,
    source: Source,
    days: list[date],
    label_delay_days: int,
    scenario_of: Callable[[date], str],
    source_name: str,
    progress: Callable[[IngestResult], None] = lambda _: None,
    on_phase: Callable[[str], None] = lambda _: None,
) -> list[IngestResult]:
    """Check every day first, then write each day in its own transaction.

    `on_phase` is told when each of PHASES starts; `progress`, when each day is written."""
    require_current_schema(db_url)
    on_phase("fetch")
    raws = fetch_days(source, days)
    on_phase("raw contract")
    refuse_broken_batches(broken_days(raws, SuiteName.RAW_BATCH))
    on_phase("labels contract")
    with connect(db_url) as conn:
        stored_days = set(repository.ingested_days(conn)["date"]) | set(days)
        known = set(repository.customer_ids(conn))
    known.update(*(to_text(raw["customer_id"]).dropna() for raw in raws.values()))
    deliveries = label_deliveries(source, raws, label_delay_days, stored_days, known)
    refuse_broken_labels(
        broken_days(
            {day: labels for day, labels in deliveries.items() if not labels.empty},
            SuiteName.LABELS,
        )
    )
    on_phase("cleaning")
    cleaned = clean_batches(raws)
    batches = [_prepare(day, cleaned[day], deliveries[day], scenario_of(day)) for day in days]
    on_phase("write")
    results = []
    for batch in batches:
        with connect(db_url, write=True, bulk=True) as conn:
            repository.replace_day(
                conn, batch.day, batch.features, batch.labels, source_name, batch.scenario
            )
        result = IngestResult(
            batch.day, len(batch.features), len(batch.labels), batch.scenario,
            batch.labels_withheld,
        )  # fmt: skip
        progress(result)
        results.append(result)
    return results


def fetch_days(source: Source, days: list[date]) -> dict[date, pd.DataFrame]:
    """The raw batch of each day; an empty day is refused (MlopsError)."""
    raws = {}
    for day in days:
        raw = source.batch(day)
        if raw.empty:
            raise MlopsError(f"--date {day}: the source has no rows for this day; nothing stored")
        raws[day] = raw
    return raws


def check_raw_batch(raw: pd.DataFrame, day: date) -> None:
    """Refuse an empty day (MlopsError) or one that breaks the raw-batch contract."""
    if raw.empty:
        raise MlopsError(f"--date {day}: the source has no rows for this day; nothing stored")
    refuse_broken_batches(broken_days({day: raw}, SuiteName.RAW_BATCH))


def refuse_broken_batches(broken: Mapping[date, ContractReport]) -> None:
    """ContractError naming every broken day and its failed expectations (the first one's
    report is kept for the CI summary)."""
    _refuse(broken, "batch of {day} breaks its contract")


def refuse_broken_labels(broken: Mapping[date, ContractReport]) -> None:
    _refuse(broken, "labels arriving on {day} break their contract")


def _refuse(broken: Mapping[date, ContractReport], what: str) -> None:
    if not broken:
        return
    (first, report), *others = broken.items()
    message = f"{what.format(day=first)}, nothing stored: {report.summary()}"
    for day, other in others:
        message += f"; {what.format(day=day)}: {other.summary()}"
    raise ContractError(message, first, report)


def label_deliveries(
    source: Source,
    raws: Mapping[date, pd.DataFrame],
    delay_days: int,
    stored_days: set[date],
    known_customers: set[str],
) -> dict[date, pd.DataFrame]:
    """The labels each day of the run brings, as the labels contract checks them: those arriving
    that day, and its own labels if their arrival day is already stored but the day was not."""
    delay = timedelta(days=delay_days)
    run_days = set(raws)
    deliveries = {}
    for day, raw in raws.items():
        labelled = day - delay
        labelled_raw = raws[labelled] if labelled in raws else source.batch(labelled)
        frames = [delivered_labels(labelled_raw, day, stored_days, known_customers)]
        if day + delay in stored_days - run_days:
            frames.append(delivered_labels(raw, day + delay, stored_days, known_customers))
        deliveries[day] = pd.concat([f for f in frames if not f.empty] or frames[:1])
    return deliveries


def _prepare(day: date, features: pd.DataFrame, delivered: pd.DataFrame, scenario: str) -> DayBatch:
    labels = labels_to_store(delivered)
    return DayBatch(day, features, labels, scenario, len(delivered) - len(labels))
