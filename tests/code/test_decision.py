"""The retraining rule, as a pure function of one day's evidence and the days before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from advanced_mlops.errors import MlopsError
from advanced_mlops.monitoring.decision import (
    Evidence,
    PastDecision,
    decide,
)
from advanced_mlops.monitoring.drift import FeatureDrift
from advanced_mlops.monitoring.performance import LivePerformance
from advanced_mlops.settings import MonitoringSettings, load_settings

DAY = date(2025, 3, 10)
RULES = MonitoringSettings(min_rows=50, min_labelled=200, min_macro_f1=0.62, important_features=3,
                      min_drifted_features=2, drift_days=2, cooldown_days=7)  # fmt: skip
IMPORTANT = ["outstanding_debt", "num_credit_inquiries", "credit_mix"]


def drift(feature: str, value: float, p_value: float = 1e-6) -> FeatureDrift:
    return FeatureDrift(feature, "numeric", "psi", value, 0.2, 500, p_value, 0.01)


def performance(macro_f1: float | None, rows: int = 600) -> LivePerformance:
    return LivePerformance(DAY - timedelta(days=9), DAY - timedelta(days=7), rows, macro_f1)


def evidence(
    drifted: list[str] = [],  # noqa: B006 (read only)
    rows: int = 500,
    f1: float | None = 0.7,
    labelled: int = 600,
    day: date = DAY,
    problems: list[str] | None = None,
) -> Evidence:
    return Evidence(
        day=day,
        model_version="3",
        rows=rows,
        problems=problems or [],
        drift=[drift(f, 0.5 if f in drifted else 0.05) for f in [*IMPORTANT, "age"]],
        important=IMPORTANT,
        performance=performance(f1, labelled),
    )


def past(
    days_ago: int, status: str = "ok", drifting: bool = False, version: str = "3"
) -> PastDecision:
    return PastDecision(DAY - timedelta(days=days_ago), status, version, drifting)


def test_a_quiet_day_is_ok_and_says_why() -> None:
    decision = decide(evidence(), [], RULES)
    assert decision.status == "ok"
    assert not decision.retrain
    assert decision.checks == {"quality": "ok", "drift": "ok", "performance": "ok"}
    assert any("live macro-F1 0.700" in r for r in decision.reasons)


def test_drift_must_last_enough_days_with_the_same_champion() -> None:
    drifted = ["outstanding_debt", "num_credit_inquiries"]
    first = decide(evidence(drifted), [], RULES)
    assert first.status == "ok"
    assert first.drifting
    assert any("day 1 of 2" in r for r in first.reasons)
    second = decide(evidence(drifted), [past(1, drifting=True)], RULES)
    assert second.retrain
    assert second.checks["drift"] == "alarm"
    assert second.drifted_features == drifted
    # Yesterday's drift was measured against another champion: the streak starts again.
    other = decide(evidence(drifted), [past(1, drifting=True, version="2")], RULES)
    assert not other.retrain


def test_a_large_but_insignificant_effect_is_not_drift() -> None:
    """Both must hold: the effect size beyond its threshold and p below alpha."""
    assert drift("age", 0.5).drifted
    assert not drift("age", 0.5, p_value=0.2).drifted
    assert not drift("age", 0.05).drifted  # significant, but small
    noisy = Evidence(
        day=DAY,
        model_version="3",
        rows=500,
        drift=[drift(f, 0.5, p_value=0.2) for f in IMPORTANT],
        important=IMPORTANT,
        performance=performance(0.7),
    )
    decision = decide(noisy, [past(1, drifting=True)], RULES)
    assert not decision.drifting
    assert decision.checks["drift"] == "ok"


def test_notes_are_told_without_stopping_the_judgement() -> None:
    note = "log rows from model versions the registry does not know were left out (v9: 5)"
    decision = decide(replace(evidence(f1=0.5), notes=[note]), [], RULES)
    assert decision.retrain
    assert decision.reasons[-1] == note


def test_more_drifted_than_important_features_is_refused_by_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("MLOPS_MONITOR_IMPORTANT_FEATURES", "2")
    monkeypatch.setenv("MLOPS_MONITOR_MIN_DRIFTED_FEATURES", "3")
    with pytest.raises(MlopsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "MLOPS_MONITOR_MIN_DRIFTED_FEATURES" in message
    assert "MLOPS_MONITOR_IMPORTANT_FEATURES=2" in message
    monkeypatch.setenv("MLOPS_MONITOR_MIN_DRIFTED_FEATURES", "2")
    assert load_settings().monitoring.min_drifted_features == 2


def test_drift_on_too_few_or_unimportant_features_does_not_count() -> None:
    history = [past(1, drifting=True)]
    assert not decide(evidence(["outstanding_debt"]), history, RULES).retrain
    assert not decide(evidence(["age", "outstanding_debt"]), history, RULES).retrain


def test_a_small_day_cannot_judge_drift() -> None:
    drifted = ["outstanding_debt", "num_credit_inquiries"]
    decision = decide(evidence(drifted, rows=20), [past(1, drifting=True)], RULES)
    assert not decision.retrain
    assert decision.checks["drift"] == "insufficient_data"
    assert decision.status == "insufficient_data"


def test_live_performance_below_the_floor_triggers_on_enough_labels() -> None:
    low = decide(evidence(f1=0.5), [], RULES)
    assert low.retrain
    assert low.checks["performance"] == "alarm"
    assert any("below the floor 0.62" in r for r in low.reasons)
    few = decide(evidence(f1=0.5, labelled=50), [], RULES)
    assert not few.retrain
    assert few.checks["performance"] == "insufficient_data"


def test_after_a_trigger_the_rule_waits_for_the_cooldown() -> None:
    assert decide(evidence(f1=0.5), [past(3, status="retrain")], RULES).status == "cooldown"
    assert decide(evidence(f1=0.5), [past(7, status="retrain")], RULES).retrain


def test_a_challenger_in_shadow_is_judged_before_a_retraining_replaces_it() -> None:
    """A trigger would put a new model in shadow in its place: not before it has the labelled
    live rows its verdict needs (`shadow_min_labelled_rows`, 300 by default)."""
    rows = RULES.shadow_min_labelled_rows
    young = decide(replace(evidence(f1=0.5), challenger="4", challenger_rows=rows - 1), [], RULES)
    assert young.status == "cooldown"
    assert young.checks["performance"] == "alarm"
    assert any(f"challenger v4 in shadow has {rows - 1} of the {rows}" in r for r in young.reasons)
    judged = decide(replace(evidence(f1=0.5), challenger="4", challenger_rows=rows), [], RULES)
    assert judged.retrain


def test_a_day_that_cannot_be_judged_never_triggers() -> None:
    drifted = ["outstanding_debt", "num_credit_inquiries"]
    decision = decide(
        evidence(drifted, f1=0.1, problems=["credit_mix is absent from 40 of 500 rows"]),
        [past(1, drifting=True)],
        RULES,
    )
    assert decision.status == "insufficient_data"
    assert not decision.retrain
    assert decision.reasons[0] == "credit_mix is absent from 40 of 500 rows"
