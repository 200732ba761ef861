"""Labels have a contract: a bad delivery is refused naming the field and stores nothing, and the
labels of a refused feature day never reach a training snapshot (on SQLite and on MariaDB)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import pytest

from advanced_mlops.contracts.validate import ContractError
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import PHASES, ingest_days
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.training.snapshot import snapshot_at

START = date(2025, 1, 1)
DELAY = 7
CUSTOMERS = 600


def days(first: int, count: int) -> list[date]:
    return [START + timedelta(days=first + i) for i in range(count)]


@dataclass
class Tampered:
    """The simulator, except that the batch of one day is changed by `change` (an upstream
    re-export between the features' and the labels' delivery)."""

    day: date
    change: Callable[[pd.DataFrame], pd.DataFrame]
    generator: Generator = field(default_factory=lambda: Generator(customers=CUSTOMERS))

    def batch(self, day: date) -> pd.DataFrame:
        raw = self.generator.batch(day)
        return self.change(raw.copy()) if day == self.day else raw


def ingest(url: str, source: object, which: list[date]) -> list:
    return ingest_days(url, source, which, DELAY, lambda _: "test", "test")  # type: ignore[arg-type]


@pytest.fixture
def store(store_url: str) -> str:
    """Seven stored days: the labels of each arrive a week later."""
    upgrade(store_url)
    ingest(store_url, Generator(customers=CUSTOMERS), days(0, DELAY))
    return store_url


def set_value(column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(raw: pd.DataFrame) -> pd.DataFrame:
        raw.loc[raw.index[:3], column] = value
        return raw

    return change


def repeat_rows(raw: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([raw, raw.iloc[:2]], ignore_index=True)


def stranger(raw: pd.DataFrame) -> pd.DataFrame:
    raw.loc[raw.index[0], "customer_id"] = "CUS_0xfffff0"
    return raw


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (set_value("credit_score", "Excellent"), "credit_score: expect_column_values_to_be_in_set"),
        (set_value("credit_score", None), "credit_score: expect_column_values_to_not_be_null"),
        (repeat_rows, "customer_id,label_date: expect_compound_columns_to_be_unique"),
        (
            set_value("date", (START + timedelta(days=DELAY + 3)).isoformat()),
            "available_at,label_date: expect_column_pair_values_a_to_be_greater_than_b",
        ),
        (stranger, "unknown_customer_id: expect_column_values_to_be_null"),
    ],
    ids=["value", "missing", "duplicate", "future", "unknown-customer"],
)
def test_a_label_delivery_breaking_its_contract_stores_nothing(
    store: str, change: Callable[[pd.DataFrame], pd.DataFrame], named: str
) -> None:
    arrival = START + timedelta(days=DELAY)  # brings the labels of START
    with connect(store) as conn:
        before = repository.table_counts(conn)
    with pytest.raises(ContractError) as refused:
        ingest(store, Tampered(START, change), [arrival, arrival + timedelta(days=1)])
    message = str(refused.value)
    assert f"labels arriving on {arrival} break their contract, nothing stored" in message
    assert named in message
    assert refused.value.day == arrival
    assert refused.value.report is not None
    assert refused.value.report.suite == "labels"
    with connect(store) as conn:
        assert repository.table_counts(conn) == before


def test_labels_of_a_refused_day_never_reach_a_snapshot(store: str) -> None:
    refused_day = START + timedelta(days=DELAY)
    breaking = Generator(customers=CUSTOMERS, scenario=Scenario(ScenarioName.SCHEMA_BREAK))
    with pytest.raises(ContractError, match=f"batch of {refused_day} breaks its contract"):
        ingest(store, breaking, [refused_day])
    # The next days are fine; the one a week later brings the refused day's labels.
    results = ingest(store, Generator(customers=CUSTOMERS), days(DELAY + 1, DELAY + 1))
    arrival = refused_day + timedelta(days=DELAY)
    assert {r.day: r.labels_withheld for r in results}[arrival] > 0
    with connect(store) as conn:
        labels = repository.read_labels(conn, START, arrival)
        snapshot = snapshot_at(conn, arrival, window_days=60)
    assert refused_day not in set(labels["label_date"])
    assert not snapshot.empty
    assert refused_day not in set(snapshot["label_date"])

    # Fixed upstream and re-run, the day brings its labels, stamped with the day they arrived.
    [fixed] = ingest(store, Generator(customers=CUSTOMERS), [refused_day])
    assert fixed.label_rows > 0
    with connect(store) as conn:
        labels = repository.read_labels(conn, START, arrival)
        snapshot = snapshot_at(conn, arrival, window_days=60)
    late = labels[labels["label_date"] == refused_day]
    assert len(late) > 0
    assert set(late["available_at"]) == {arrival}
    joined = snapshot[snapshot["label_date"] == refused_day]
    assert len(joined) == len(late)
    assert set(joined["feature_date"]) == {refused_day}  # met the day's own features


def test_ingestion_announces_its_phases_in_order(store_url: str) -> None:
    upgrade(store_url)
    announced: list[str] = []
    results = ingest_days(
        store_url, Generator(customers=CUSTOMERS), days(0, 2), DELAY, lambda _: "test", "test",
        on_phase=announced.append,
    )  # fmt: skip
    assert announced == list(PHASES)
    assert [r.day for r in results] == days(0, 2)
