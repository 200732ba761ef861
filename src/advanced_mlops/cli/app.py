"""Commands of `mlops`. Each one parses its options, calls one package function, prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from advanced_mlops.cli import monitor, render, summary
from advanced_mlops.cli.airflow import airflow_app
from advanced_mlops.cli.deploy import deploy_app
from advanced_mlops.cli.options import build_source, date_range, parse_date
from advanced_mlops.cli.stack import stack_app
from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import load_settings, masked_url
from advanced_mlops.version import package_version

app = typer.Typer(
    help="advanced-mlops: credit-score classification, from raw data to a promoted model.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The feature/log store's schema.", no_args_is_help=True)
contracts_app = typer.Typer(
    help="Data contracts (Great Expectations suites).", no_args_is_help=True
)
pr_app = typer.Typer(
    help="A pull request's pipeline judged against its base's (make model-gate).",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(pr_app, name="pr")
app.add_typer(contracts_app, name="contracts")
app.add_typer(airflow_app, name="airflow")
app.add_typer(deploy_app, name="deploy")
app.add_typer(stack_app, name="stack")
monitor.register(app)


def _print_version(requested: bool) -> None:
    if requested:
        render.console.print(f"advanced-mlops {package_version()}", highlight=False)
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the package's version (the git tag it was built from) and exit.",
        ),
    ] = False,
) -> None:
    """advanced-mlops: credit-score classification, from raw data to a promoted model."""


DateOption = Annotated[str, typer.Option("--date", help="Day to process, YYYY-MM-DD.")]
ScenarioOption = Annotated[
    str,
    typer.Option("--scenario", help="stable, covariate_drift, concept_drift or schema_break."),
]
ScenarioStartOption = Annotated[
    str | None, typer.Option("--scenario-start", help="First day of the scenario (YYYY-MM-DD).")
]
CsvOption = Annotated[
    Path | None, typer.Option("--csv", help="Read raw batches from this CSV instead.")
]
VersionOption = Annotated[str, typer.Option("--version", help="Registered model version.")]


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the store's tables or upgrade them to the newest schema (safe to re-run)."""
    from advanced_mlops.store.engine import upgrade

    settings = load_settings()
    before, after = upgrade(settings.store.url)
    change = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    render.console.print(f"store {masked_url(settings.store.url)}: {change} revision {after}")


@app.command()
def ingest(
    date: DateOption,
    days: Annotated[int, typer.Option("--days", help="Number of consecutive days.")] = 1,
    scenario: ScenarioOption = "stable",
    scenario_start: ScenarioStartOption = None,
    csv: CsvOption = None,
    summaries: summary.SummaryOption = None,
) -> None:
    """Clean and store daily batches; a day is replaced as a whole, so re-runs are safe.

    A run that breaks a contract on any day stores nothing and says why in the summary too."""
    from advanced_mlops.data.ingest import ingest_days
    from advanced_mlops.data.sources import scenario_of

    settings = load_settings()
    days_to_load = date_range(parse_date(date, "--date"), days)
    source, source_name = build_source(settings, scenario, scenario_start, csv)
    try:
        results = ingest_days(
            settings.store.url,
            source,
            days_to_load,
            settings.data.label_delay_days,
            scenario_of(source),
            source_name,
        )
    except MlopsError as exc:
        summary.write(summaries, summary.ingest_refused_markdown(exc))
        raise
    summary.write(summaries, summary.ingest_markdown(results))
    rows = sum(r.feature_rows for r in results)
    labels = sum(r.label_rows for r in results)
    withheld = sum(r.labels_withheld for r in results)
    render.console.print(
        f"ingested {len(results)} day(s) {results[0].day}..{results[-1].day}: "
        f"{rows} feature rows, {labels} labels"
        + (f" ({withheld} labels of days not stored were left out)" if withheld else "")
    )


@contracts_app.command("check")
def contracts_check(
    date: DateOption,
    suite: Annotated[
        str, typer.Option("--suite", help="raw_batch, training_snapshot, prediction_log or all.")
    ] = "all",
    scenario: ScenarioOption = "stable",
    scenario_start: ScenarioStartOption = None,
    csv: CsvOption = None,
    summaries: summary.SummaryOption = None,
) -> None:
    """Validate a day's data against its contracts; exits 1 when any expectation fails."""
    from advanced_mlops.cli.contracts import check_day, parse_suites

    settings = load_settings()
    day = parse_date(date, "--date")
    suites = parse_suites(suite)
    source, _ = build_source(settings, scenario, scenario_start, csv)
    reports, skipped = check_day(settings, source, day, suites)
    for report in reports:
        render.console.print(render.contract_table(report))
    for note in skipped:
        render.console.print(f"[yellow]skipped[/] {note}")
    summary.write(summaries, summary.contracts_markdown(day, reports, skipped))
    if not all(r.success for r in reports):
        raise typer.Exit(1)


