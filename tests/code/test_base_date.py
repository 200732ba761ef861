"""Which day a DAG run works on: the logical date, the day an asset event announces, or the
newest ingested day, and never a day the store has not reached."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.errors import MlopsError
from advanced_mlops.orchestration.tasks import logical_day, resolve_base_date
from advanced_mlops.store.engine import upgrade

NEWEST = date(2025, 1, 12)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store holding 2025-01-10 .. 2025-01-12, the one tasks find in the environment."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    days = [NEWEST - timedelta(days=i) for i in (2, 1, 0)]
    ingest_days(url, Generator(customers=60), days, 7, lambda _: "stable", "test")
    monkeypatch.setenv("MLOPS_DB_URL", url)
    monkeypatch.delenv("MLOPS_AIRFLOW_CONN_ID", raising=False)
    return url


def events(*days: str) -> dict[str, list[SimpleNamespace]]:
    """`triggering_asset_events` as a task sees them: events per asset, each with its extra."""
    return {"mlops://feature_store/features": [SimpleNamespace(extra={"day": d}) for d in days]}


def test_an_asset_run_trains_on_the_newest_day_its_events_announce(store: str) -> None:
    assert resolve_base_date(None, events("2025-01-10", "2025-01-11")) == "2025-01-11"


def test_a_dated_run_trains_on_its_date_but_never_past_the_store(store: str) -> None:
    assert resolve_base_date("2025-01-11") == "2025-01-11"
    assert resolve_base_date("2026-11-26") == NEWEST.isoformat()  # a manual run dated today
    assert resolve_base_date("2025-01-11", events("2025-01-12")) == "2025-01-11"


def test_without_date_or_events_the_newest_ingested_day(store: str) -> None:
    assert resolve_base_date(None) == NEWEST.isoformat()
    assert resolve_base_date("None", events()) == NEWEST.isoformat()


def test_an_empty_store_has_nothing_to_train_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    monkeypatch.setenv("MLOPS_DB_URL", url)
    monkeypatch.delenv("MLOPS_AIRFLOW_CONN_ID", raising=False)
    with pytest.raises(MlopsError, match="nothing ingested yet"):
        resolve_base_date("2025-01-11")


def test_a_daily_run_without_logical_date_fails_at_once_saying_why() -> None:
    assert logical_day("2025-01-11") == date(2025, 1, 11)
    for missing in (None, "", "None"):
        with pytest.raises(AirflowFailException, match="no logical date"):
            logical_day(missing)
