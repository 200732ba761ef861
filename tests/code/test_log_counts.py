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
from advanced_mlops.store.bulk import to_records
from advanced_mlops.training.reference import ReferenceProfile, build_reference, token_counts

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
    fast, absent, unknown = parse_features(texts)
    assert absent == unknown == {}  # every key present: Arrow parsed the chunk
    # A key the schema does not know sends the chunk down the json.loads path, and is counted.
    extra = json.dumps(json.loads(texts[0]) | {"campaign": "x"})
    slow, slow_absent, slow_unknown = parse_features([extra, *texts[1:]])
    assert slow_absent == dict.fromkeys(schema.FEATURES, 0)
    assert slow_unknown == {"campaign": 1}
    direct = as_plain(count_frame(rows, reference))
    assert as_plain(count_frame(fast, reference, absent=absent)) == direct
    assert as_plain(count_frame(slow, reference, absent=slow_absent)) == direct | {
        "unknown_keys": {}
    }
    assert count_frame(slow, reference, absent=slow_absent, unknown=slow_unknown).unknown_keys == {
        "campaign": 1
    }


def test_an_absent_key_is_told_from_a_null(rows: pd.DataFrame, reference: ReferenceProfile) -> None:
    texts = logged(rows.head(100))
    first = json.loads(texts[0])
    del first["credit_mix"]
    second = json.loads(texts[1]) | {"age": None}
    frame, absent, _ = parse_features([json.dumps(first), json.dumps(second), *texts[2:], "oops"])
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
    frame, absent, _ = parse_features([json.dumps(broken), *texts[1:]])
    counts = count_frame(frame, reference, absent=absent)
    assert counts.missing["annual_income"] == int(rows.head(50)["annual_income"].isna().sum()) + (
        0 if pd.isna(rows["annual_income"].iloc[0]) else 1
    )


def test_a_missing_key_is_not_hidden_by_an_extra_key_elsewhere(
    rows: pd.DataFrame, reference: ReferenceProfile
) -> None:
    """One row without `credit_mix` and another with an extra key hold as many key separators
    as two complete rows: the absent key must still be counted as absent, not as a null."""
    texts = logged(rows.head(100))
    without = {k: v for k, v in json.loads(texts[0]).items() if k != "credit_mix"}
    extra = json.loads(texts[1]) | {"campaign": "spring"}
    chunk = [json.dumps(without), json.dumps(extra), *texts[2:]]
    assert "\n".join(chunk).count('": ') == len(schema.FEATURES) * len(chunk)
    frame, absent, unknown = parse_features(chunk)
    assert absent["credit_mix"] == 1
    assert sum(absent.values()) == 1
    assert unknown == {"campaign": 1}
    counts = count_frame(frame, reference, absent=absent, unknown=unknown)
    assert counts.absent["credit_mix"] == 1
    assert counts.missing["credit_mix"] == int(rows.head(100)["credit_mix"].iloc[1:].isna().sum())
    # The same in one row: a renamed key (what an upstream schema change looks like).
    renamed = {**without, "CreditMix": json.loads(texts[0])["credit_mix"]}
    _, absent, unknown = parse_features([json.dumps(renamed), *texts[1:]])
    assert absent["credit_mix"] == 1
    assert unknown == {"CreditMix": 1}
    # Or a value holding the separator itself: `"x\": y"` counts as a key in the text.
    hiding = json.dumps(without | {"occupation": 'x": y'})
    assert hiding.count('": ') == len(schema.FEATURES)
    _, absent, unknown = parse_features([hiding, *texts[1:]])
    assert absent["credit_mix"] == 1
    assert unknown == {}


@pytest.mark.parametrize("odd", ["null", "[]", '"text"', "{}", '{"age": 30}'])
def test_a_row_that_is_not_a_full_object_is_absent_everywhere(
    rows: pd.DataFrame, reference: ReferenceProfile, odd: str
) -> None:
    """First in its chunk, a `null` row crashes Arrow's reader (the whole process); any such row
    goes the row-by-row way and counts as absent, never as nulls."""
    texts = logged(rows.head(20))
    frame, absent, _ = parse_features([odd, *texts])
    counts = count_frame(frame, reference, absent=absent)
    assert counts.rows == 21
    assert counts.absent["credit_mix"] == 1
    assert counts.absent["age"] == (0 if odd == '{"age": 30}' else 1)


def test_a_null_row_balanced_by_a_nested_object_does_not_reach_arrow(
    reference: ReferenceProfile,
) -> None:
    """This chunk holds 22 key separators per row on average, which was all the fast path once
    checked; Arrow then crashed the process (SIGSEGV) on the leading `null`."""
    row = {n: 1.0 if n in schema.NUMERIC_FEATURES else "x" for n in schema.FEATURES}
    row["occupation"] = {f"k{i}": i for i in range(len(schema.FEATURES))}  # type: ignore[assignment]
    chunk = ["null", json.dumps(row)]
    assert "\n".join(chunk).count('": ') == len(schema.FEATURES) * len(chunk)
    frame, absent, _ = parse_features(chunk)
    counts = count_frame(frame, reference, absent=absent)
    assert counts.absent["age"] == 1
    assert counts.out_of_range["occupation"] == 1  # an object is no known occupation


def test_an_older_reference_without_counts_still_gives_its_sample_size(
    reference: ReferenceProfile,
) -> None:
    """Profiles saved before `count` existed load, and give the drift test a usable m."""
    stored = reference.model_dump(mode="json")
    for kind in ("numeric", "categorical", "text"):
        for profile in stored[kind].values():
            del profile["count"]
    old = ReferenceProfile.model_validate(stored)
    for name in [*schema.NUMERIC_FEATURES, *schema.CATEGORICAL_FEATURES]:
        assert old.sample_size(name) == reference.sample_size(name), name
    tokens = reference.sample_size("type_of_loan")
    assert tokens > reference.rows  # many rows hold several loan types
    assert reference.rows <= old.sample_size("type_of_loan") <= tokens


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
