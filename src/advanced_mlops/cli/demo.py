"""`mlops demo`: the continuous-training loop, start to finish, on embedded stores.

Story: a first model is trained on stable data and promoted. Then every day runs what the DAGs
run: ingest the day, serve its customers (their predictions go to the log, the challenger's
shadow answers beside them), monitor the day, and retrain when the rule fires. The demo runs the
shadow policy (MLOPS_TRAINING_POLICY=shadow): a retrained model that clears the gate's floors
goes to shadow, and the labels of the traffic it scored decide whether it is promoted. Stable
days raise nothing; a covariate drift (a poorer population) is detected within days; a concept
drift (utilisation starts to drive the label) changes no input, so only the live performance
alarm catches it, once its delayed labels arrive; each time a retrained model is promoted once
live labels show it better, and the champion's live performance recovers. Last, the first model,
trained before the drifts, asks to be champion again and the gate refuses it.

Every step that takes more than a moment shows a spinner or a bar, and the demo's own lines are
all that reaches the terminal (MLflow's registration lines are muted at their source).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import mean

import pandas as pd
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from advanced_mlops import mlflow_io
from advanced_mlops.cli import render
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.data.sources import scenario_of
from advanced_mlops.monitoring.job import monitor_day, with_report
from advanced_mlops.monitoring.result import MonitoringResult
from advanced_mlops.monitoring.shadow import ShadowVerdict
from advanced_mlops.registry import promotion
from advanced_mlops.registry.promotion import score
from advanced_mlops.registry.shadow import settle, shadow_by_policy
from advanced_mlops.serving.traffic import log_traffic
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from advanced_mlops.training.job import train
from advanced_mlops.training.model import grid, search_space
from advanced_mlops.training.snapshot import snapshot_at

START = date(2025, 1, 1)
DEMO_HOLDOUT_DAYS = 7  # see demo_settings
DEMO_HALF_LIFE_DAYS = 7.0
SHADOW = "shadow"
STATUS_STYLE = {"ok": "green", "retrain": "bold red", "cooldown": "yellow"}


@dataclass(frozen=True)
class Timeline:
    """The demo's calendar: history, then monitored days, the drifts' starts, the last day."""

    history_days: int
    stable_days: int
    covariate_days: int
    concept_days: int

    @property
    def first_monitored(self) -> date:
        return START + timedelta(days=self.history_days)

    @property
    def covariate_start(self) -> date:
        return self.first_monitored + timedelta(days=self.stable_days)

    @property
    def concept_start(self) -> date:
        return self.covariate_start + timedelta(days=self.covariate_days)

    @property
    def last_day(self) -> date:
        return self.concept_start + timedelta(days=self.concept_days - 1)

    def scenario(self) -> Scenario:
        concept = Scenario(ScenarioName.CONCEPT_DRIFT, self.concept_start)
        return Scenario(ScenarioName.COVARIATE_DRIFT, self.covariate_start, also=concept)


@dataclass
class Row:
    version: str
    story: str
    base_date: date
    holdout_f1: float = 0.0
    gate: str = "-"  # promoted, refused, or shadow (then what live labels decided)
    champion: str = ""
    replaced: str | None = None  # the challenger this one replaced in shadow


@dataclass(frozen=True)
class Day:
    """One monitored day, as the summary needs it."""

    day: date
    scenario: str
    status: str
    champion: str | None
    live_f1: float | None
    action: str
    alarms: tuple[str, ...] = ()  # the checks that alarmed: drift, performance
    judged_until: date | None = None  # newest prediction day in the live-performance figure
    shadow: ShadowVerdict | None = None  # the challenger's live verdict that day


def demo_settings(settings: Settings) -> Settings:
    """Embedded stores in their own folder, so the demo never touches your data. Its tuning is
    lighter than `mlops train`'s: one point (depth 6, L2 3: the one the training bench finds
    best) instead of four, stopped after 20 rounds without progress instead of 40 (the best
    round comes early on its small data). Measured side by side on a loaded machine, the same
    story in 171 s instead of 182 s with two points. Its holdout is 7 label days, not the
    default 14: a model is fitted only on labels older than its holdout and validation
    windows, and at the demo's traffic 14 days keep every retrained model three weeks behind
    the drift it retrains for (measured: five drift retrainings in a row, no live recovery
    within the covariate phase, and a story in 1,000 s); the gate's error rates at 7 days are
    in bench/README.md. Training weights halve every 7 days back, not 30: measured over 40 days
    of concept drift under the promote policy, with 30 the four models retrained after it were
    all refused and the champion's live macro-F1 fell to 0.49; with 7, the third recovered it
    to 0.68-0.70. And it runs the shadow policy (see the module's docstring)."""
    home = settings.store.home / "demo"
    demo = settings.with_store(
        home=home,
        db_url=f"sqlite:///{(home / 'store.db').resolve()}",
        mlflow_tracking_uri=f"sqlite:///{(home / 'mlflow.db').resolve()}",
    )
    training = demo.training.model_copy(
        update={
            "early_stopping_rounds": min(demo.training.early_stopping_rounds, 20),
            "holdout_days": DEMO_HOLDOUT_DAYS,
            "recency_half_life_days": DEMO_HALF_LIFE_DAYS,
            "search_depths": [6],
            "search_l2_leaf_regs": demo.training.search_l2_leaf_regs[:1],
        }
    )
    gate = demo.gate.model_copy(update={"training_policy": "shadow"})
    return demo.model_copy(update={"training": training, "gate": gate})


def run_demo(base: Settings, timeline: Timeline) -> None:
    settings = demo_settings(base)
    shutil.rmtree(settings.store.home, ignore_errors=True)
    started = time.perf_counter()
    say = render.console.rule
    source = Generator(
        settings.data.seed, settings.data.customers, settings.data.dirt_rate, timeline.scenario()
    )

    say("1. stores")
    with render.console.status("creating the feature/log store"):
        upgrade(settings.store.url)
    render.console.print(f"feature/log store: {settings.store.url}")
    render.console.print(f"MLflow tracking:   {settings.store.tracking_uri}")

    say(f"2. ingest {timeline.history_days} days of history")
    _ingest(settings, source, START, timeline.history_days)

    say("3. train, gate and promote the first model")
    first = timeline.first_monitored - timedelta(days=1)
    rows = [_gate(settings, _train(settings, first), first, "first model, stable data")]

    say("4. daily operations: ingest, serve, monitor, retrain when the rule fires")
    render.console.print(
        f"stable until {timeline.covariate_start - timedelta(days=1)}; covariate drift from "
        f"{timeline.covariate_start}; concept drift on top from {timeline.concept_start}; labels "
        f"arrive {settings.data.label_delay_days} days after each prediction"
    )
    render.console.print(DAY_HEADER, style="bold", highlight=False)
    days = []
    reports = []
    day = timeline.first_monitored
    while day <= timeline.last_day:
        outcome, retrained, report = _operate(settings, source, day)
        days.append(outcome)
        if outcome.shadow is not None and outcome.shadow.action != "wait":
            _mark(rows, outcome.shadow.challenger, f"{outcome.shadow.action}d")
        for row in retrained:
            _mark(rows, row.replaced, "replaced")
        rows += retrained
        reports += [report] if report else []
        day += timedelta(days=1)

    say("5. the first model, trained before the drifts, asks to be champion again")
    if mlflow_io.alias_version(settings, mlflow_io.CHAMPION) == rows[0].version:
        # A calendar too short for any retraining: there is nothing to take its place back from.
        render.console.print(f"    v{rows[0].version} never left: no model replaced it")
    else:
        stale = "stale: v1 again, before the drifts"
        rows.append(_gate(settings, rows[0].version, first, stale, policy=False))

    say("summary")
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    for row in rows:
        row.champion = "champion" if row.version == champion else ""
    render.console.print(
        render.records_table(
            "models (holdout: the newest labelled days known when each was gated)",
            [row.__dict__ for row in rows],
            ["version", "story", "base_date", "holdout_f1", "gate", "champion"],
        )
    )
    with render.console.status("comparing the models on the drifts' labelled predictions"):
        comparisons = {
            name: compare_phase(settings, days, rows, start, end)
            for name, start, end in phases(timeline)
        }
    challenger = mlflow_io.alias_version(settings, mlflow_io.CHALLENGER)
    lines = story_lines(days, timeline, settings.data.label_delay_days, comparisons)
    for line in lines + shadow_lines(days, challenger):
        render.console.print(line if line.startswith(" ") else f"- {line}", highlight=False)
    seconds = time.perf_counter() - started
    for line in closing_lines(seconds, reports, settings.store.tracking_uri):
        render.console.print(line, highlight=False, soft_wrap=True)  # one line each, to copy


def closing_lines(seconds: float, reports: list[Path], tracking_uri: str) -> list[str]:
    """The wall time, the newest HTML report, and the command that opens MLflow's UI last."""
    newest = f"newest HTML report: {reports[-1]}" if reports else "no day triggered a retraining"
    return [
        f"finished in {seconds:.0f} s. {len(reports)} HTML reports, one per day that triggered a "
        f"retraining; {newest}",
        "explore the runs and the reports in MLflow's UI:",
        f"  uv run mlflow ui --backend-store-uri {tracking_uri}",
    ]


def _operate(
    settings: Settings, source: Generator, day: date
) -> tuple[Day, list[Row], Path | None]:
    """One day of operations, as the three DAGs (and the service) would run it; a day that
    triggers a retraining gets its HTML report."""
    scenario = scenario_of(source)
    with render.console.status(f"{day}: ingesting, serving and monitoring the day"):
        ingest_days(settings.store.url, source, [day], settings.data.label_delay_days, scenario,
                    "generator")  # fmt: skip
        log_traffic(settings, day)
        result = monitor_day(settings, day, report=False)
        if result.decision.retrain:
            result = with_report(settings, result)
    decision = result.decision
    render.console.print(day_line(result, scenario(day)), highlight=False)
    verdict = result.shadow
    if verdict is not None and verdict.action != "wait":  # as the monitoring DAG does
        line = settle(settings, verdict.action, verdict.reason, verdict.as_dict())
        render.console.print(f"    [cyan]shadow:[/] {line}", highlight=False)
    retrained: list[Row] = []
    action = ""
    alarms = tuple(check for check, state in decision.checks.items() if state == "alarm")
    if decision.retrain:
        render.console.print(f"    [red]why:[/] {decision.reasons[0]}", highlight=False)
        version = _train(settings, day)
        row = _gate(settings, version, day, f"retrained on {day}: {' and '.join(alarms)}")
        retrained.append(row)
        action = f"{'+'.join(alarms)}: v{row.version} {row.gate}"
    perf = result.performance
    judged = perf is not None and perf.rows >= settings.monitoring.min_labelled
    outcome = Day(day, scenario(day), decision.status, result.model_version,
                  perf.macro_f1 if perf and judged else None, action, alarms,
                  perf.last_day if perf and judged else None, verdict)  # fmt: skip
    return outcome, retrained, result.report_path


DAY_HEADER = "day        world       model served    F1  decision      drifted features"
WORLDS = {"stable": "stable", "covariate_drift": "covariate",
          "concept_drift+covariate_drift": "cov+concept"}  # fmt: skip


def day_line(result: MonitoringResult, scenario: str) -> str:
    """One line of at most 80 characters per monitored day (columns as in DAY_HEADER)."""
    decision, perf = result.decision, result.performance
    style = STATUS_STYLE.get(decision.status, "dim")
    status = decision.status.replace("insufficient_data", "insufficient")
    f1 = f"{perf.macro_f1:.3f}" if perf and perf.macro_f1 is not None else "-"
    drifted = decision.drifted_features
    named = (
        f"{drifted[0][:19]}" + (f" +{len(drifted) - 1}" if len(drifted) > 1 else "")
        if drifted
        else ""
    )
    return (
        f"{result.day} {WORLDS.get(scenario, scenario)[:11]:11} v{result.model_version or '-':<4} "
        f"{result.rows:6} {f1:>5}  [{style}]{status:12}[/]  {named}"
    ).rstrip()


@dataclass(frozen=True)
class Comparison:
    """The champion when a drift began and the last model promoted during it, on the same
    labelled rows of the drift that the newer one did not train on."""

    before: str
    after: str
    first: date
    last: date
    rows: int
    macro_f1: dict[str, float]


def compare_phase(
    settings: Settings, days: list[Day], rows: list[Row], start: date, end: date
) -> Comparison | None:
    before = next((d.champion for d in days if d.day >= start), None)
    promoted = [r for r in rows if r.gate.endswith("promoted") and start <= r.base_date <= end]
    if before is None or not promoted:
        return None
    after = promoted[-1]
    delay = timedelta(days=settings.data.label_delay_days)
    first = after.base_date - delay + timedelta(days=1)  # labels it could not have seen
    with connect(settings.store.url) as conn:
        known_by = repository.latest_ingested_day(conn) or end
        snapshot = snapshot_at(conn, known_by, settings.training.train_window_days)
    last = min(end, known_by - delay)
    dates = pd.to_datetime(snapshot["label_date"]).dt.date
    labelled = snapshot[(dates >= first) & (dates <= last)]
    if labelled.empty:
        return None
    scores = {v: score(settings, v, labelled)["macro_f1"] for v in (before, after.version)}
    return Comparison(before, after.version, first, last, len(labelled), scores)


def phases(timeline: Timeline) -> list[tuple[str, date, date]]:
    return [
        ("covariate drift", timeline.covariate_start, timeline.concept_start - timedelta(days=1)),
        ("concept drift", timeline.concept_start, timeline.last_day),
    ]


def story_lines(
    days: list[Day],
    timeline: Timeline,
    label_delay: int,
    comparisons: dict[str, Comparison | None],
) -> list[str]:
    """What the run showed, in a few sentences."""
    stable = [d for d in days if d.day < timeline.covariate_start]
    steady = [d.live_f1 for d in stable if d.live_f1 is not None]
    lines = [
        f"{len(stable)} stable days: {sum(d.status == 'retrain' for d in stable)} retraining "
        "triggers" + (f"; live macro-F1 {mean(steady):.3f} on average" if steady else "")
    ]
    for name, start, end in phases(timeline):
        phase = [d for d in days if start <= d.day <= end]
        fired = [d for d in phase if d.status == "retrain"]
        if name == "concept drift":
            labels = start + timedelta(days=label_delay)
            alarm = next(
                (d.day for d in phase if "performance" in d.alarms and d.judged_until
                 and d.judged_until >= start), None,
            )  # fmt: skip
            seen = (
                f"first live-performance alarm on its predictions on {alarm}"
                if alarm
                else "no performance alarm on its predictions"
            )
            lines.append(f"{name} from {start}, first labels on {labels}: {seen}")
        else:
            alarm = next((d.day for d in phase if "drift" in d.alarms), None)
            seen = f"day {(alarm - start).days + 1}" if alarm else "never"
            lines.append(f"{name} from {start}: detected on {alarm} ({seen})")
        lines.append("  retrained: " + ("; ".join(f"{d.day} {d.action}" for d in fired) or "never"))
        if found := comparisons.get(name):
            old, new = (found.macro_f1[v] for v in (found.before, found.after))
            lines.append(
                f"  on {found.rows} labelled predictions of {found.first}..{found.last}, unseen "
                f"in training: v{found.before} {old:.3f} -> v{found.after} {new:.3f} macro-F1"
            )
            if any("performance" in d.alarms for d in phase):  # live performance had fallen
                lines += recovery(phase, found.before, found.after)
    return lines


def _mark(rows: list[Row], version: str | None, outcome: str) -> None:
    """What live labels decided for the challenger `version` (promoted, retired, replaced)."""
    for row in reversed(rows):
        if row.version == version and row.gate == SHADOW:
            row.gate = f"{SHADOW}, {outcome}"
            return


OUTCOMES = {"promote": "promoted", "retire": "retired"}


def shadow_lines(days: list[Day], challenger: str | None) -> list[str]:
    """Each challenger's time in shadow and the live figures its fate was decided on (or, for
    one replaced or still in shadow, the last ones)."""
    last: dict[str, ShadowVerdict] = {}
    for day in days:
        if day.shadow is not None:
            last[day.shadow.challenger] = day.shadow
    if not last:
        return []
    lines = ["challengers in shadow, judged on the labels of the traffic they scored:"]
    for version, verdict in last.items():
        fate = OUTCOMES.get(
            verdict.action, "still in shadow" if version == challenger else "replaced"
        )
        figures = f"{verdict.rows} labelled live rows"
        if verdict.champion_macro_f1 is not None and verdict.challenger_macro_f1 is not None:
            figures += (
                f", macro-F1 v{verdict.champion} {verdict.champion_macro_f1:.3f} -> "
                f"v{version} {verdict.challenger_macro_f1:.3f}"
            )
        if (found := verdict.comparison) is not None:
            bounds = f"{found.lower:+.3f}..{found.upper:+.3f}"
            figures += f" (difference {found.difference:+.3f}, bounds {bounds})"
        lines.append(
            f"  v{version}: {verdict.first_day or verdict.day}..{verdict.day}, {verdict.days} "
            f"days beside v{verdict.champion}, {fate} on {figures}"
        )
    return lines


def recovery(phase: list[Day], before: str, after: str) -> list[str]:
    """The champion's live macro-F1 at its lowest in the phase, and once the model promoted in
    it was judged on its own labelled predictions (nothing when the phase ended before)."""
    low = [d for d in phase if d.champion == before and d.live_f1 is not None]
    since = [d.live_f1 for d in phase if d.champion == after and d.live_f1 is not None]
    if not low or not since:
        return []
    worst = min(low, key=lambda d: d.live_f1 or 0.0)
    return [
        f"  live macro-F1 of the champion: {worst.live_f1:.3f} at its lowest (v{before}, "
        f"{worst.day}), {mean(since):.3f} on average over the {len(since)} "
        f"day{'s' if len(since) > 1 else ''} v{after} was judged on its own labels"
    ]


def _ingest(settings: Settings, source: Generator, start: date, days: int) -> None:
    """The history in one run: a spinner while the batches are fetched and checked, a bar as
    the days are written."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    steps = {
        "fetch": "fetching the raw batches",
        "raw contract": "checking the raw batches' contract",
        "labels contract": "checking the labels' contract",
        "cleaning": "cleaning",
        "write": "writing",
    }
    with Progress(*columns, console=render.console, transient=False) as progress:
        task = progress.add_task("starting", total=days)
        day_list = [start + timedelta(days=i) for i in range(days)]
        ingest_days(
            settings.store.url,
            source,
            day_list,
            settings.data.label_delay_days,
            scenario_of(source),
            "generator",
            progress=lambda result: progress.update(
                task, advance=1, description=f"ingested {result.day}"
            ),
            on_phase=lambda phase: progress.update(task, description=steps[phase]),
        )


def _train(settings: Settings, base_date: date) -> str:
    """A new registered version trained on what was known on `base_date`."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=render.console, transient=True,
    ) as progress:  # fmt: skip
        trials = len(list(grid(search_space(settings.training))))
        task = progress.add_task(f"tuning on data known by {base_date}", total=trials)
        return train(settings, base_date, on_trial=lambda _: progress.advance(task)).version


