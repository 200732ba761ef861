"""The day's HTML report (plots as PNG next to it) and its MLflow run.

Written for a reader who has not seen the code: the decision and why first, then each check with
its figures, thresholds and plots.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from advanced_mlops import mlflow_io, schema
from advanced_mlops.monitoring.result import MonitoringResult
from advanced_mlops.settings import Settings

MOST_DRIFTED = 6


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(result: MonitoringResult, past: list[dict[str, Any]], folder: Path) -> Path:
    """`folder/report.html` and its plots; `past` are the decisions of the days before."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    plots = [
        _drift_plot(result, folder),
        _distributions_plot(result, folder),
        _performance_plot(result, folder),
        _history_plot(result, past, folder),
    ]
    path = folder / "report.html"
    path.write_text(_html(result, [p for p in plots if p is not None], past))
    return path


def log_report(settings: Settings, result: MonitoringResult, folder: Path) -> str:
    """One MLflow run per monitored day: the headline figures as metrics, the report as files."""
    import mlflow

    mlflow_io.client(settings)
    found = mlflow.get_experiment_by_name(settings.monitoring.experiment_name)
    experiment = (
        found.experiment_id
        if found is not None
        else mlflow.create_experiment(
            settings.monitoring.experiment_name,
            settings.store.artifacts_dir.as_uri()
            if settings.store.tracking_uri.startswith(("sqlite:", "file:", "/"))
            else None,
        )
    )
    decision = result.decision
    with mlflow.start_run(
        experiment_id=experiment,
        run_name=f"monitor-{result.day}",
        tags={
            "monitoring.day": result.day.isoformat(),
            "monitoring.status": decision.status,
            "monitoring.retrain": str(decision.retrain).lower(),
            "monitoring.model_version": result.model_version or "none",
            "mlflow.note.content": "\n".join(decision.reasons),
        },
    ) as run:
        metrics: dict[str, float] = {"rows": float(result.rows)}
        metrics["drifted_important_features"] = float(len(decision.drifted_features))
        if result.performance is not None:
            metrics["labelled_rows"] = float(result.performance.rows)
            if result.performance.macro_f1 is not None:
                metrics["live_macro_f1"] = result.performance.macro_f1
        if result.prediction_drift is not None:
            metrics["prediction_psi"] = result.prediction_drift.value
        for d in result.drift:
            metrics[f"drift_{d.statistic}.{d.feature}"] = d.value
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.log_artifacts(str(folder), artifact_path="report")
    return str(run.info.run_id)


