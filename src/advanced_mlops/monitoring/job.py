"""`mlops monitor --date D`: one day of the prediction log against the champion's reference.

Reads (streamed), measures, decides, stores the day's metrics and decision in one transaction (a
re-run replaces them), then writes the report and its MLflow run: a report that fails is a
warning, never a lost decision. The DAG calls `monitor_day` and branches on
`result.decision.retrain`, putting `result.decision.reasons` into the triggered run's note.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from advanced_mlops import mlflow_io
from advanced_mlops.monitoring.aggregate import (
    DayCounts,
    labelled_confusion,
    rows_per_version,
    shadow_pairs,
    stream_day,
)
from advanced_mlops.monitoring.decision import (
    Evidence,
    PastDecision,
    decide,
)
from advanced_mlops.monitoring.measure import evidence as build_evidence
from advanced_mlops.monitoring.measure import prediction_drift
from advanced_mlops.monitoring.performance import (
    from_confusion,
    performance_window,
)
from advanced_mlops.monitoring.quality import FeatureQuality
from advanced_mlops.monitoring.report import log_report, write_report
from advanced_mlops.monitoring.result import MonitoringResult
from advanced_mlops.monitoring.shadow import ShadowVerdict, judge_shadow
from advanced_mlops.settings import Settings
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, require_current_schema
from advanced_mlops.training.reference import ARTIFACT_PATH, ReferenceProfile

log = logging.getLogger(__name__)


def champion_reference(settings: Settings) -> tuple[str | None, ReferenceProfile | None, str]:
    """(champion version, its reference profile, the problem when either is missing)."""
    champion = mlflow_io.alias_version(settings, mlflow_io.CHAMPION)
    if champion is None:
        return None, None, f"model {settings.store.model_name!r} has no champion to monitor"
    raw = mlflow_io.version_json_artifact(settings, champion, ARTIFACT_PATH)
    if raw is None:
        return (
            champion,
            None,
            (
                f"champion v{champion} has no monitoring reference ({ARTIFACT_PATH}; trained "
                "before monitoring existed): retrain and promote a model"
            ),
        )
    return champion, ReferenceProfile.model_validate(raw), ""


def monitor_day(settings: Settings, day: date, *, report: bool = True) -> MonitoringResult:
    """Monitor `day`, store its metrics and decision, then write (and log) its report."""
    require_current_schema(settings.store.url)
    rules = settings.monitoring
    champion, reference, problem = champion_reference(settings)
    challenger = mlflow_io.alias_version(settings, mlflow_io.CHALLENGER)
    known = mlflow_io.registered_versions(settings)
    look_back = day - timedelta(days=max(rules.drift_days, rules.cooldown_days) + 1)
    first, last = performance_window(
        day, settings.data.label_delay_days, settings.monitoring.performance_days
    )
    with connect(settings.store.url) as conn:
        by_version = rows_per_version(conn, day)
        monitored = sorted(v for v in by_version if v in known)
        counts = DayCounts()
        if reference is not None and monitored:
            counts = stream_day(
                conn, day, monitored, champion or "", reference, settings.monitoring.chunk_rows
            )
        performance = shadow = None
        if champion is not None:
            confusion = labelled_confusion(conn, first, last, day, champion)
            performance = from_confusion(confusion, first, last)
        if champion is not None and challenger is not None:
            cells, shadow_from = shadow_pairs(conn, champion, challenger, day)
            shadow = judge_shadow(
                cells,
                champion=champion,
                challenger=challenger,
                first_day=shadow_from,
                day=day,
                gate=settings.gate,
                rules=rules,
            )
        history = [
            PastDecision(
                row["day"],
                row["status"],
                row["model_version"],
                bool((row["details"] or {}).get("drifting", False)),
            )
            for row in repository.read_decisions(conn, look_back, day)
        ]

    problems = [problem] if problem else []
    notes: list[str] = []
    if unknown := {v: n for v, n in by_version.items() if v not in known}:
        # Only a day of nothing but unknown versions cannot be judged; otherwise the registered
        # versions' rows are, and the others are counted and told.
        listed = ", ".join(f"v{v}: {n}" for v, n in sorted(unknown.items()))
        line = f"log rows from model versions the registry does not know were left out ({listed})"
        (notes if monitored else problems).append(line)
    if reference is None:
        evidence = Evidence(day, champion, counts.rows, problems, notes=notes)
        quality: list[FeatureQuality] = []
    else:
        evidence, quality = build_evidence(
            day,
            champion,
            counts,
            reference,
            performance,
            rules=rules,
            problems=problems,
            notes=notes,
        )
    if shadow is not None:
        evidence = dataclasses.replace(
            evidence, challenger=shadow.challenger, challenger_rows=shadow.rows
        )
    result = MonitoringResult(
        day=day,
        model_version=champion,
        rows_by_version=by_version,
        counts=counts,
        drift=evidence.drift,
        prediction_drift=prediction_drift(counts, reference, rules)
        if reference is not None
        else None,
        quality=quality,
        performance=performance,
        decision=decide(evidence, history, rules),
        reference=reference,
        shadow=shadow,
    )
    with connect(settings.store.url, write=True, bulk=True) as conn:
        repository.replace_monitoring_day(conn, day, metric_rows(result), decision_row(result))
    return with_report(settings, result) if report else result


def with_report(settings: Settings, result: MonitoringResult) -> MonitoringResult:
    """`result` with its HTML report and MLflow run, both recorded on its stored decision.

    Runs after the decision is stored: a failure here (the file system, matplotlib, MLflow) is
    logged as a warning and kept in `report_problem`; the decision stays as stored.
    """
    day = result.day
    path: Path | None = None
    run_id: str | None = None
    problem: str | None = None
    try:
        with connect(settings.store.url) as conn:
            past = repository.read_decisions(conn, day - timedelta(days=30), day)
        path = write_report(result, past, settings.store.monitoring_dir / day.isoformat())
        run_id = log_report(settings, result, path.parent)
    except Exception as exc:  # any failure of the report must leave the stored decision alone
        step = "its MLflow run" if path else "its report"
        message = (str(exc).splitlines() or [""])[0][:300]
        problem = (
            f"monitoring of {day}: the decision ({result.decision.status}) is stored, but {step} "
            f"could not be written: {type(exc).__name__}: {message}"
        )
        log.warning(problem)
    if path is not None:
        with connect(settings.store.url, write=True) as conn:
            repository.record_monitoring_report(conn, day, str(path), run_id)
    return dataclasses.replace(result, report_path=path, run_id=run_id, report_problem=problem)


def metric_rows(result: MonitoringResult) -> list[dict[str, Any]]:
    """One row per metric (and feature or class) of the day; NaN is left out.

    A drift value is `flagged` (drifted or not) only on a day whose drift the rule judged: on a
    day too small or with broken data it is kept for the record, with `flagged` left empty.
    """
    version = result.model_version
    rows: list[dict[str, Any]] = [
        _metric("rows", "", result.rows, version),
        *(_metric("rows_by_version", v, n, v) for v, n in result.rows_by_version.items()),
    ]
    if unknown := result.counts.unknown_keys:  # their names (any length) are in the reasons
        rows.append(_metric("unknown_keys", "", len(unknown), version, flagged=True))
    for d in [*result.drift, *([result.prediction_drift] if result.prediction_drift else [])]:
        drifted = d.drifted if result.drift_judged else None
        statistic = f"drift_{d.statistic}"
        rows.append(_metric(statistic, d.feature, d.value, version, d.threshold, drifted))
        rows.append(_metric("drift_p_value", d.feature, d.p_value, version, d.alpha, drifted))
    for q in result.quality:
        rows.append(_metric("missing_rate", q.feature, q.missing_rate, version))
        rows.append(_metric("out_of_range_rate", q.feature, q.out_of_range_rate, version))
        if q.absent_rows:
            rows.append(_metric("absent_rows", q.feature, q.absent_rows, version, flagged=True))
    perf = result.performance
    if perf is not None:
        rows.append(_metric("labelled_rows", "", perf.rows, version))
        if perf.macro_f1 is not None:
            alarm = result.decision.checks.get("performance") == "alarm"
            rows.append(_metric("live_macro_f1", "", perf.macro_f1, version, flagged=alarm))
            for name, value in perf.recall.items():
                rows.append(_metric("live_recall", name, value, version))
    if result.shadow is not None:
        rows.extend(shadow_metric_rows(result.shadow))
    return [r for r in rows if not math.isnan(r["value"])]


def shadow_metric_rows(verdict: ShadowVerdict) -> list[dict[str, Any]]:
    """The day's live comparison, under the challenger's version (subject: the champion's)."""
    figures: dict[str, float | None] = {
        "shadow_rows": verdict.rows,
        "shadow_days": verdict.days,
        "shadow_macro_f1": verdict.challenger_macro_f1,
        "shadow_champion_macro_f1": verdict.champion_macro_f1,
    }
    if (comparison := verdict.comparison) is not None:
        figures |= {
            "shadow_difference": comparison.difference,
            "shadow_lower": comparison.lower,
            "shadow_upper": comparison.upper,
        }
    decided = verdict.action != "wait"
    return [
        _metric(name, verdict.champion, value, verdict.challenger, flagged=decided)
        for name, value in figures.items()
        if value is not None
    ]


def _metric(
    metric: str,
    subject: str,
    value: float,
    version: str | None,
    threshold: float | None = None,
    flagged: bool | None = None,
) -> dict[str, Any]:
    return {
        "metric": metric,
        "subject": subject,
        "value": float(value),
        "threshold": threshold,
        "flagged": flagged,
        "model_version": version,
    }


def decision_row(result: MonitoringResult) -> dict[str, Any]:
    decision, perf = result.decision, result.performance
    return {
        "status": decision.status,
        "retrain": decision.retrain,
        "model_version": result.model_version,
        "reasons": decision.reasons,
        "details": {
            "checks": decision.checks,
            "drifting": decision.drifting,
            "drifted_features": decision.drifted_features,
            "rows": result.rows,
            "rows_by_version": result.rows_by_version,
            "labelled_rows": perf.rows if perf else 0,
            "macro_f1": perf.macro_f1 if perf else None,
            "performance_window": [perf.first_day.isoformat(), perf.last_day.isoformat()]
            if perf
            else None,
            "shadow": result.shadow.as_dict() if result.shadow else None,
        },
        "report_path": str(result.report_path) if result.report_path else None,
        "mlflow_run_id": result.run_id,
    }
