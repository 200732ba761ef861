"""The retraining rule: a pure function of one day's evidence and the decisions before it.

Retrain when
- live macro-F1 of the champion is below a floor, on at least a minimum of labelled predictions;
- or enough of the champion's most important features drift (effect size beyond its threshold
  and significant against the reference's and the day's sampling noise, see `drift`), on
  enough consecutive days monitored with that champion.
A day that cannot be judged (no traffic, no labels yet, broken data, no reference) is recorded as
"insufficient_data", never as a trigger. After a trigger the rule waits `cooldown_days` before the
next one: a retrained model can only learn a changed world from labels, which take days to come.
Nor does it fire while a challenger in shadow has fewer than `shadow_min_labelled_rows` labelled
live rows: the retraining would replace it before live labels could judge it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from advanced_mlops.monitoring.drift import FeatureDrift
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.settings import MonitoringSettings

Status = Literal["ok", "retrain", "cooldown", "insufficient_data"]
CheckState = Literal["ok", "alarm", "insufficient_data"]


@dataclass(frozen=True)
class PastDecision:
    day: date
    status: str
    model_version: str | None
    drifting: bool


@dataclass(frozen=True)
class Evidence:
    """What one monitoring day measured, as the rule needs it."""

    day: date
    model_version: str | None
    rows: int
    problems: list[str] = field(default_factory=list)  # why the day cannot be judged at all
    drift: list[FeatureDrift] = field(default_factory=list)
    important: list[str] = field(default_factory=list)  # the champion's top features, in order
    performance: LivePerformance | None = None
    notes: list[str] = field(default_factory=list)  # told in the reasons, judged all the same
    challenger: str | None = None  # the version in shadow, if any
    challenger_rows: int = 0  # labelled live rows it and the champion both scored


@dataclass(frozen=True)
class Decision:
    status: Status
    reasons: list[str]
    checks: dict[str, CheckState]
    drifting: bool = False  # enough important features drifted today (kept for later days)
    drifted_features: list[str] = field(default_factory=list)

    @property
    def retrain(self) -> bool:
        return self.status == "retrain"


def decide(evidence: Evidence, history: list[PastDecision], rules: MonitoringSettings) -> Decision:
    """The decision for `evidence.day`; `history` holds earlier days only (any order)."""
    decision = _decide(evidence, history, rules)
    if not evidence.notes:
        return decision
    return replace(decision, reasons=[*decision.reasons, *evidence.notes])


def _decide(evidence: Evidence, history: list[PastDecision], rules: MonitoringSettings) -> Decision:
    if evidence.problems:
        return Decision(
            "insufficient_data",
            [*evidence.problems, "drift and live performance were not judged"],
            {"quality": "alarm" if evidence.rows else "insufficient_data"},
        )
    reasons: list[str] = []
    checks: dict[str, CheckState] = {"quality": "ok"}
    alarms: list[str] = []

    drifted = [d for d in evidence.drift if d.feature in evidence.important and d.drifted]
    drifting = evidence.rows >= rules.min_rows and len(drifted) >= rules.min_drifted_features
    if evidence.rows < rules.min_rows:
        checks["drift"] = "insufficient_data"
        reasons.append(f"drift: only {evidence.rows} predictions (minimum {rules.min_rows})")
    else:
        days = 1 + _streak(evidence, history) if drifting else 0
        described = ", ".join(
            f"{d.feature} {d.statistic} {d.value:.2f} p {d.p_value:.1g}" for d in drifted
        )
        top = f"the {len(evidence.important)} most important features"
        if drifting and days >= rules.drift_days:
            checks["drift"] = "alarm"
            alarms.append(
                f"drift on {len(drifted)} of {top} ({described}) for {days} consecutive days "
                f"(rule: at least {rules.min_drifted_features} on {rules.drift_days} days)"
            )
        else:
            checks["drift"] = "ok"
            state = (
                f"drift on {len(drifted)} of {top} ({described}), day {days} of "
                f"{rules.drift_days} needed"
                if drifting
                else f"no drift: {len(drifted)} of {top} beyond threshold and significant"
                + (f" ({described})" if drifted else "")
            )
            reasons.append(state)

    checks["performance"] = _performance(evidence, rules, reasons, alarms)

    if alarms:
        if (held := _held(evidence, history, rules)) is not None:
            return Decision(
                "cooldown",
                [*alarms, held, *reasons],
                checks,
                drifting,
                [d.feature for d in drifted],
            )
        return Decision("retrain", alarms + reasons, checks, drifting, [d.feature for d in drifted])
    status: Status = "insufficient_data" if "insufficient_data" in checks.values() else "ok"
    return Decision(status, reasons, checks, drifting, [d.feature for d in drifted])


def _performance(
    evidence: Evidence, rules: MonitoringSettings, reasons: list[str], alarms: list[str]
) -> CheckState:
    perf = evidence.performance
    if perf is None or perf.rows < rules.min_labelled or perf.macro_f1 is None:
        rows = perf.rows if perf else 0
        window = f" made {perf.first_day}..{perf.last_day}" if perf else ""
        reasons.append(
            f"live performance: only {rows} labelled predictions of v{evidence.model_version}"
            f"{window} (minimum {rules.min_labelled}); labels may not have arrived yet"
        )
        return "insufficient_data"
    figure = (
        f"live macro-F1 {perf.macro_f1:.3f} on {perf.rows} labelled predictions made "
        f"{perf.first_day}..{perf.last_day}"
    )
    if perf.macro_f1 < rules.min_macro_f1:
        alarms.append(f"{figure} is below the floor {rules.min_macro_f1:.2f}")
        return "alarm"
    reasons.append(f"{figure} (floor {rules.min_macro_f1:.2f})")
    return "ok"


def _streak(evidence: Evidence, history: list[PastDecision]) -> int:
    """Consecutive days before this one that drifted with the same champion."""
    by_day = {past.day: past for past in history}
    streak, day = 0, evidence.day - timedelta(days=1)
    while (
        (past := by_day.get(day)) and past.drifting and past.model_version == evidence.model_version
    ):
        streak += 1
        day -= timedelta(days=1)
    return streak


def _held(evidence: Evidence, history: list[PastDecision], rules: MonitoringSettings) -> str | None:
    """Why an alarm does not trigger a retraining today, or None."""
    if (last := _last_trigger(evidence.day, history, rules.cooldown_days)) is not None:
        until = last + timedelta(days=rules.cooldown_days)
        return f"retrain already triggered on {last}; the next trigger from {until}"
    if evidence.challenger and evidence.challenger_rows < rules.shadow_min_labelled_rows:
        return (
            f"challenger v{evidence.challenger} in shadow has {evidence.challenger_rows} of the "
            f"{rules.shadow_min_labelled_rows} labelled live rows its verdict needs: no "
            "retraining replaces it before"
        )
    return None


def _last_trigger(day: date, history: list[PastDecision], cooldown_days: int) -> date | None:
    recent = [
        p.day
        for p in history
        if p.status == "retrain" and day - timedelta(days=cooldown_days) < p.day < day
    ]
    return max(recent) if recent else None
