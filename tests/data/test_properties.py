"""Property tests (hypothesis): the cleaning rules take any string in any column, and the journal's
records read back exactly what was written, whatever it holds."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.serving.journal_records import decode, encode

RAW_COLUMNS = ["customer_id", "date", "name", "ssn", *schema.FEATURES, schema.LABEL]
# Any text, plus the shapes the rules look for (numbers with dirt, history ages, placeholders).
CELL = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"\s*-?\d{1,7}(\.\d{1,3})?_?\s*", fullmatch=True),
    st.from_regex(r"\d{1,3} Years? and \d{1,3} Months?", fullmatch=True),
    st.sampled_from(["_", "_______", "!@9#%8", "__10000__", "nan", "NA", "", "1e308", "-inf"]),
    st.none(),
)


@st.composite
def raw_batches(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 6))
    data = {column: [draw(CELL) for _ in range(rows)] for column in RAW_COLUMNS}
    data["date"] = [draw(st.sampled_from(["2025-01-01", "2025-13-40", "x", None]))
                    for _ in range(rows)]  # fmt: skip
    return pd.DataFrame(data, dtype=object)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_batches())
def test_cleaning_takes_any_string_and_leaves_each_value_in_range_or_missing(
    raw: pd.DataFrame,
) -> None:
    cleaned = clean_batch(raw)  # never raises
    assert len(cleaned) <= len(raw)
    for column in schema.NUMERIC_FEATURES:
        low, high = schema.NUMERIC_RANGES[column]
        for value in cleaned[column]:
            assert pd.isna(value) or low <= value <= high, (column, value)
            if column in schema.INTEGER_FEATURES and not pd.isna(value):
                assert float(value).is_integer()
    for column, allowed in schema.CATEGORIES.items():
        assert all(v is None or v in allowed for v in cleaned[column]), column
    assert all(v is None or v in schema.CLASSES for v in cleaned[schema.LABEL])
    assert cleaned["customer_id"].notna().all()


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
FEATURES = st.dictionaries(st.text(max_size=20), JSON_SCALARS, max_size=25)
ROWS = st.fixed_dictionaries(
    {
        "request_id": st.uuids().map(str),
        "customer_id": st.text(max_size=20),
        "features": FEATURES,
        "prediction": st.sampled_from(schema.CLASSES),
        "prob_poor": st.floats(0, 1),
        "model_version": st.text(max_size=5),
        "latency_ms": st.floats(0, 1e6),
        "created_at": st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)),
    }
)


@settings(max_examples=100, deadline=None)
@given(st.lists(ROWS, max_size=8), st.integers(0, 200))
def test_journal_records_round_trip_and_a_torn_tail_loses_only_itself(
    rows: list[dict[str, Any]], cut: int
) -> None:
    data = b"".join(encode(row) for row in rows)
    decoded, bad = decode(data)
    assert decoded == rows
    assert not bad
    if rows:  # the last append cut short anywhere: every earlier record still reads back
        last = len(encode(rows[-1]))
        torn = data[: len(data) - 1 - cut % (last - 1)]  # 1 to last-1 bytes missing
        decoded, bad = decode(torn)
        assert decoded == rows[:-1]
        assert len(bad) == 1
        assert bad[0].torn


def test_floats_survive_the_journal_bit_for_bit() -> None:
    row = {"x": math.pi, "y": 1e-300, "z": -0.0, "created_at": datetime(2025, 1, 1)}
    [back], _ = decode(encode(row))
    assert back == row
    assert math.copysign(1, back["z"]) == -1
