from datetime import date

import numpy as np
import pytest
from sklearn.metrics import f1_score

from advanced_mlops.registry.comparison import Comparison, paired_bootstrap
from advanced_mlops.registry.judge import judge
from advanced_mlops.registry.rules import (
    champion_lineage,
    evaluate_gate,
    unseen_holdout_problem,
    verdict,
)
from advanced_mlops.settings import GateSettings

RULES = GateSettings(
    min_macro_f1=0.6, min_class_recall=0.4, max_latency_ms=20, margin=0.02, confidence=0.9
)


def figures(f1: float = 0.7, poor: float = 0.7, standard: float = 0.7, good: float = 0.7) -> dict:
    return {"macro_f1": f1, "recall_poor": poor, "recall_standard": standard, "recall_good": good}


def comparison(lower: float, difference: float = 0.0) -> Comparison:
    return Comparison(difference, lower, 0.01, confidence=0.9, margin=0.02, rows=500)


def failed(checks: list) -> set[str]:
    return {c.name for c in checks if not c.passed}


def noisy_predictions(truth: np.ndarray, accuracy: float, seed: int) -> np.ndarray:
    """Predictions right on about `accuracy` of the rows, wrong (another class) elsewhere."""
    rng = np.random.default_rng(seed)
    wrong = rng.random(len(truth)) > accuracy
    return np.where(wrong, (truth + rng.integers(1, 3, len(truth))) % 3, truth)


def test_a_good_first_model_passes_every_rule_without_a_champion() -> None:
    checks = evaluate_gate(figures(), None, latency_ms=5, rules=RULES)
    assert failed(checks) == set()
    assert "macro_f1_vs_champion" not in {c.name for c in checks}


@pytest.mark.parametrize(
    ("challenger", "paired", "latency", "broken"),
    [
        (figures(f1=0.59), None, 5, {"macro_f1"}),
        (figures(good=0.39), None, 5, {"recall_good"}),
        (figures(poor=0.1, standard=0.2), None, 5, {"recall_poor", "recall_standard"}),
        (figures(), None, 20.5, {"latency_p95_ms"}),
        (figures(), comparison(lower=-0.021), 5, {"macro_f1_vs_champion"}),
    ],
)
def test_each_rule_refuses_on_its_own(
    challenger: dict, paired: Comparison | None, latency: float, broken: set[str]
) -> None:
    assert failed(evaluate_gate(challenger, paired, latency, RULES)) == broken


def test_the_champion_rule_judges_the_lower_bound_against_the_margin() -> None:
    checks = evaluate_gate(figures(), comparison(lower=-0.02), 5, RULES)
    vs = next(c for c in checks if c.name == "macro_f1_vs_champion")
    assert vs.passed
    assert (vs.observed, vs.threshold) == (-0.02, -0.02)


def test_the_bootstrap_macro_f1_is_scikit_learns_on_the_full_sample() -> None:
    truth = np.random.default_rng(1).integers(0, 3, 400)
    a, b = noisy_predictions(truth, 0.8, 2), noisy_predictions(truth, 0.7, 3)
    result = paired_bootstrap(truth, a, b, margin=0.02, confidence=0.9, resamples=200, seed=0)
    expected = f1_score(truth, a, average="macro") - f1_score(truth, b, average="macro")
    assert result.difference == pytest.approx(expected)
    assert result.lower < result.difference < result.upper


def test_identical_predictions_differ_by_exactly_nothing_and_pass() -> None:
    truth = np.random.default_rng(1).integers(0, 3, 300)
    same = noisy_predictions(truth, 0.7, 2)
    result = paired_bootstrap(truth, same, same, margin=0.0, confidence=0.95, resamples=300, seed=0)
    assert (result.difference, result.lower, result.upper) == (0.0, 0.0, 0.0)
    assert result.passed


def test_a_clearly_worse_challenger_is_refused_and_the_reason_gives_the_figures() -> None:
    truth = np.random.default_rng(1).integers(0, 3, 800)
    champion, worse = noisy_predictions(truth, 0.75, 2), noisy_predictions(truth, 0.62, 3)
    result = paired_bootstrap(
        truth, worse, champion, margin=0.02, confidence=0.9, resamples=500, seed=0
    )
    assert not result.passed
    assert result.upper < -0.02
    assert "on 800 paired rows" in result.reason
    assert "worse than the champion beyond noise" in result.reason


