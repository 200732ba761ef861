"""The suites in data_contracts/ against the schema and against good and bad data."""

from datetime import date, timedelta

import pandas as pd
import pytest

from advanced_mlops import schema
from advanced_mlops.contracts.suites import SuiteName, load_suite
from advanced_mlops.contracts.validate import validate
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.store.repository import SNAPSHOT_ROW

DAY = date(2025, 2, 3)


def columns_named(suite: SuiteName) -> set[str]:
    spec = load_suite(suite)
    return {e["kwargs"]["column"] for e in spec["expectations"] if "column" in e["kwargs"]}


def test_raw_suite_covers_every_feature_and_the_label() -> None:
    assert set(schema.FEATURES) | {schema.LABEL, "customer_id", "date"} <= columns_named(
        SuiteName.RAW_BATCH
    )


def test_snapshot_suite_matches_the_snapshot_columns() -> None:
    spec = load_suite(SuiteName.TRAINING_SNAPSHOT)
    exact = next(
        e for e in spec["expectations"] if e["type"] == "expect_table_columns_to_match_set"
    )
    assert exact["kwargs"]["column_set"] == SNAPSHOT_ROW


@pytest.mark.parametrize(
    "scenario", [ScenarioName.STABLE, ScenarioName.COVARIATE_DRIFT, ScenarioName.CONCEPT_DRIFT]
)
def test_dirty_but_well_formed_batches_pass(scenario: ScenarioName) -> None:
    batch = Generator(dirt_rate=0.08, scenario=Scenario(scenario)).batch(DAY)
    report = validate(batch, SuiteName.RAW_BATCH)
    assert report.success, report.summary()
    assert report.rows == len(batch)


def test_a_schema_break_fails_and_the_report_names_the_columns() -> None:
    batch = Generator(scenario=Scenario(ScenarioName.SCHEMA_BREAK)).batch(DAY)
    report = validate(batch, SuiteName.RAW_BATCH)
    assert not report.success
    broken = {(c.column, c.expectation) for c in report.failures}
    assert ("(table)", "expect_table_columns_to_match_set") in broken
    assert ("annual_income", "expect_column_values_to_match_regex") in broken
    assert "annual_income" in report.summary()


def test_a_flood_of_placeholders_fails_the_tolerance() -> None:
    batch = Generator().batch(DAY)
    batch.loc[batch.index[: len(batch) // 2], "credit_mix"] = "???"
    failures = validate(batch, SuiteName.RAW_BATCH).failures
    assert [(c.column, c.expectation) for c in failures] == [
        ("credit_mix", "expect_column_values_to_be_in_set")
    ]
    assert "unexpected" in failures[0].observed


def test_snapshot_contract_catches_a_label_older_than_its_features(
    clean_days: pd.DataFrame,
) -> None:
    snapshot = clean_days[SNAPSHOT_ROW].copy()
    assert validate(snapshot, SuiteName.TRAINING_SNAPSHOT).success
    snapshot.loc[snapshot.index[0], "feature_date"] = snapshot["label_date"].iloc[0] + timedelta(3)
    failures = validate(snapshot, SuiteName.TRAINING_SNAPSHOT).failures
    assert [c.column for c in failures] == ["label_date,feature_date"]


def test_prediction_log_contract() -> None:
    row = {
        "request_id": "r1", "customer_id": "CUS_0x1", "features": "{}", "prediction": "Good",
        "prob_poor": 0.1, "prob_standard": 0.2, "prob_good": 0.7, "model_version": "1",
        "latency_ms": 3.2, "created_at": pd.Timestamp("2025-01-01"),
    }  # fmt: skip
    good = pd.DataFrame([row, {**row, "request_id": "r2"}])
    assert validate(good, SuiteName.PREDICTION_LOG).success
    bad = pd.DataFrame([row, {**row, "prob_good": 1.7}])
    assert {c.column for c in validate(bad, SuiteName.PREDICTION_LOG).failures} == {
        "request_id",
        "prob_good",
    }
