"""Running a suite on a DataFrame with Great Expectations, and a report a person can read.

GX takes ~7 s to import, so it is imported here, lazily, and only when a check actually runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import pandas as pd

from advanced_mlops.contracts.suites import SuiteName, load_suite
from advanced_mlops.errors import MlopsError


@dataclass(frozen=True)
class Check:
    column: str
    expectation: str
    observed: str
    success: bool


@dataclass(frozen=True)
class ContractReport:
    suite: str
    rows: int
    checks: tuple[Check, ...]

    @property
    def success(self) -> bool:
        return all(c.success for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.success)

    def summary(self) -> str:
        """One line naming every broken expectation, for error messages."""
        broken = "; ".join(f"{c.column}: {c.expectation} ({c.observed})" for c in self.failures)
        return f"{self.suite}: {len(self.failures)} of {len(self.checks)} failed: {broken}"


class ContractError(MlopsError):
    """Data that breaks its contract: retrying cannot help, so orchestrators fail at once.

    It keeps the day and the report, so a CI summary can show the failed expectations."""

    def __init__(
        self, message: str, day: date | None = None, report: ContractReport | None = None
    ) -> None:
        super().__init__(message)
        self.day = day
        self.report = report


@cache
def _batch_definition() -> Any:
    """One ephemeral GX context per process, without progress bars or analytics."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("frames").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def run_suite(
    frame: pd.DataFrame,
    name: str,
    expectations: list[dict[str, Any]],
    result_format: str | dict[str, Any],
) -> Any:
    """One GX run of `expectations` on `frame`: GX's own result object (results in any order)."""
    from great_expectations.core import ExpectationSuite

    suite = ExpectationSuite(name=name, expectations=expectations)
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, result_format=result_format)


def validate(
    frame: pd.DataFrame, suite_name: SuiteName, result_format: str = "SUMMARY"
) -> ContractReport:
    """Validate `frame` against the suite file; never raises on a failing expectation.

    SUMMARY reports what was observed for every check; BOOLEAN_ONLY only whether it passed, in
    a quarter of the time (GX spends most of a validation building those details).
    """
    spec = load_suite(suite_name)
    result = run_suite(frame, spec["name"], spec["expectations"], result_format)
    checks = tuple(
        Check(
            column=_column_of(r.expectation_config.kwargs),
            expectation=r.expectation_config.type,
            observed=_observed(r.result, r.exception_info),
            success=bool(r.success),
        )
        for r in result.results
    )
    return ContractReport(suite=suite_name.value, rows=len(frame), checks=checks)


def broken_contract(frame: pd.DataFrame, suite_name: SuiteName) -> ContractReport | None:
    """None when `frame` meets the suite, else the detailed report of what broke: the quick
    check runs on every batch, the details only for a batch that fails it."""
    if validate(frame, suite_name, "BOOLEAN_ONLY").success:
        return None
    return validate(frame, suite_name)


def _column_of(kwargs: dict[str, Any]) -> str:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_list" in kwargs:
        return ",".join(map(str, kwargs["column_list"]))
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return "(table)"


def _observed(result: dict[str, Any], exception: Any) -> str:
    raised = exception.get("raised_exception") if isinstance(exception, dict) else False
    if raised:
        message = str(exception.get("exception_message") or "error").splitlines()[0]
        return message[:120]
    if "observed_value" in result:
        return _short(result["observed_value"])
    if result.get("unexpected_percent") is not None:
        sample = result.get("partial_unexpected_list") or []
        shown = ", ".join(map(repr, sample[:3]))
        return f"{result['unexpected_percent']:.1f}% unexpected" + (f": {shown}" if shown else "")
    return ""


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
