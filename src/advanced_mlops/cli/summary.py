"""Markdown for a CI job summary or a pull-request comment: what the terminal tables say.

The renderers are pure (result object in, markdown out) so the text a reviewer reads is tested;
`write` appends, as GitHub expects of `$GITHUB_STEP_SUMMARY`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from advanced_mlops.errors import MlopsError

if TYPE_CHECKING:
    from advanced_mlops.cli.pr_check import PrVerdict, Side
    from advanced_mlops.contracts.validate import ContractReport
    from advanced_mlops.data.ingest import IngestResult
    from advanced_mlops.registry.promotion import GateResult

SummaryOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--summary",
        envvar="GITHUB_STEP_SUMMARY",
        help="Append a markdown report to this file (repeatable); default $GITHUB_STEP_SUMMARY.",
        show_default=False,
    ),
]


def cell(value: object) -> str:
    """A table cell: pipes and line breaks would otherwise break the markdown table."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def gate_markdown(result: GateResult) -> str:
    """Challenger vs champion on the same holdout, every rule with its figure, and the verdict."""
    mark = "✅ PASSED" if result.passed else "❌ REFUSED"
    champion = f"champion v{result.champion}" if result.champion else "no champion yet"
    champion_metrics = result.champion_metrics or {}
    metrics = table(
        ["metric", f"challenger v{result.version}", champion],
        (
            [name, _figure(value), _figure(champion_metrics.get(name))]
            for name, value in result.challenger_metrics.items()
        ),
    )
    rules = table(
        ["rule", "observed", "threshold", "ok"],
        (
            [c.name, f"{c.observed:.4f}", f"{c.rule} {c.threshold:.4f}", _ok(c.passed)]
            for c in result.checks
        ),
    )
    paired = f"Against the champion: {result.comparison.reason}.\n\n" if result.comparison else ""
    return (
        f"### Model gate: v{result.version} vs {champion}: {mark}\n\n"
        f"On {result.holdout_rows} holdout rows known by {result.base_date}.\n\n"
        f"{metrics}\n\n{rules}\n\n{paired}**Verdict:** {result.verdict}\n"
    )


PR_FIGURES = [
    "macro_f1",
    *(f"{kind}_{c}" for c in ("poor", "standard", "good") for kind in ("recall", "precision")),
    "log_loss",
    "ece",
    "accuracy",
]


def pr_markdown(verdict: PrVerdict) -> str:
    """The pull request's model beside its base's on the same holdout records, the paired
    difference, and the verdict with its reason."""
    judgement = verdict.judgement
    mark = "✅ PASSED" if judgement.passed else "❌ REFUSED"
    ours, theirs = verdict.pull_request, verdict.base
    base_title = f"base {theirs.commit[:12]}" if theirs else "base: none"
    base_metrics = judgement.champion_metrics or {}
    figures = table(
        ["figure", f"pull request {ours.commit[:12]}", base_title],
        [
            *(
                [name, _figure(judgement.challenger_metrics.get(name)),
                 _figure(base_metrics.get(name))]
                for name in PR_FIGURES
            ),
            ["latency_p95_ms", f"{ours.latency_ms:.2f}",
             f"{theirs.latency_ms:.2f}" if theirs else "-"],
            ["records without a prediction", ours.missing, theirs.missing if theirs else "-"],
        ],
    )  # fmt: skip
    rules = table(
        ["rule", "observed", "threshold", "ok"],
        (
            [c.name, f"{c.observed:.4f}", f"{c.rule} {c.threshold:.4f}", _ok(c.passed)]
            for c in judgement.checks
        ),
    )
    comparison = judgement.comparison
    paired = ""
    if comparison is not None:
        paired = (
            f"Paired difference (pull request - base): {comparison.difference:+.4f}, "
            f"interval [{comparison.lower:+.4f}, {comparison.upper:+.4f}] "
            f"({2 * comparison.confidence - 1:.0%} central; passes when its lower end, the "
            f"{comparison.confidence:.0%} one-sided bound, is >= -{comparison.margin}).\n\n"
        )
    note = f"> {verdict.note}\n\n" if verdict.note else ""
    return (
        f"### Model gate: pull request vs its base: {mark}\n\n{note}"
        f"Both pipelines ran on the same generated sample; judged on the same {verdict.rows} raw "
        "holdout records (built by the base's code), each through its own inference path.\n\n"
        f"{figures}\n\n{rules}\n\n{paired}**Verdict:** {judgement.verdict}\n"
        f"{_cards([side for side in (ours, theirs) if side is not None])}"
    )


def _cards(sides: Sequence[Side]) -> str:
    """The model cards of the two versions compared, folded (also the job's `model-cards`
    artifact); a heading level below the summary's."""
    folded = [
        f"<details><summary>{side.name} {side.commit[:12]}: model card</summary>\n\n"
        f"{side.card.read_text().replace('# Model card', '#### Model card', 1)}\n</details>\n"
        for side in sides
        if side.card is not None and side.card.exists()
    ]
    if not folded:
        return ""
    return "\n**Model cards** (also the job's `model-cards` artifact)\n\n" + "\n".join(folded)


def contracts_markdown(day: date, reports: Sequence[ContractReport], skipped: Sequence[str]) -> str:
    """Each suite's verdict; the failed expectations of a failed suite, with what was observed."""
    failed = [r for r in reports if not r.success]
    verdict = "❌ FAILED" if failed else "✅ all passed"
    lines = [f"### Data contracts on {day}: {verdict}", ""]
    for report in reports:
        state = f"{len(report.failures)} of {len(report.checks)} expectations failed"
        if report.success:
            state = f"all {len(report.checks)} expectations passed"
        lines.append(f"- `{report.suite}` on {report.rows} rows: {state}")
    lines.extend(f"- skipped {note}" for note in skipped)
    for report in failed:
        lines += [
            "",
            f"#### `{report.suite}`: failed expectations",
            "",
            table(
                ["column", "expectation", "observed"],
                ([c.column, c.expectation, c.observed] for c in report.failures),
            ),
        ]
    return "\n".join(lines) + "\n"


def ingest_markdown(results: Sequence[IngestResult]) -> str:
    """The days stored, and that every raw batch and label delivery met its contract."""
    rows = sum(r.feature_rows for r in results)
    labels = sum(r.label_rows for r in results)
    withheld = sum(r.labels_withheld for r in results)
    held = (
        f" {withheld} labels of days whose features are not stored were left out."
        if withheld
        else ""
    )
    return (
        f"### Ingestion of {len(results)} day(s), {results[0].day}..{results[-1].day}: "
        "✅ every raw batch and label delivery met its contract\n\n"
        f"{rows} feature rows and {labels} labels stored.{held}\n"
    )


def ingest_refused_markdown(error: MlopsError) -> str:
    """Why `mlops ingest` stored nothing: for a broken contract, the day and its failed
    expectations, as `contracts check` shows them; otherwise the error itself."""
    from advanced_mlops.contracts.validate import ContractError  # pandas: only when refused

    if isinstance(error, ContractError) and error.day and error.report:
        return contracts_markdown(error.day, [error.report], []) + NOTHING_STORED
    return f"### Ingestion refused: ❌\n\n{error}\n"


NOTHING_STORED = "\nNothing was stored: ingestion checks every day of a run before writing any.\n"


def write(paths: Sequence[Path] | None, markdown: str) -> None:
    """Append `markdown` to each path; an unwritable path is the user's to fix, in one line."""
    for path in paths or ():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(markdown + "\n")
        except OSError as exc:
            raise MlopsError(f"--summary {path}: cannot write ({exc.strerror or exc})") from None
