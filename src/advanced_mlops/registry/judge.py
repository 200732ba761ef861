"""The gate's one judgement: a challenger's probabilities (and the champion's, on the same rows)
in, metrics, the paired comparison, every rule and the verdict out.

`mlops gate`, the training DAG (through `promotion.gate`) and the pull-request check (`mlops pr`)
all judge through `judge`, so the rule cannot differ between them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from advanced_mlops import schema
from advanced_mlops.registry.comparison import Comparison, paired_bootstrap
from advanced_mlops.registry.rules import GateCheck, evaluate_gate, verdict
from advanced_mlops.settings import GateSettings
from advanced_mlops.training.metrics import classification_metrics


@dataclass(frozen=True)
class Judgement:
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    comparison: Comparison | None
    checks: list[GateCheck]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def verdict(self) -> str:
        """One line that says why: the failed rules with their figures, or that all passed."""
        return verdict(self.checks)


def class_indices(labels: Sequence[str]) -> np.ndarray:
    """Labels as indices into `schema.CLASSES`, the column order of every probability matrix."""
    return np.asarray([schema.CLASSES.index(label) for label in labels], dtype=int)


def compare(labels: Sequence[str], challenger: np.ndarray, champion: np.ndarray,
            rules: GateSettings) -> Comparison:  # fmt: skip
    """The paired bootstrap of macro-F1 with the gate's margin, confidence and seed."""
    return paired_bootstrap(
        class_indices(labels),
        challenger.argmax(axis=1),
        champion.argmax(axis=1),
        margin=rules.margin,
        confidence=rules.confidence,
        resamples=rules.bootstrap_resamples,
        seed=rules.bootstrap_seed,
        classes=len(schema.CLASSES),
    )


def judge(
    labels: Sequence[str],
    challenger: np.ndarray,
    champion: np.ndarray | None,
    latency_ms: float,
    rules: GateSettings,
) -> Judgement:
    """Judge the challenger's probabilities on labelled rows; against the champion's
    probabilities on the very same rows when there is a champion."""
    truth = list(labels)
    metrics = classification_metrics(truth, challenger)
    champion_metrics = comparison = None
    if champion is not None:
        champion_metrics = classification_metrics(truth, champion)
        comparison = compare(truth, challenger, champion, rules)
    checks = evaluate_gate(metrics, comparison, latency_ms, rules)
    return Judgement(metrics, champion_metrics, comparison, checks)
