"""Many days' frames validated in one Great Expectations run, each day judged on its own.

GX spends about 0.2 s per run building its metric graph (51 expectations in the raw-batch suite)
whatever the number of rows, so one run per day cost ingestion seconds per day. Here the days that
share their columns and dtypes are concatenated and validated together (each expectation on the
columns it reads, see `_outcomes`), and each expectation's outcome is attributed back to the days:

- row-wise expectations (a value, a pair of values, a row; uniqueness): GX lists the unexpected
  rows of the run (result format COMPLETE) and a day's share of them is held against `mostly`,
  over a lower bound of the rows GX would count for that day alone. Among other days a day can
  only gain unexpected rows (a duplicate across days), never lose one, so no day that GX alone
  would fail is ever cleared;
- expectations on the columns (their set, order, count): one verdict for all the days, which
  share their columns;
- anything else (row counts, aggregates) is repeated for each day, restricted to that day's
  rows by a row condition.

A day not cleared this way is then validated alone, with details (SUMMARY): GX's verdict on the day
alone is the one that counts, and its report names the failed expectations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from advanced_mlops.contracts.suites import SuiteName, load_suite
from advanced_mlops.contracts.validate import ContractReport, broken_contract, run_suite, validate

# Whether a row is unexpected depends on that row alone (or, for uniqueness, on rows that are all
# still there when other days are added).
ROW_WISE = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_values_to_be_between",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_match_regex_list",
        "expect_column_values_to_not_match_regex_list",
        "expect_column_values_to_match_like_pattern",
        "expect_column_values_to_not_match_like_pattern",
        "expect_column_values_to_match_strftime_format",
        "expect_column_values_to_be_dateutil_parseable",
        "expect_column_values_to_be_json_parseable",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_pair_values_a_to_be_greater_than_b",
        "expect_column_pair_values_to_be_equal",
        "expect_column_pair_values_to_be_in_set",
        "expect_select_column_values_to_be_unique_within_record",
        "expect_multicolumn_sum_to_equal",
        "expect_column_values_to_be_unique",
        "expect_compound_columns_to_be_unique",
    }
)
# The verdict depends only on the columns, which every day of a group shares.
ON_COLUMNS = frozenset(
    {
        "expect_table_columns_to_match_set",
        "expect_table_columns_to_match_ordered_list",
        "expect_table_column_count_to_equal",
        "expect_table_column_count_to_be_between",
        "expect_column_to_exist",
    }
)
COMPLETE = {"result_format": "COMPLETE"}
DAY = "_contract_day"  # the position of each row's day, for the per-day copies' row condition


def broken_days(
    frames: Mapping[date, pd.DataFrame],
    suite_name: SuiteName,
) -> dict[date, ContractReport]:
    """The days whose frame breaks the suite, each with its detailed report (empty: all pass)."""
    spec = load_suite(suite_name)
    groups: dict[tuple[tuple[str, str], ...], list[date]] = {}
    for day, frame in frames.items():
        groups.setdefault(tuple((str(c), str(t)) for c, t in frame.dtypes.items()), []).append(day)
    broken = {}
    for days in groups.values():
        if len(days) == 1:  # nothing to share: the quick check, details only on failure
            if report := broken_contract(frames[days[0]], suite_name):
                broken[days[0]] = report
            continue
        for day in _uncleared(days, [frames[d] for d in days], spec):
            report = validate(frames[day], suite_name, "SUMMARY")
            if not report.success:
                broken[day] = report
    return dict(sorted(broken.items()))


def _uncleared(
    days: Sequence[date],
    frames: Sequence[pd.DataFrame],
    spec: dict[str, Any],
) -> list[date]:
    """The days one validation of all of them cannot clear (see the module's docstring)."""
    day_of_row = np.repeat(np.arange(len(days)), [len(f) for f in frames])
    whole = pd.concat(frames, ignore_index=True)
    plan = _per_day_plan(spec["expectations"], len(days))
    if plan is None or any(not set(_reads(e, whole)) <= set(whole) for e in plan):
        return list(days)  # GX would fail to evaluate something: let each day show what
    uncleared = np.zeros(len(days), dtype=bool)
    for outcome in _outcomes(whole, day_of_row, spec["name"], plan):
        config = outcome.expectation_config
        kind, position = config.meta["kind"], config.meta.get("day")
        raised = (outcome.exception_info or {}).get("raised_exception", False)
        if raised or (kind == "columns" and not outcome.success):
            return list(days)
        if kind == "per_day":
            uncleared[position] |= not outcome.success
        elif kind == "row_wise" and outcome.result.get("unexpected_count"):
            found = _row_wise_failures(outcome, config.kwargs, whole, day_of_row, len(days))
            if found is None:
                return list(days)
            uncleared |= found
    return [day for day, flag in zip(days, uncleared, strict=True) if flag]


def _outcomes(
    whole: pd.DataFrame, day_of_row: np.ndarray, name: str, plan: list[dict[str, Any]]
) -> list[Any]:
    """GX's result of every planned expectation. GX's pandas engine copies every column of the
    batch each time it filters rows for one expectation, so each runs on the columns it reads
    (half the time of one run on all of them, for 100,000 rows of 27 columns), and the per-day
    copies also on the day of each row."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for expectation in plan:
        by_columns.setdefault(tuple(_reads(expectation, whole)), []).append(expectation)
    outcomes = []
    for columns, expectations in by_columns.items():
        frame = whole[list(columns)] if columns else whole
        if any(e["meta"]["kind"] == "per_day" for e in expectations):
            frame = frame.assign(**{DAY: day_of_row})
        outcomes += run_suite(frame, name, expectations, COMPLETE).results
    return outcomes


def _reads(expectation: dict[str, Any], whole: pd.DataFrame) -> list[str]:
    """The columns an expectation needs to see (none listed: the whole frame, for the columns'
    own expectations and for a suite's own row condition, which may read any column)."""
    kwargs, kind = expectation["kwargs"], expectation["meta"]["kind"]
    if kind == "columns" or (kind == "row_wise" and "row_condition" in kwargs):
        return []
    return _columns_of(kwargs) or [str(whole.columns[0])]


def _per_day_plan(expectations: list[dict[str, Any]], days: int) -> list[dict[str, Any]] | None:
    """The expectations of the one run, each tagged with how its outcome maps to days; None when
    one of them can be judged neither way (the days are then validated alone)."""
    plan = []
    for expectation in expectations:
        kind = expectation["type"]
        kwargs = expectation.get("kwargs", {})
        if kind in ROW_WISE:
            plan.append(_tagged(expectation, kind="row_wise"))
        elif kind in ON_COLUMNS:
            plan.append(_tagged(expectation, kind="columns"))
        elif "row_condition" in kwargs or not _accepts_row_condition(kind):
            return None
        else:
            from great_expectations.expectations.row_conditions import Column

            for position in range(days):
                tagged = _tagged(expectation, kind="per_day", day=position)
                tagged["kwargs"] = {**kwargs, "row_condition": Column(DAY) == position}
                plan.append(tagged)
    return plan


def _tagged(expectation: dict[str, Any], **meta: object) -> dict[str, Any]:
    return {**expectation, "meta": {**expectation.get("meta", {}), **meta}}


def _accepts_row_condition(kind: str) -> bool:
    from great_expectations.expectations.registry import get_expectation_impl

    return "row_condition" in get_expectation_impl(kind).__fields__


def _row_wise_failures(
    outcome: Any, kwargs: dict[str, Any], whole: pd.DataFrame, day_of_row: np.ndarray, days: int
) -> np.ndarray | None:
    """Which days may fail this row-wise expectation alone; None if GX's list is incomplete."""
    unexpected = np.asarray(outcome.result.get("unexpected_index_list") or [], dtype=np.int64)
    if len(unexpected) != (outcome.result.get("unexpected_count") or 0):
        return None
    per_day = np.bincount(day_of_row[unexpected], minlength=days)
    mostly = float(kwargs.get("mostly") or 1.0)
    if mostly >= 1.0 or "row_condition" in kwargs:
        return per_day > 0
    # GX counts a day's rows minus those it ignores for missing values: at least the rows where
    # every column of the expectation is present. Fewer rows counted can only lower the ratio.
    columns = _columns_of(kwargs)
    present = whole[columns].notna().all(axis=1).to_numpy() if columns else np.ones(len(whole))
    counted = np.bincount(day_of_row, weights=present, minlength=days)
    return (per_day > 0) & ((counted - per_day) < mostly * counted)


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", []))
