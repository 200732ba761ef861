"""Many days in one GX run (contracts/days.py) must judge each day exactly as GX alone would, and
the labels contract must name the field a bad label delivery breaks."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from advanced_mlops.contracts.days import broken_days
from advanced_mlops.contracts.suites import SuiteName
from advanced_mlops.contracts.validate import ContractReport, validate
from advanced_mlops.data.generator import Generator, break_schema
from advanced_mlops.data.labels import delivered_labels

START = date(2025, 1, 1)
DAYS = [START + timedelta(days=i) for i in range(12)]


def share(frame: pd.DataFrame, fraction: float) -> pd.Index:
    return frame.index[: round(len(frame) * fraction)]


def damaged_days() -> dict[date, pd.DataFrame]:
    """Twelve days: some broken, some damaged just short of their tolerance (`mostly`)."""
    frames = {day: Generator(customers=900).batch(day) for day in DAYS}
    frames[DAYS[1]].loc[share(frames[DAYS[1]], 0.5), "credit_mix"] = "???"  # tolerance 1 %
    frames[DAYS[3]] = break_schema(frames[DAYS[3]])  # other columns: a group of its own
    doubled = frames[DAYS[5]]
    frames[DAYS[5]] = pd.concat([doubled, doubled.iloc[:2]], ignore_index=True)  # duplicates
    frames[DAYS[6]].loc[share(frames[DAYS[6]], 0.45), "age"] = None  # mostly 0.5: passes
    frames[DAYS[7]].loc[share(frames[DAYS[7]], 0.55), "age"] = None  # fails
    frames[DAYS[8]].loc[share(frames[DAYS[8]], 0.25), "annual_income"] = "n/a"  # 0.7: passes
    frames[DAYS[9]].loc[share(frames[DAYS[9]], 0.35), "annual_income"] = "n/a"  # fails
    # A day whose dirt, alone, is within tolerance but which repeats an earlier day's rows: the
    # rows are duplicates only among the other days, never within the day.
    frames[DAYS[10]] = frames[DAYS[0]].copy()
    return frames


def test_one_run_for_many_days_agrees_with_each_day_alone() -> None:
    frames = damaged_days()
    alone = {day: validate(frame, SuiteName.RAW_BATCH) for day, frame in frames.items()}
    broken = broken_days(frames, SuiteName.RAW_BATCH)
    assert set(broken) == {day for day, report in alone.items() if not report.success}
    assert set(broken) == {DAYS[1], DAYS[3], DAYS[5], DAYS[7], DAYS[9]}
    for day, report in broken.items():
        assert report == alone[day]  # the same failed expectations, with what was observed
    assert [c.column for c in broken[DAYS[1]].failures] == ["credit_mix"]
    assert ("(table)", "expect_table_columns_to_match_set") in {
        (c.column, c.expectation) for c in broken[DAYS[3]].failures
    }


def test_a_day_at_its_tolerance_is_not_refused_for_sharing_a_run() -> None:
    """The day alone passes; among clean days its unexpected rows are the same: it passes."""
    frames = {day: Generator(customers=900).batch(day) for day in DAYS[:4]}
    edge = frames[DAYS[2]]
    edge.loc[share(edge, 0.5), "monthly_balance"] = None  # exactly the 0.5 allowed
    assert validate(edge, SuiteName.RAW_BATCH).success
    assert broken_days(frames, SuiteName.RAW_BATCH) == {}


def test_the_row_count_is_judged_per_day() -> None:
    """An aggregate expectation (row count >= 1) is checked on each day's own rows."""
    frames = {day: Generator(customers=900).batch(day) for day in DAYS[:3]}
    frames[DAYS[1]] = frames[DAYS[1]].iloc[:0]
    broken = broken_days(frames, SuiteName.RAW_BATCH)
    assert list(broken) == [DAYS[1]]
    assert ("(table)", "expect_table_row_count_to_be_between") in {
        (c.column, c.expectation) for c in broken[DAYS[1]].failures
    }


# --- the labels contract ------------------------------------------------------------------------

ARRIVAL = START + timedelta(days=7)


@pytest.fixture
def raw() -> pd.DataFrame:
    return Generator(customers=900).batch(START)


def labels_check(
    raw: pd.DataFrame, stored: tuple[date, ...] = (START,), known: set[str] | None = None
) -> ContractReport:
    customers = set(raw["customer_id"]) if known is None else known
    return validate(delivered_labels(raw, ARRIVAL, stored, customers), SuiteName.LABELS)


def failed(report: ContractReport) -> set[tuple[str, str]]:
    return {(c.column, c.expectation) for c in report.failures}


def test_labels_as_delivered_pass(raw: pd.DataFrame) -> None:
    assert labels_check(raw).success


def test_a_label_outside_the_classes_is_named(raw: pd.DataFrame) -> None:
    raw.loc[raw.index[0], "credit_score"] = "Excellent"
    assert failed(labels_check(raw)) == {("credit_score", "expect_column_values_to_be_in_set")}


def test_a_missing_label_is_named(raw: pd.DataFrame) -> None:
    raw.loc[raw.index[0], "credit_score"] = None
    assert failed(labels_check(raw)) == {("credit_score", "expect_column_values_to_not_be_null")}


def test_a_repeated_label_is_named(raw: pd.DataFrame) -> None:
    twice = pd.concat([raw, raw.iloc[:1]], ignore_index=True)
    assert failed(labels_check(twice)) == {
        ("customer_id,label_date", "expect_compound_columns_to_be_unique")
    }


def test_a_label_dated_after_its_arrival_is_named(raw: pd.DataFrame) -> None:
    raw.loc[raw.index[0], "date"] = (ARRIVAL + timedelta(days=1)).isoformat()
    assert failed(labels_check(raw)) == {
        ("available_at,label_date", "expect_column_pair_values_a_to_be_greater_than_b")
    }


def test_an_unknown_customer_is_named_when_its_features_are_stored(raw: pd.DataFrame) -> None:
    known = set(raw["customer_id"].iloc[1:])
    report = labels_check(raw, known=known)
    assert failed(report) == {("unknown_customer_id", "expect_column_values_to_be_null")}
    assert raw["customer_id"].iloc[0] in report.summary()  # the stranger is named
    # Labels of a day whose features are not stored are not kept: whom they name is not judged.
    assert labels_check(raw, stored=(), known=known).success


def test_labels_of_many_days_in_one_run(raw: pd.DataFrame) -> None:
    """The labels contract through the one-run path: the bad delivery is the one named."""
    generator = Generator(customers=900)
    raws = {START + timedelta(days=i): generator.batch(START + timedelta(days=i)) for i in range(4)}
    bad = START + timedelta(days=2)
    raws[bad].loc[raws[bad].index[:2], "credit_score"] = "??"
    known = set(pd.concat(raws.values())["customer_id"])
    deliveries = {
        day + timedelta(days=7): delivered_labels(frame, day + timedelta(days=7), list(raws), known)
        for day, frame in raws.items()
    }
    broken = broken_days(deliveries, SuiteName.LABELS)
    assert list(broken) == [bad + timedelta(days=7)]
    assert failed(broken[bad + timedelta(days=7)]) == {
        ("credit_score", "expect_column_values_to_be_in_set")
    }
