"""Folding logged feature rows into counts: the Arrow fast path and the row-by-row path agree,
absent keys are told from nulls, and text features are counted by loan type."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.monitoring.aggregate import DayCounts, count_frame, parse_features
from advanced_mlops.monitoring.reference import ReferenceProfile, build_reference, token_counts
from advanced_mlops.store.bulk import to_records

START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    generator = Generator(customers=1500)
    days = [clean_batch(generator.batch(START + timedelta(days=i))) for i in range(20)]
    return pd.concat(days, ignore_index=True)


@pytest.fixture(scope="module")
def reference(rows: pd.DataFrame) -> ReferenceProfile:
    labelled = rows.dropna(subset=[schema.LABEL]).rename(columns={"date": "label_date"})
    importances = dict.fromkeys(schema.FEATURES, 1.0)
    return build_reference(labelled, labelled[schema.LABEL], importances, START)


def logged(rows: pd.DataFrame) -> list[str]:
    """The features column as the log writer stores it (json.dumps of every key)."""
    return [json.dumps(r) for r in to_records(rows, schema.FEATURES)]


def as_plain(counts: DayCounts) -> dict[str, object]:
    return {**counts.__dict__, "bins": {k: v.tolist() for k, v in counts.bins.items()}}


def test_the_fast_path_counts_what_the_row_by_row_path_counts(
    rows: pd.DataFrame, reference: ReferenceProfile
) -> None:
    texts = logged(rows)
    fast, absent = parse_features(texts)
    assert absent == {}  # every key present: Arrow parsed the chunk
    # A key the schema does not know sends the chunk down the json.loads path.
    extra = json.dumps(json.loads(texts[0]) | {"campaign": "x"})
    slow, slow_absent = parse_features([extra, *texts[1:]])
    assert slow_absent == dict.fromkeys(schema.FEATURES, 0)
    direct = as_plain(count_frame(rows, reference))
    assert as_plain(count_frame(fast, reference, absent=absent)) == direct
    assert as_plain(count_frame(slow, reference, absent=slow_absent)) == direct


def test_an_absent_key_is_told_from_a_null(rows: pd.DataFrame, reference: ReferenceProfile) -> None:
    texts = logged(rows.head(100))
    first = json.loads(texts[0])
    del first["credit_mix"]
    second = json.loads(texts[1]) | {"age": None}
    frame, absent = parse_features([json.dumps(first), json.dumps(second), *texts[2:], "oops"])
    counts = count_frame(frame, reference, absent=absent)
    assert counts.rows == 101
    assert counts.absent["credit_mix"] == 2  # the row without the key and the unreadable row
    assert counts.absent["age"] == 1
    expected_null_ages = int(rows.head(100)["age"].isna().sum()) - int(pd.isna(rows["age"].iloc[1]))
    assert counts.missing["age"] == expected_null_ages + 1


def test_a_string_where_a_number_belongs_is_missing_not_a_crash(
    rows: pd.DataFrame, reference: ReferenceProfile
) -> None:
    texts = logged(rows.head(50))
    broken = json.loads(texts[0]) | {"annual_income": "$37,000.00"}
    frame, absent = parse_features([json.dumps(broken), *texts[1:]])
    counts = count_frame(frame, reference, absent=absent)
    assert counts.missing["annual_income"] == int(rows.head(50)["annual_income"].isna().sum()) + (
        0 if pd.isna(rows["annual_income"].iloc[0]) else 1
    )


def test_loan_types_are_counted_per_token() -> None:
    counts = token_counts(
        ["Auto Loan, Payday Loan, and Student Loan", "Mortgage Loan and Auto Loan", None, "  ",
         "Space Loan"],
        "type_of_loan",
    )  # fmt: skip
    assert counts["Auto Loan"] == 2
    assert counts["Payday Loan"] == counts["Student Loan"] == counts["Mortgage Loan"] == 1
    assert counts["none"] == 2
    assert counts["other"] == 1
    assert sum(counts.values()) == 8