def _gate(
    settings: Settings, version: str, base_date: date, story: str, policy: bool = True
) -> Row:
    """Gate `version` against the champion, then what the training DAG does (`policy`): under
    the demo's shadow policy, a model whose floors all passed goes to shadow and live labels
    decide; otherwise it is promoted when it passed. Without `policy`, a request to promote it
    (`mlops promote`): the gate alone decides."""
    with render.console.status(f"gating v{version} on the newest labelled days"):
        verdict = promotion.gate(settings, version)
        replaced = mlflow_io.alias_version(settings, mlflow_io.CHALLENGER)
        line = shadow_by_policy(settings, version, f"demo: {story}") if policy else None
        if line is None and verdict.passed:
            promotion.promote(settings, version, reason=f"demo: {story}")
    row = Row(version, story, base_date, round(verdict.challenger_metrics["macro_f1"], 4))
    failed = ", ".join(c.name for c in verdict.checks if not c.passed)
    if line is not None:
        row.gate, row.replaced = SHADOW, replaced
        render.console.print(
            f"    [cyan]{line}[/] beside v{verdict.champion} (holdout macro-F1 {row.holdout_f1:.3f}"
            f"{f'; failed {failed}' if failed else ''}): live labels decide",
            highlight=False,
        )
    elif verdict.passed:
        row.gate = "promoted"
        render.console.print(
            f"    [green]v{version} passed the gate and is the champion[/] "
            f"(holdout macro-F1 {row.holdout_f1:.3f}; before: "
            f"{f'v{verdict.champion}' if verdict.champion else 'no champion'})",
            highlight=False,
        )
    else:
        row.gate = "refused"
        render.console.print(
            f"    [red]v{version} refused by the gate[/] ({failed}); v{verdict.champion} stays",
            highlight=False,
        )
    return row
