"""Daily ingestion: check the logical date's raw batch, then replace that day in the feature
store, and mark the feature-store asset updated (which schedules `continuous_training`)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task

from advanced_mlops.orchestration.defaults import FEATURE_STORE_URI, daily_dag_args

FEATURE_STORE = Asset(FEATURE_STORE_URI)


@dag(**daily_dag_args(), tags=["mlops", "features"])  # the run for day D ingests D's batch
def feature_ingestion() -> None:
    @task
    def check_contract(ds: str | None = None) -> int:
        from advanced_mlops.orchestration.tasks import check_raw_contract

        return check_raw_contract(ds)

    @task(outlets=[FEATURE_STORE])
    def ingest(ds: str | None = None, outlet_events: Any = None) -> dict[str, int]:
        from advanced_mlops.orchestration.tasks import ingest as ingest_day

        rows = ingest_day(ds)
        outlet_events[FEATURE_STORE].extra = {"day": ds, **rows}  # training's base date
        return rows

    check_contract() >> ingest()


feature_ingestion()
