from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from advanced_mlops.data.cleaning import (
    clean_batch,
    clean_batches,
    history_months,
    to_category,
    to_number,
    within_range,
)
from advanced_mlops.data.generator import Generator


def series(*values: object) -> pd.Series:
    return pd.Series(values, dtype=object)


def test_numbers_lose_stray_underscores_and_placeholders_become_missing() -> None:
    out = to_number(series("37000_", " 12.5 ", "__10000__", "_", "abc", None, "-3"))
    expected = [37000.0, 12.5, np.nan, np.nan, np.nan, np.nan, -3.0]
    np.testing.assert_array_equal(out.to_numpy(), np.array(expected))


def test_credit_history_age_text_becomes_months() -> None:
    out = history_months(series("22 Years and 1 Months", "0 Years and 11 Months", "120", "NA"))
    np.testing.assert_array_equal(out.to_numpy(), np.array([265.0, 11.0, 120.0, np.nan]))


@pytest.mark.parametrize(
    ("column", "value", "kept"),
    [("age", 8698.0, False), ("age", -500.0, False), ("age", 33.0, True),
     ("num_bank_accounts", 1362.0, False), ("interest_rate", 5797.0, False),
     ("interest_rate", 34.0, True), ("monthly_balance", -3.3e26, False)],
)  # fmt: skip
def test_absurd_values_outside_the_plausible_range_become_missing(
    column: str, value: float, kept: bool
) -> None:
    assert within_range(pd.Series([value]), column).notna().item() is kept


def test_integer_features_are_rounded() -> None:
    assert within_range(pd.Series([3.4]), "num_of_loan").item() == 3.0


def test_categories_outside_the_allowed_set_become_missing() -> None:
    out = to_category(series("Good", "_", "Excellent", None, " Bad "), ("Good", "Standard", "Bad"))
    assert out.tolist() == ["Good", None, None, None, "Bad"]


def test_clean_batch_types_the_raw_batch_and_drops_rows_without_identity() -> None:
    raw = Generator(customers=900, dirt_rate=0.2).batch(date(2025, 1, 5))
    raw.loc[0, "customer_id"] = "_"
    duplicate = raw.iloc[[1]].assign(age="44")
    cleaned = clean_batch(pd.concat([raw, duplicate], ignore_index=True))
    assert len(cleaned) == len(raw) - 1
    assert cleaned.loc[cleaned["customer_id"] == raw.loc[1, "customer_id"], "age"].item() == 44
    assert cleaned["age"].dropna().between(14, 100).all()
    assert cleaned["credit_mix"].dropna().isin(["Good", "Standard", "Bad"]).all()
    assert cleaned["credit_score"].isin(["Poor", "Standard", "Good"]).all()
    assert (cleaned["date"] == date(2025, 1, 5)).all()


def test_cleaning_many_days_at_once_is_cleaning_each_day() -> None:
    """Including a customer twice in one batch and rows dated another day than their batch."""
    generator = Generator(customers=1500, dirt_rate=0.3)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(6)]
    raws = {day: generator.batch(day) for day in days}
    raws[days[1]] = pd.concat([raws[days[1]], raws[days[1]].iloc[:3]], ignore_index=True)
    raws[days[2]].loc[raws[days[2]].index[:3], "date"] = days[3].isoformat()
    together = clean_batches(raws)
    assert list(together) == days
    for day, raw in raws.items():
        pd.testing.assert_frame_equal(together[day], clean_batch(raw))