@app.command()
def train(
    base_date: Annotated[
        str, typer.Option("--base-date", help="Train on what was known on this day.")
    ],
) -> None:
    """Build a point-in-time snapshot, tune CatBoost, log to MLflow, register a new version."""
    from advanced_mlops.training.job import train as run_training

    settings = load_settings()
    result = run_training(settings, parse_date(base_date, "--base-date"))
    render.console.print(
        render.metrics_table(
            f"registered {settings.store.model_name} v{result.version} (run {result.run_id[:8]})",
            [
                *result.rows.items(),
                ("data_hash", result.data_hash),
                ("depth", result.best_params["depth"]),
                ("l2_leaf_reg", result.best_params["l2_leaf_reg"]),
                *((f"holdout {k}", v) for k, v in result.metrics.items()),
            ],
        )
    )


@app.command()
def gate(
    version: VersionOption,
    base_date: Annotated[
        str | None, typer.Option("--base-date", help="Judge on data known by this day.")
    ] = None,
    summaries: summary.SummaryOption = None,
) -> None:
    """Compare a version with the champion on the newest holdout; exit 0 pass, 1 refusal."""
    from advanced_mlops.registry.promotion import gate as run_gate

    day = parse_date(base_date, "--base-date") if base_date else None
    result = run_gate(load_settings(), version, day)
    render.console.print(render.gate_table(result))
    summary.write(summaries, summary.gate_markdown(result))
    if not result.passed:
        raise typer.Exit(1)


@app.command()
def promote(
    version: VersionOption,
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the history.")] = (
        "passed the gate"
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Promote without a passing gate (recorded).")
    ] = False,
) -> None:
    """Move alias `champion` to a version that passed the gate (the old one becomes previous)."""
    from advanced_mlops.registry.promotion import promote as run_promote

    settings = load_settings()
    replaced = run_promote(settings, version, reason, force)
    was = f" (was v{replaced})" if replaced else ""
    render.console.print(f"champion of {settings.store.model_name} is now v{version}{was}")


@app.command()
def shadow(
    version: Annotated[
        str | None, typer.Option("--version", help="Version to score in shadow.")
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Retire the challenger (recorded).")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the history.")] = "",
    force: Annotated[
        bool, typer.Option("--force", help="Shadow a version that failed a floor (recorded).")
    ] = False,
) -> None:
    """Move alias `challenger`: the version the service scores beside the champion, unanswered."""
    from advanced_mlops.registry import shadow as challenger

    if (version is None) == (not clear):
        raise MlopsError("give either --version V or --clear")
    settings = load_settings()
    if version is None:
        retired = challenger.clear(settings, reason or "cleared by hand")
        render.console.print(f"challenger v{retired} of {settings.store.model_name} retired")
        return
    replaced = challenger.shadow(settings, version, force, reason)
    was = f" (was v{replaced})" if replaced else ""
    render.console.print(f"challenger of {settings.store.model_name} is now v{version}{was}")


@app.command()
def rollback(
    reason: Annotated[str, typer.Option("--reason", help="Why; kept in the history.")] = (
        "manual rollback"
    ),
) -> None:
    """Put the previous champion back."""
    from advanced_mlops.registry.promotion import rollback as run_rollback

    settings = load_settings()
    left, restored = run_rollback(settings, reason)
    render.console.print(
        f"champion of {settings.store.model_name} is back to v{restored} (was v{left})"
    )


@app.command()
def card(
    version: VersionOption,
    out: Annotated[Path | None, typer.Option("--out", help="Also write it to this file.")] = None,
) -> None:
    """A version's model card (markdown): use, data, figures with intervals, slices, verdicts."""
    from advanced_mlops.registry.card import model_card

    markdown = model_card(load_settings(), version)
    summary.write([out] if out else None, markdown)
    render.console.print(markdown, markup=False, highlight=False)


@app.command()
def history() -> None:
    """Every gate verdict and alias move (promote, rollback, shadow, retire), oldest first."""
    from advanced_mlops.registry.promotion import history as read_history

    records = read_history(load_settings())
    columns = ["at", "event", "version", "from_version", "passed", "forced", "reason"]
    render.console.print(render.records_table("promotion history", records, columns))