def test_pairing_cancels_what_both_models_get_wrong_together() -> None:
    """Two models that disagree on few rows have a narrow interval on their difference, however
    noisy each one's own figure is."""
    truth = np.random.default_rng(1).integers(0, 3, 500)
    champion = noisy_predictions(truth, 0.7, 2)
    challenger = champion.copy()
    challenger[:10] = truth[:10]  # a handful of rows fixed
    result = paired_bootstrap(
        truth, challenger, champion, margin=0.0, confidence=0.95, resamples=1000, seed=0
    )
    assert result.upper - result.lower < 0.02
    assert result.lower >= 0.0


def test_the_bootstrap_is_seeded() -> None:
    truth = np.random.default_rng(1).integers(0, 3, 300)
    a, b = noisy_predictions(truth, 0.7, 2), noisy_predictions(truth, 0.7, 3)

    def run(seed: int) -> Comparison:
        return paired_bootstrap(truth, a, b, margin=0.02, confidence=0.9, resamples=300, seed=seed)

    assert run(0) == run(0)
    assert run(0).lower != run(1).lower


def test_paired_rows_must_match() -> None:
    with pytest.raises(ValueError, match="same non-empty rows: 3 labels, 2 challenger"):
        paired_bootstrap(
            [0, 1, 2], [0, 1], [0, 1, 2], margin=0, confidence=0.9, resamples=9, seed=0
        )


def test_judge_compares_only_when_there_is_a_champion() -> None:
    truth = np.random.default_rng(1).integers(0, 3, 300)
    labels = [("Poor", "Standard", "Good")[i] for i in truth]
    proba = np.eye(3)[noisy_predictions(truth, 0.8, 2)] * 0.8 + 0.2 / 3
    alone = judge(labels, proba, None, 3.0, RULES)
    assert alone.comparison is None
    assert alone.champion_metrics is None
    assert alone.passed
    paired = judge(labels, proba, proba, 3.0, RULES)
    assert paired.comparison is not None
    assert paired.comparison.difference == 0.0
    assert paired.challenger_metrics == paired.champion_metrics
    assert 0.0 <= paired.challenger_metrics["ece"] <= 1.0


@pytest.mark.parametrize(
    ("tags", "problem"),
    [
        ({}, "has no lineage.train_label_to tag"),
        ({"lineage.train_label_to": "soon"}, "is not a date"),
        (
            {"lineage.train_label_to": "2025-02-07"},
            "reaches into the holdout (labels from 2025-02-07)",
        ),
        ({"lineage.train_label_to": "2025-03-01"}, "trained on labels up to 2025-03-01"),
        ({"lineage.train_label_to": "2025-02-06"}, None),
    ],
)
def test_only_a_version_whose_lineage_ends_before_the_holdout_can_be_judged_on_it(
    tags: dict[str, str], problem: str | None
) -> None:
    found = unseen_holdout_problem(tags, date(2025, 2, 7))
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_champion_lineage_pushes_promotions_and_pops_rollbacks() -> None:
    events = [
        {"event": "gate", "version": "1"},
        {"event": "promote", "version": "1"},
        {"event": "promote", "version": "2"},
        {"event": "promote", "version": "3"},
        {"event": "rollback", "version": "2"},
    ]
    assert champion_lineage(events) == ["1", "2"]
    assert champion_lineage([*events, {"event": "rollback", "version": "1"}]) == ["1"]


def test_the_verdict_names_each_failed_rule_with_its_figures() -> None:
    checks = evaluate_gate(figures(), comparison(lower=-0.03, difference=-0.01), 25, RULES)
    assert verdict(checks) == (
        "failed macro_f1_vs_champion (macro-F1 difference -0.0100 on 500 paired rows, 90% lower "
        "bound -0.0300 < -0.020: worse than the champion beyond noise), "
        "latency_p95_ms (25, needs <= 20)"
    )
    assert verdict(evaluate_gate(figures(), None, 5, RULES)) == "passed every rule"
