"""Daily ingestion: check the logical date's raw batch, then replace that day in the feature
store, and mark the feature-store asset updated (which schedules `continuous_training`)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task
from airflow.sdk.definitions.timetables.interval import CronDataIntervalTimetable

from advanced_mlops.orchestration.defaults import (
    DEFAULT_ARGS,
    END_DATE,
    FEATURE_STORE_URI,
    START_DATE,
)

FEATURE_STORE = Asset(FEATURE_STORE_URI)


@dag(
    # A run for day D starts once D is over and ingests D's batch (logical date = D).
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=START_DATE,
    end_date=END_DATE,
    catchup=True,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["mlops", "features"],
)
def feature_ingestion() -> None:
    @task
    def check_contract(ds: str | None = None) -> int:
        from advanced_mlops.orchestration.tasks import check_raw_contract

        return check_raw_contract(str(ds))

    @task(outlets=[FEATURE_STORE])
    def ingest(ds: str | None = None, outlet_events: Any = None) -> dict[str, int]:
        from advanced_mlops.orchestration.tasks import ingest as ingest_day

        rows = ingest_day(str(ds))
        outlet_events[FEATURE_STORE].extra = {"day": ds, **rows}  # training's base date
        return rows

    check_contract() >> ingest()


feature_ingestion()
