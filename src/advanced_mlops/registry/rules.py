"""The validation gate's rules: pure functions of figures, so they are easy to test and explain."""

from __future__ import annotations

from dataclasses import dataclass

from advanced_mlops import schema
from advanced_mlops.settings import GateSettings


@dataclass(frozen=True)
class GateCheck:
    name: str
    observed: float
    threshold: float
    passed: bool

    @property
    def rule(self) -> str:
        return "<=" if self.name == "latency_p95_ms" else ">="


def evaluate_gate(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    latency_ms: float,
    rules: GateSettings,
) -> list[GateCheck]:
    """Every rule the challenger must pass, with the figure it was judged on."""
    f1 = challenger["macro_f1"]
    checks = [GateCheck("macro_f1", f1, rules.min_macro_f1, f1 >= rules.min_macro_f1)]
    if champion is not None:
        floor = champion["macro_f1"] - rules.max_f1_drop
        checks.append(GateCheck("macro_f1_vs_champion", f1, floor, f1 >= floor))
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
        f"{c.name} ({c.observed:.4g}, needs {c.rule} {c.threshold:.4g})" for c in failed
    )


def champion_lineage(events: list[dict[str, object]]) -> list[str]:
    """The stack of champions the history implies: a promotion pushes, a rollback pops."""
    stack: list[str] = []
    for event in events:
        if event["event"] == "promote":
            stack.append(str(event["version"]))
        elif event["event"] == "rollback" and stack:
            stack.pop()
    return stack
