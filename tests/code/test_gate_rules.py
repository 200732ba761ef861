import pytest

from advanced_mlops.registry.rules import champion_lineage, evaluate_gate, verdict
from advanced_mlops.settings import GateSettings

RULES = GateSettings(min_macro_f1=0.6, max_f1_drop=0.01, min_class_recall=0.4, max_latency_ms=20)


def figures(f1: float = 0.7, poor: float = 0.7, standard: float = 0.7, good: float = 0.7) -> dict:
    return {"macro_f1": f1, "recall_poor": poor, "recall_standard": standard, "recall_good": good}


def failed(checks: list) -> set[str]:
    return {c.name for c in checks if not c.passed}


def test_a_good_first_model_passes_every_rule_without_a_champion() -> None:
    checks = evaluate_gate(figures(), None, latency_ms=5, rules=RULES)
    assert failed(checks) == set()
    assert "macro_f1_vs_champion" not in {c.name for c in checks}


@pytest.mark.parametrize(
    ("challenger", "champion", "latency", "broken"),
    [
        (figures(f1=0.59), None, 5, {"macro_f1"}),
        (figures(good=0.39), None, 5, {"recall_good"}),
        (figures(poor=0.1, standard=0.2), None, 5, {"recall_poor", "recall_standard"}),
        (figures(), None, 20.5, {"latency_p95_ms"}),
        (figures(f1=0.70), figures(f1=0.72), 5, {"macro_f1_vs_champion"}),
    ],
)
def test_each_rule_refuses_on_its_own(
    challenger: dict, champion: dict | None, latency: float, broken: set[str]
) -> None:
    assert failed(evaluate_gate(challenger, champion, latency, RULES)) == broken


def test_a_challenger_within_the_tolerance_of_the_champion_passes() -> None:
    checks = evaluate_gate(figures(f1=0.711), figures(f1=0.72), 5, RULES)
    assert failed(checks) == set()
    vs = next(c for c in checks if c.name == "macro_f1_vs_champion")
    assert vs.threshold == pytest.approx(0.71)


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
    checks = evaluate_gate(figures(f1=0.70), figures(f1=0.72), latency_ms=25, rules=RULES)
    assert verdict(checks) == (
        "failed macro_f1_vs_champion (0.7, needs >= 0.71), latency_p95_ms (25, needs <= 20)"
    )
    assert verdict(evaluate_gate(figures(), None, 5, RULES)) == "passed every rule"
