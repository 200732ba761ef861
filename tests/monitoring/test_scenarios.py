"""The decision rule on the generator's scenarios at a realistic daily traffic (3,000 customers:
about 100 predictions a day), through the same measuring and deciding code as `mlops monitor`.
One model is trained once for the module; each day is generated, cleaned and scored directly."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.monitoring.aggregate import count_frame
from advanced_mlops.monitoring.decision import Decision, PastDecision, decide
from advanced_mlops.monitoring.measure import evidence
from advanced_mlops.monitoring.performance import from_confusion, performance_window
from advanced_mlops.settings import Settings
from advanced_mlops.training.job import monitoring_reference
from advanced_mlops.training.model import tune
from advanced_mlops.training.split import time_split
from tests.monitoring.world import (
    CUSTOMERS,
    FIRST,
    START,
    TRAINED_ON,
    labelled_days,
    world_settings,
)

pytestmark = pytest.mark.slow

NEW_TERMS = {"annual_income", "delay_from_due_date", "outstanding_debt", "num_credit_inquiries"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return world_settings(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def champion(settings: Settings) -> tuple[object, object]:
    """A model trained on 60 stable days, and its reference profile."""
    snapshot = labelled_days(settings, Scenario(), START, TRAINED_ON)
    # As `train` does: fitted on the split's train part, whose newest label days (not the
    # validation or holdout weeks) are the reference.
    split = time_split(snapshot, settings.training.valid_days, settings.training.holdout_days)
    best, _ = tune(split.train, split.valid, settings.training)
    reference = monitoring_reference(settings, split.train, best.model, FIRST)
    assert pd.Timestamp(reference.label_to) < pd.to_datetime(split.valid["label_date"]).min()
    assert (
        reference.label_to - reference.label_from
    ).days == settings.monitoring.reference_days - 1
    return best.model, reference


def simulate(
    settings: Settings, champion: tuple[object, object], scenario: Scenario, days: int
) -> list[tuple[date, Decision]]:
    """Monitor `days` days from FIRST as `mlops monitor` would, labels arriving after the delay."""
    model, reference = champion
    generator = Generator(settings.data.seed, CUSTOMERS, scenario=scenario)
    scored: dict[date, pd.DataFrame] = {}
    history: list[PastDecision] = []
    decisions = []
    rules = settings.monitoring
    for i in range(days):
        day = FIRST + timedelta(days=i)
        frame = clean_batch(generator.batch(day))
        proba = predict_proba(model, to_model_frame(frame))
        scored[day] = frame.assign(prediction=np.asarray(schema.CLASSES)[proba.argmax(axis=1)])
        first, last = performance_window(
            day, settings.data.label_delay_days, settings.monitoring.performance_days
        )
        known = [scored[d] for d in pd.date_range(first, last).date if d in scored]
        confusion: Counter[tuple[str, str]] = Counter()
        for labelled in known:
            labelled = labelled.dropna(subset=[schema.LABEL])
            confusion.update(zip(labelled[schema.LABEL], labelled["prediction"], strict=True))
        found, _ = evidence(
            day,
            "1",
            count_frame(scored[day], reference),  # type: ignore[arg-type]
            reference,  # type: ignore[arg-type]
            from_confusion(confusion, first, last),
            rules=rules,
        )
        decision = decide(found, history, rules)
        history.append(PastDecision(day, decision.status, "1", decision.drifting))
        decisions.append((day, decision))
    return decisions


def test_thirty_stable_days_never_trigger(
    settings: Settings, champion: tuple[object, object]
) -> None:
    decisions = simulate(settings, champion, Scenario(), 30)
    assert [d for d in decisions if d[1].retrain] == []
    # Not vacuous: most days were fully judged once labels had arrived.
    judged = [d for _, d in decisions if d.status == "ok"]
    assert len(judged) >= 18, [d.reasons for _, d in decisions]
    assert all(d.checks["performance"] == "ok" for d in judged)


def test_covariate_drift_is_detected_within_two_days(
    settings: Settings, champion: tuple[object, object]
) -> None:
    start = FIRST + timedelta(days=3)
    decisions = simulate(settings, champion, Scenario(ScenarioName.COVARIATE_DRIFT, start), 6)
    before = [d for day, d in decisions if day < start]
    assert not any(d.retrain for d in before)
    fired = [day for day, d in decisions if d.retrain]
    assert fired, [d.reasons for _, d in decisions]
    assert fired[0] <= start + timedelta(days=1)
    first = dict(decisions)[fired[0]]
    assert first.checks["drift"] == "alarm"
    assert any("drift on" in r for r in first.reasons)
    # The scenario's new lending terms move these four directly (and every feature a little):
    # whichever of them the champion ranks among its important ones must be seen drifting.
    assert set(first.drifted_features) & NEW_TERMS, first.drifted_features


def test_concept_drift_raises_a_performance_alarm_once_labels_arrive(
    settings: Settings, champion: tuple[object, object]
) -> None:
    start = FIRST + timedelta(days=2)
    delay = settings.data.label_delay_days
    decisions = simulate(settings, champion, Scenario(ScenarioName.CONCEPT_DRIFT, start), 12)
    labels_arrive = start + timedelta(days=delay)
    # No false alarm before the labels of the drifted days arrive, and no drift alarm at all:
    # the inputs did not change, only what they mean.
    assert not any(d.retrain for day, d in decisions if day < labels_arrive)
    assert all(d.checks.get("drift") != "alarm" for _, d in decisions)
    fired = [day for day, d in decisions if d.retrain]
    assert fired, [d.reasons for _, d in decisions]
    assert fired[0] <= labels_arrive + timedelta(days=2)
    assert dict(decisions)[fired[0]].checks["performance"] == "alarm"