@pr_app.command("sample")
def pr_sample(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the sample to.")],
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    days: Annotated[int, typer.Option("--days", min=2, help="Days generated.")],
    holdout_days: Annotated[
        int, typer.Option("--holdout-days", min=1, help="The last N days are the holdout.")
    ] = 7,
) -> None:
    """Generate the raw sample both sides use and hold out its last days (base's side)."""
    from advanced_mlops.cli.pr_sides import write_sample

    sample = write_sample(load_settings(), parse_date(start, "--start"), days, holdout_days, out)
    render.console.print(
        f"sample in {out}: {sample.train_days} training days to {sample.base_date}, "
        f"{sample.holdout_days} holdout days"
    )


@pr_app.command("train-predict")
def pr_train_predict(
    sample: Annotated[Path, typer.Option("--sample", help="Folder `mlops pr sample` wrote.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file of the predictions.")],
) -> None:
    """This commit's pipeline on the sample: ingest, train, predict the holdout records."""
    from advanced_mlops.cli.pr_sides import train_and_predict

    answer = train_and_predict(load_settings(), sample, out)
    render.console.print(f"v{answer['version']} predicted {len(answer['keys'])} records: {out}")


@pr_app.command("gate")
def pr_gate(
    start: Annotated[str, typer.Option("--start", help="First day of the sample.")],
    days: Annotated[int, typer.Option("--days", min=2, help="Days in the sample.")],
    work: Annotated[Path, typer.Option("--work", help="Folder for both sides' stores.")],
    base_ref: Annotated[
        str | None,
        typer.Option(
            "--base-ref",
            envvar="BASE_REF",
            help="The base commit; default the merge base with origin/main, else main.",
        ),
    ] = None,
    summaries: summary.SummaryOption = None,
) -> None:
    """Judge this checkout's pipeline against its base's on the same data; exit 1 when worse."""
    from advanced_mlops.cli.pr_check import pr_gate as run_pr_gate

    verdict = run_pr_gate(
        load_settings(), Path.cwd(), base_ref or None, parse_date(start, "--start"), days, work
    )
    markdown = summary.pr_markdown(verdict)
    render.console.print(markdown, markup=False, highlight=False)
    summary.write(summaries, markdown)
    if not verdict.judgement.passed:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 3000,
) -> None:
    """Serve the champion over HTTP (BentoML) until stopped; stopping flushes the log."""
    from advanced_mlops.serving.champion import champion_version
    from advanced_mlops.serving.service_runner import exec_service
    from advanced_mlops.store.engine import require_current_schema

    settings = load_settings()
    require_current_schema(settings.store.url)
    version = champion_version(settings)
    render.console.print(
        f"serving {settings.store.model_name} v{version} on http://{host}:{port} "
        f"({settings.serving.serve_workers} workers, log {settings.serving.log_mode} to "
        f"{masked_url(settings.store.url)})"
    )
    exec_service(host, port)


@app.command()
def loadtest(
    users: Annotated[int, typer.Option("--users", min=1, help="Simulated users.")] = 100,
    duration: Annotated[int, typer.Option("--duration", min=1, help="Seconds.")] = 60,
    host: Annotated[str, typer.Option("--host", help="Base URL of the service.")] = (
        "http://127.0.0.1:3000"
    ),
    wait: Annotated[
        str, typer.Option("--wait", help="Think time MIN-MAX seconds between a user's calls.")
    ] = "1-5",
) -> None:
    """Headless locust run against a started service; writes CSV and HTML reports."""
    from advanced_mlops.serving.loadtest import run_loadtest

    result = run_loadtest(load_settings(), users, duration, host, wait)
    render.console.print(render.records_table("load test", result.rows, result.columns))
    render.console.print(f"reports: {result.report_dir}")
    if result.failures:
        raise typer.Exit(1)


@app.command()
def demo(
    history_days: Annotated[
        int, typer.Option("--history-days", min=30, help="Days ingested before the first model.")
    ] = 60,
    stable_days: Annotated[
        int, typer.Option("--stable-days", min=0, help="Monitored days before any drift.")
    ] = 10,
    covariate_days: Annotated[
        int, typer.Option("--covariate-days", min=0, help="Days of covariate drift alone.")
    ] = 32,
    concept_days: Annotated[
        int, typer.Option("--concept-days", min=1, help="Days of concept drift on top of it.")
    ] = 40,
) -> None:
    """The continuous-training loop on embedded stores under MLOPS_HOME/demo (recreated)."""
    with render.console.status("starting: loading MLflow, CatBoost and scikit-learn"):
        from advanced_mlops.cli.demo import Timeline, run_demo

    timeline = Timeline(history_days, stable_days, covariate_days, concept_days)
    run_demo(load_settings(), timeline)


def main(argv: list[str] | None = None) -> None:
    """Entry point: known problems become one line on stderr and a non-zero exit."""
    try:
        app(args=argv, prog_name="mlops")
    except MlopsError as exc:
        render.errors.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
