"""The validation gate's rules: pure functions of figures, so they are easy to test and explain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from advanced_mlops import schema
from advanced_mlops.registry.comparison import Comparison
from advanced_mlops.settings import GateSettings

COMPARISON_CHECK = "macro_f1_vs_champion"  # the only relative rule; every other one is a floor


@dataclass(frozen=True)
class GateCheck:
    name: str
    observed: float
    threshold: float
    passed: bool
    detail: str = ""  # the whole story when the figure alone does not tell it

    @property
    def rule(self) -> str:
        return "<=" if self.name == "latency_p95_ms" else ">="


def evaluate_gate(
    challenger: dict[str, float],
    comparison: Comparison | None,
    latency_ms: float,
    rules: GateSettings,
) -> list[GateCheck]:
    """Every rule the challenger must pass, with the figure it was judged on. Against the
    champion, the figure is the lower confidence bound of the paired macro-F1 difference."""
    f1 = challenger["macro_f1"]
    checks = [GateCheck("macro_f1", f1, rules.min_macro_f1, f1 >= rules.min_macro_f1)]
    if comparison is not None:
        checks.append(
            GateCheck(
                COMPARISON_CHECK,
                comparison.lower,
                -comparison.margin,
                comparison.passed,
                comparison.reason,
            )
        )
    for name in schema.CLASSES:
        recall = challenger[f"recall_{name.lower()}"]
        checks.append(
            GateCheck(
                f"recall_{name.lower()}",
                recall,
                rules.min_class_recall,
                recall >= rules.min_class_recall,
            )
        )
    checks.append(
        GateCheck(
            "latency_p95_ms", latency_ms, rules.max_latency_ms, latency_ms <= rules.max_latency_ms
        )
    )
    return checks


def verdict(checks: list[GateCheck]) -> str:
    failed = [c for c in checks if not c.passed]
    if not failed:
        return "passed every rule"
    return "failed " + ", ".join(
        f"{c.name} ({c.detail or f'{c.observed:.4g}, needs {c.rule} {c.threshold:.4g}'})"
        for c in failed
    )


TRAINED_UNTIL = "lineage.train_label_to"


def unseen_holdout_problem(tags: dict[str, str], holdout_from: date) -> str | None:
    """Why the holdout starting at `holdout_from` (its first label date) cannot judge a version
    with these registry tags, or None. `mlops train` records the last label date the model was
    fitted or early-stopped on; a version registered around it has no such proof."""
    trained_until = tags.get(TRAINED_UNTIL)
    if not trained_until:
        return (
            f"has no {TRAINED_UNTIL} tag: nothing proves it was not fitted on the holdout "
            "(register versions with `mlops train`, or promote with --force)"
        )
    try:
        last = date.fromisoformat(trained_until[:10])
    except ValueError:
        return f"{TRAINED_UNTIL}={trained_until!r} is not a date"
    if last >= holdout_from:
        return (
            f"was trained on labels up to {last}, which reaches into the holdout (labels from "
            f"{holdout_from}): gate it at a later --base-date"
        )
    return None


def champion_lineage(events: list[dict[str, object]]) -> list[str]:
    """The stack of champions the history implies: a promotion pushes, a rollback pops."""
    stack: list[str] = []
    for event in events:
        if event["event"] == "promote":
            stack.append(str(event["version"]))
        elif event["event"] == "rollback" and stack:
            stack.pop()
    return stack
