"""How results look in a terminal. Only presentation lives here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the heavy modules load only for the commands that need them
    from advanced_mlops.contracts.validate import ContractReport
    from advanced_mlops.registry.promotion import GateResult

console = Console()
errors = Console(stderr=True)


def contract_table(report: ContractReport, only_failures: bool = False) -> Table:
    verdict = "[green]passed[/]" if report.success else "[red]FAILED[/]"
    table = Table(title=f"contract {report.suite} on {report.rows} rows: {verdict}")
    for column in ("column", "expectation", "observed", "ok"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        if only_failures and check.success:
            continue
        mark = "[green]yes[/]" if check.success else "[red]NO[/]"
        table.add_row(check.column, check.expectation, check.observed, mark)
    return table


def gate_table(result: GateResult) -> Table:
    verdict = "[green]PASSED[/]" if result.passed else "[red]REFUSED[/]"
    champion = f"champion v{result.champion}" if result.champion else "no champion yet"
    table = Table(
        title=f"gate v{result.version} vs {champion} on {result.holdout_rows} holdout rows "
        f"(known by {result.base_date}): {verdict}",
        caption=result.comparison.reason if result.comparison else None,
    )
    for column in ("rule", "observed", "threshold", "ok"):
        table.add_column(column)
    for check in result.checks:
        mark = "[green]yes[/]" if check.passed else "[red]NO[/]"
        table.add_row(
            check.name, f"{check.observed:.4f}", f"{check.rule} {check.threshold:.4f}", mark
        )
    return table


def metrics_table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    return table


def records_table(title: str, records: list[dict[str, Any]], columns: list[str]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for record in records:
        table.add_row(*("" if record.get(c) is None else str(record.get(c)) for c in columns))
    return table
