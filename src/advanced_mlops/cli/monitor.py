"""`mlops monitor` and `mlops traffic`: the daily monitoring and a traffic simulator for it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from advanced_mlops.cli import render
from advanced_mlops.cli.options import date_range, parse_date
from advanced_mlops.settings import load_settings

if TYPE_CHECKING:
    from advanced_mlops.monitoring.result import MonitoringResult

STATUS_STYLE = {"ok": "green", "retrain": "red", "cooldown": "yellow", "insufficient_data": "dim"}
SHOWN_FEATURES = 8


def monitor(
    date: Annotated[str, typer.Option("--date", help="Day of the prediction log, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option("--days", help="Number of consecutive days.")] = 1,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="Write the HTML report, log to MLflow.")
    ] = True,
) -> None:
    """Drift, data quality and live performance of a day's predictions; decide on retraining."""
    from advanced_mlops.monitoring.job import monitor_day

    settings = load_settings()
    for day in date_range(parse_date(date, "--date"), days):
        result = monitor_day(settings, day, report=report)
        render.console.print(result_table(result))
        if result.report_path:
            render.console.print(f"report: {result.report_path}", soft_wrap=True)
        if problem := result.report_problem:
            render.console.print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)


def traffic(
    date: Annotated[str, typer.Option("--date", help="Day whose feature rows are scored.")],
    days: Annotated[int, typer.Option("--days", help="Number of consecutive days.")] = 1,
) -> None:
    """Score a day's feature rows with the champion and log them as the service would."""
    from advanced_mlops.serving.traffic import log_traffic

    settings = load_settings()
    for day in date_range(parse_date(date, "--date"), days):
        result = log_traffic(settings, day)
        render.console.print(
            f"logged {result.rows} predictions of v{result.model_version} for {result.day}"
        )


def result_table(result: MonitoringResult) -> Table:
    decision = result.decision
    style = STATUS_STYLE.get(decision.status, "")
    table = Table(
        title=f"monitoring {result.day}: champion v{result.model_version}, {result.rows} "
        f"predictions -> [{style}]{decision.status}[/]",
        show_header=True,
    )
    table.add_column("check")
    table.add_column("state")
    table.add_column("why", overflow="fold")
    for reason in decision.reasons:
        table.add_row("", "", reason)
    for check, state in decision.checks.items():
        table.add_row(check, state, "")
    if (shadow := result.shadow) is not None:  # carried out by the monitoring DAG
        table.add_row(f"challenger v{shadow.challenger}", shadow.action, escape(shadow.reason))
    ranked = sorted(result.drift, key=lambda d: -d.value_to_threshold)[:SHOWN_FEATURES]
    for d in ranked:
        mark = "[red]drift[/]" if d.drifted and result.drift_judged else ""
        table.add_row(
            f"  {d.feature}",
            mark,
            f"{d.statistic} {d.value:.3f} (>= {d.threshold}), p {d.p_value:.2g} (< {d.alpha:g})",
        )
    return table


def register(app: typer.Typer) -> None:
    app.command()(monitor)
    app.command()(traffic)
