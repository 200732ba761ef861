from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from advanced_mlops import schema
from advanced_mlops.data.cleaning import PLACEHOLDERS
from advanced_mlops.data.generator import AR_MEMORY, AR_RHO, Generator
from advanced_mlops.data.scenarios import Scenario, ScenarioName, parse_scenario
from advanced_mlops.errors import MlopsError

DAY = date(2025, 2, 10)


def days(generator: Generator, start: date, count: int) -> pd.DataFrame:
    return pd.concat([generator.batch(start + timedelta(days=i)) for i in range(count)])


def test_same_seed_same_batch_and_a_day_does_not_depend_on_history() -> None:
    first = Generator(seed=7, customers=900).batch(DAY)
    warmed = Generator(seed=7, customers=900)
    days(warmed, DAY - timedelta(days=5), 5)
    pd.testing.assert_frame_equal(first, warmed.batch(DAY))
    assert not first.equals(Generator(seed=8, customers=900).batch(DAY))


def test_raw_batch_has_the_course_schema_as_text() -> None:
    batch = Generator(customers=900).batch(DAY)
    assert list(batch.columns) == list(schema.RAW_COLUMNS)
    assert len(schema.FEATURES) == 22
    assert (batch["date"] == DAY.isoformat()).all()
    assert batch["credit_history_age"].dropna().str.contains("Years and").mean() > 0.9


def test_class_balance_is_near_the_public_data() -> None:
    shares = days(Generator(), date(2025, 1, 1), 30)["credit_score"].value_counts(normalize=True)
    assert shares["Standard"] == pytest.approx(0.53, abs=0.04)
    assert shares["Poor"] == pytest.approx(0.29, abs=0.04)
    assert shares["Good"] == pytest.approx(0.18, abs=0.04)


def test_customers_persist_month_to_month_and_labels_are_sticky_but_change() -> None:
    frame = days(Generator(customers=900), date(2025, 1, 1), 90)
    per_customer = frame.groupby("customer_id")
    assert per_customer.size().eq(3).all()  # one record per 30-day period
    assert per_customer["ssn"].nunique().eq(1).all()
    assert per_customer["name"].nunique().eq(1).all()
    changed = per_customer["credit_score"].nunique().gt(1).mean()
    assert 0.1 < changed < 0.7


def test_dirt_rate_controls_the_public_data_habits() -> None:
    clean = Generator(customers=900, dirt_rate=0.0).batch(DAY)
    dirty = days(Generator(customers=900, dirt_rate=0.1), DAY, 5)
    cells = dirty[list(schema.FEATURES)].astype(str)
    assert not clean[list(schema.FEATURES)].isin(PLACEHOLDERS - {""}).any().any()
    assert clean[["age", "annual_income"]].apply(lambda c: c.str.endswith("_")).sum().sum() == 0
    assert cells.isin({"_______", "!@9#%8", "_"}).sum().sum() > 20
    assert cells["age"].str.endswith("_").any()


def test_covariate_drift_moves_features_and_labels_together() -> None:
    start = date(2025, 1, 1)
    stable = days(Generator(), start, 10)
    drift = days(Generator(scenario=Scenario(ScenarioName.COVARIATE_DRIFT, start)), start, 10)
    assert (drift["credit_score"] == "Poor").mean() > (
        stable["credit_score"] == "Poor"
    ).mean() + 0.1
    income = pd.to_numeric(drift["annual_income"], errors="coerce").median()
    assert income > 1.15 * pd.to_numeric(stable["annual_income"], errors="coerce").median()


def test_concept_drift_changes_what_drives_the_label_from_its_start() -> None:
    start = date(2025, 3, 1)
    generator = Generator(scenario=Scenario(ScenarioName.CONCEPT_DRIFT, start))
    before, after = days(generator, start - timedelta(days=10), 10), days(generator, start, 10)

    def poor_rate_gap(frame: pd.DataFrame) -> float:
        util = pd.to_numeric(frame["credit_utilization_ratio"], errors="coerce")
        poor = frame["credit_score"] == "Poor"
        return float(poor[util > util.median()].mean() - poor[util <= util.median()].mean())

    assert abs(poor_rate_gap(before)) < 0.05
    assert poor_rate_gap(after) > 0.15


def test_schema_break_renames_and_reformats_columns() -> None:
    generator = Generator(scenario=Scenario(ScenarioName.SCHEMA_BREAK, DAY))
    assert list(generator.batch(DAY - timedelta(days=1)).columns) == list(schema.RAW_COLUMNS)
    broken = generator.batch(DAY)
    assert "credit_mix" not in broken
    assert "CreditMix" in broken
    income = broken["annual_income"][broken["annual_income"] != ""]
    assert len(income) > 0.8 * len(broken)
    assert income.str.startswith("$").all()


def test_unknown_scenario_is_refused_by_name() -> None:
    with pytest.raises(MlopsError, match="--scenario: unknown scenario 'sunny'"):
        parse_scenario("sunny")


def test_the_ar_term_is_the_sum_of_each_customers_own_period_shocks() -> None:
    """The vectorized AR(1) term against its definition, one customer and one lag at a time."""
    generator = Generator(seed=7, customers=500)
    idx = np.arange(0, 500, 3)
    period = np.random.default_rng(1).integers(0, 40, len(idx))
    expected = np.zeros(len(idx))
    for row, (customer, at) in enumerate(zip(idx, period, strict=True)):
        for lag in range(AR_MEMORY):
            shocks = np.random.default_rng([7, 1, at - lag + 10_000]).standard_normal(500)
            expected[row] += AR_RHO**lag * np.sqrt(1 - AR_RHO**2) * shocks[customer]
    expected /= np.sqrt(1 - AR_RHO ** (2 * AR_MEMORY))
    np.testing.assert_allclose(generator._ar_state(idx, period), expected, rtol=1e-12)
