"""The live shadow rule on the generator's scenarios at a realistic daily traffic (about 100
predictions a day), through the same judging code as `mlops monitor`: each day both models score
the day's records, labels arrive after the delay, and the challenger is judged on every labelled
row both scored since it went to shadow."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from advanced_mlops import schema
from advanced_mlops.data.cleaning import clean_batch
from advanced_mlops.data.generator import Generator
from advanced_mlops.data.scenarios import Scenario, ScenarioName
from advanced_mlops.inference import predict_proba, to_model_frame
from advanced_mlops.monitoring.shadow import ShadowVerdict, judge_shadow
from advanced_mlops.settings import Settings
from advanced_mlops.training.model import fit
from advanced_mlops.training.split import time_split
from tests.monitoring.world import (
    CUSTOMERS,
    FIRST,
    START,
    TRAINED_ON,
    labelled_days,
    world_settings,
)

PARAMS = {"depth": 4, "l2_leaf_reg": 3.0}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return world_settings(tmp_path_factory.mktemp("home"))


def trained(settings: Settings, snapshot: pd.DataFrame, seed: int = 42) -> Any:
    split = time_split(snapshot, settings.training.valid_days, settings.training.holdout_days)
    config = settings.training.model_copy(update={"seed": seed})
    return fit(split.train, split.valid, PARAMS, config).model


@pytest.fixture(scope="module")
def stable(settings: Settings) -> pd.DataFrame:
    return labelled_days(settings, Scenario(), START, TRAINED_ON)


@pytest.fixture(scope="module")
def champion(settings: Settings, stable: pd.DataFrame) -> Any:
    return trained(settings, stable)


def shadow_period(
    settings: Settings, champion: Any, challenger: Any, scenario: Scenario, days: int
) -> list[ShadowVerdict]:
    """Judge the challenger each day from FIRST, until it is decided or `days` have passed."""
    generator = Generator(settings.data.seed, CUSTOMERS, scenario=scenario)
    delay = settings.data.label_delay_days
    scored: dict[date, pd.DataFrame] = {}
    verdicts = []
    for i in range(days):
        day = FIRST + timedelta(days=i)
        frame = clean_batch(generator.batch(day)).dropna(subset=[schema.LABEL])
        rows = to_model_frame(frame)
        classes = np.asarray(schema.CLASSES)
        scored[day] = frame.assign(
            champion=classes[predict_proba(champion, rows).argmax(axis=1)],
            challenger=classes[predict_proba(challenger, rows).argmax(axis=1)],
        )
        known = [f for d, f in scored.items() if d + timedelta(days=delay) <= day]
        cells: Counter[tuple[str, str, str]] = Counter()
        for f in known:
            cells.update(zip(f[schema.LABEL], f["champion"], f["challenger"], strict=True))
        verdict = judge_shadow(
            cells,
            champion="1",
            challenger="2",
            first_day=FIRST,
            day=day,
            gate=settings.gate,
            rules=settings.monitoring,
        )
        verdicts.append(verdict)
        if verdict.action != "wait":
            break
    return verdicts


def test_a_same_quality_challenger_is_neither_promoted_nor_retired_within_the_minimum_rows(
    settings: Settings, champion: Any, stable: pd.DataFrame
) -> None:
    twin = trained(settings, stable, seed=7)  # the same data, another seed
    verdicts = shadow_period(settings, champion, twin, Scenario(), 14)
    minimum = settings.monitoring.shadow_min_labelled_rows
    assert verdicts[-1].rows >= minimum, "not vacuous: the minimum was reached"
    assert all(v.action == "wait" for v in verdicts if v.rows < minimum)
    assert [v.action for v in verdicts] == ["wait"] * 14, [v.reason for v in verdicts[7:]]
    last = verdicts[-1]
    assert last.comparison is not None
    assert abs(last.comparison.difference) < 0.05


def test_a_worse_challenger_is_retired(
    settings: Settings, champion: Any, stable: pd.DataFrame
) -> None:
    rng = np.random.default_rng(0)
    noisy = stable.copy()
    picked = rng.random(len(noisy)) < 0.6
    noisy.loc[picked, schema.LABEL] = rng.permutation(noisy.loc[picked, schema.LABEL].to_numpy())
    worse = trained(settings, noisy)
    verdicts = shadow_period(settings, champion, worse, Scenario(), 30)
    last = verdicts[-1]
    assert last.action == "retire", [v.reason for v in verdicts]
    assert "worse than the champion beyond noise" in last.reason
    assert last.rows >= settings.monitoring.shadow_min_labelled_rows
    assert last.comparison is not None
    assert last.comparison.upper < 0
    assert last.challenger_macro_f1 is not None
    assert last.champion_macro_f1 is not None
    assert last.challenger_macro_f1 < last.champion_macro_f1


def test_after_concept_drift_a_retrained_challenger_is_promoted_within_days_of_its_labels(
    settings: Settings, champion: Any
) -> None:
    # The concept changed 35 days before the challenger went to shadow; it was retrained on
    # everything known then (28 days of changed labels, 14 of them outside the validation and
    # holdout weeks; recent rows weigh more).
    drift = Scenario(ScenarioName.CONCEPT_DRIFT, FIRST - timedelta(days=35))
    known = labelled_days(settings, drift, START, TRAINED_ON - settings.data.label_delay_days)
    retrained = trained(settings, known)
    verdicts = shadow_period(settings, champion, retrained, drift, 30)
    last = verdicts[-1]
    assert last.action == "promote", [v.reason for v in verdicts[7:]]
    assert "better than the champion beyond noise" in last.reason
    assert last.comparison is not None
    assert last.comparison.lower > 0
    first_labels = FIRST + timedelta(days=settings.data.label_delay_days)
    assert last.day <= first_labels + timedelta(days=5)
    assert last.rows >= settings.monitoring.shadow_min_labelled_rows