def _drift_plot(result: MonitoringResult, folder: Path) -> Path | None:
    if not result.drift:
        return None
    plt = _pyplot()
    items = sorted(result.drift, key=lambda d: d.value_to_threshold)
    important = set(result.decision.drifted_features)
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(items) + 1.2))
    ratios = [d.value_to_threshold for d in items]
    colors = ["#c0392b" if d.drifted and result.drift_judged else "#7f8c8d" for d in items]
    ax.barh([f"{d.feature} ({d.statistic})" for d in items], ratios, color=colors)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    for i, d in enumerate(items):
        mark = " *" if d.feature in important else ""
        ax.text(ratios[i], i, f" {d.value:.3f}{mark}", va="center", fontsize=7)
    ax.set_xlabel("drift / threshold (dashed: threshold; red: beyond it and significant)")
    ax.set_title(f"Drift per feature on {result.day} ({result.rows} predictions)")
    fig.tight_layout()
    path = folder / "drift.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _distributions_plot(result: MonitoringResult, folder: Path) -> Path | None:
    reference, counts = result.reference, result.counts
    if reference is None or not result.drift:
        return None
    plt = _pyplot()
    top = sorted(result.drift, key=lambda d: -d.value_to_threshold)[:MOST_DRIFTED]
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    for ax, d in zip(axes.flat, top, strict=False):
        if d.feature in reference.numeric:
            edges = reference.numeric[d.feature].edges
            labels = ["<" + _short(edges[0])] if edges else ["all"]
            labels += [f"{_short(a)}-{_short(b)}" for a, b in itertools.pairwise(edges)]
            labels += ["≥" + _short(edges[-1])] if edges else []
            expected = reference.numeric[d.feature].shares
            observed = list(counts.bins[d.feature])
        else:
            profile = reference.categorical.get(d.feature) or reference.text[d.feature]
            found = counts.categories.get(d.feature) or counts.text_tokens[d.feature]
            labels = list(profile.shares)
            expected = [profile.shares[k] for k in labels]
            observed = [found.get(k, 0) for k in labels]
        total = sum(observed) or 1
        x = np.arange(len(labels))
        ax.bar(x - 0.2, expected, 0.4, label="reference", color="#95a5a6")
        ax.bar(x + 0.2, [o / total for o in observed], 0.4, label=str(result.day), color="#2980b9")
        ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=6)
        ax.set_title(f"{d.feature}: {d.statistic} {d.value:.3f}", fontsize=9)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(top) :]:
        ax.axis("off")
    fig.suptitle("Most drifted features: share of rows per reference bin / category / token")
    fig.tight_layout()
    path = folder / "distributions.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _performance_plot(result: MonitoringResult, folder: Path) -> Path | None:
    perf, reference = result.performance, result.reference
    if reference is None or not sum(result.counts.predicted.values()):
        return None
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    classes = list(schema.CLASSES)
    x = np.arange(len(classes))
    total = sum(result.counts.predicted.values())
    left.bar(
        x - 0.2,
        [reference.predicted.get(c, 0.0) for c in classes],
        0.4,
        label="reference",
        color="#95a5a6",
    )
    left.bar(
        x + 0.2,
        [result.counts.predicted.get(c, 0) / total for c in classes],
        0.4,
        label=str(result.day),
        color="#2980b9",
    )
    left.set_xticks(x, classes)
    left.set_title("Predicted-class shares (champion)")
    left.legend(fontsize=8)
    if perf is not None and perf.rows:
        matrix = np.array([[perf.confusion[t][p] for p in classes] for t in classes])
        right.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            right.text(j, i, str(value), ha="center", va="center")
        right.set_xticks(x, classes)
        right.set_yticks(x, classes)
        right.set_xlabel("predicted")
        right.set_ylabel("label")
        right.set_title(f"Labelled predictions {perf.first_day}..{perf.last_day}", fontsize=9)
    else:
        right.axis("off")
        right.text(0.5, 0.5, "no labelled predictions yet", ha="center")
    fig.tight_layout()
    path = folder / "predictions.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _history_plot(
    result: MonitoringResult, past: list[dict[str, Any]], folder: Path
) -> Path | None:
    if not past:
        return None
    plt = _pyplot()
    days = [row["day"] for row in past] + [result.day]
    f1 = [(row["details"] or {}).get("macro_f1") for row in past]
    f1.append(result.performance.macro_f1 if result.performance else None)
    drifted = [len((row["details"] or {}).get("drifted_features", [])) for row in past]
    drifted.append(len(result.decision.drifted_features))
    retrain = [row["retrain"] for row in past] + [result.decision.retrain]
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(days, [np.nan if v is None else v for v in f1], marker="o", label="live macro-F1")
    ax.set_ylabel("live macro-F1")
    twin = ax.twinx()
    twin.bar(days, drifted, alpha=0.3, color="#c0392b", label="drifted important features")
    twin.set_ylabel("drifted important features")
    for day, fired in zip(days, retrain, strict=True):
        if fired:
            ax.axvline(day, color="#c0392b", linestyle=":")
    ax.set_title("The last 30 days (dotted: retrain triggered)")
    fig.autofmt_xdate()
    fig.tight_layout()
    path = folder / "history.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _short(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2g}"


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("advanced_mlops.monitoring", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )
    return environment.get_template("report.html.j2")


def _html(
    result: MonitoringResult, plots: list[Path], past: list[dict[str, Any]] | None = None
) -> str:
    """`past` gives the earlier days of the challenger's shadow period (their stored figures)."""
    shadow = result.shadow
    earlier = [
        found
        for row in past or []
        if row["day"] != result.day
        and (found := (row.get("details") or {}).get("shadow"))
        and shadow is not None
        and found["challenger"] == shadow.challenger
    ]
    return _template().render(result=result, plots=plots, shadow_days=earlier)
