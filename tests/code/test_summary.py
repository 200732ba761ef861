"""The markdown a reviewer reads in the job summary and the pull-request comment."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from advanced_mlops.cli import summary
from advanced_mlops.contracts.validate import Check, ContractReport
from advanced_mlops.errors import MlopsError
from advanced_mlops.registry.comparison import Comparison
from advanced_mlops.registry.judge import Judgement
from advanced_mlops.registry.promotion import GateResult
from advanced_mlops.registry.rules import evaluate_gate
from advanced_mlops.settings import GateSettings
from tests.integration.cli import run

RULES = GateSettings(min_macro_f1=0.55, min_class_recall=0.4, max_latency_ms=50, margin=0.02)


def metrics(f1: float) -> dict[str, float]:
    return {
        "accuracy": f1 + 0.01,
        "macro_f1": f1,
        "recall_poor": 0.7,
        "recall_standard": 0.6,
        "recall_good": 0.5,
    }


def gate_result(challenger: float, champion: float | None) -> GateResult:
    champion_metrics = metrics(champion) if champion is not None else None
    paired = None
    if champion is not None:
        difference = challenger - champion
        paired = Comparison(difference, difference - 0.01, difference + 0.01, 0.8, 0.02, 693)
    checks = evaluate_gate(metrics(challenger), paired, 3.2, RULES)
    return GateResult(
        version="4",
        champion="3" if champion is not None else None,
        base_date=date(2025, 2, 14),
        holdout_rows=693,
        judgement=Judgement(metrics(challenger), champion_metrics, paired, checks),
    )


def test_a_passing_gate_shows_both_models_side_by_side_and_every_rule() -> None:
    text = summary.gate_markdown(gate_result(0.70, 0.68))
    assert text.startswith("### Model gate: v4 vs champion v3: ✅ PASSED")
    assert "693 holdout rows known by 2025-02-14" in text
    assert "| metric | challenger v4 | champion v3 |" in text
    assert "| macro_f1 | 0.7000 | 0.6800 |" in text
    assert "| macro_f1_vs_champion | 0.0100 | >= -0.0200 | yes |" in text
    assert "80% lower bound +0.0100 >= -0.020: not worse than the champion beyond noise" in text
    assert "| latency_p95_ms | 3.2000 | <= 50.0000 | yes |" in text
    assert text.rstrip().endswith("**Verdict:** passed every rule")


def test_a_refusal_says_which_rule_failed_with_its_figures() -> None:
    text = summary.gate_markdown(gate_result(0.60, 0.68))
    assert "❌ REFUSED" in text.splitlines()[0]
    assert "| macro_f1_vs_champion | -0.0900 | >= -0.0200 | **NO** |" in text
    assert "**Verdict:** failed macro_f1_vs_champion (macro-F1 difference -0.0800" in text


def test_without_a_champion_its_column_is_empty() -> None:
    text = summary.gate_markdown(gate_result(0.70, None))
    assert "| metric | challenger v4 | no champion yet |" in text
    assert "| macro_f1 | 0.7000 | - |" in text
    assert "macro_f1_vs_champion" not in text


def report(suite: str, *checks: Check) -> ContractReport:
    return ContractReport(suite=suite, rows=120, checks=checks)


GOOD = Check("age", "expect_column_values_to_be_between", "0.0% unexpected", True)
BAD = Check("annual_income", "expect_column_to_exist", "missing | renamed", False)


def test_contracts_that_pass_say_so_per_suite_and_list_what_was_skipped() -> None:
    text = summary.contracts_markdown(
        date(2025, 1, 14), [report("raw_batch", GOOD, GOOD)], ["prediction_log: no rows"]
    )
    assert text.splitlines()[0] == "### Data contracts on 2025-01-14: ✅ all passed"
    assert "- `raw_batch` on 120 rows: all 2 expectations passed" in text
    assert "- skipped prediction_log: no rows" in text
    assert "|" not in text  # no table of failures


def test_a_broken_contract_lists_each_failed_expectation_escaped_for_markdown() -> None:
    text = summary.contracts_markdown(
        date(2025, 1, 14), [report("raw_batch", GOOD, BAD), report("training_snapshot", GOOD)], []
    )
    assert "❌ FAILED" in text.splitlines()[0]
    assert "- `raw_batch` on 120 rows: 1 of 2 expectations failed" in text
    assert "- `training_snapshot` on 120 rows: all 1 expectations passed" in text
    assert "#### `raw_batch`: failed expectations" in text
    assert "| annual_income | expect_column_to_exist | missing \\| renamed |" in text
    assert "expect_column_values_to_be_between" not in text  # only failures are listed


def test_write_appends_to_each_file_and_creates_its_folder(tmp_path: Path) -> None:
    first, second = tmp_path / "a.md", tmp_path / "new" / "b.md"
    first.write_text("earlier step\n")
    summary.write([first, second], "### report")
    summary.write(None, "### ignored")
    assert first.read_text() == "earlier step\n### report\n"
    assert second.read_text() == "### report\n"


def test_an_unwritable_summary_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MlopsError, match=r"^--summary .*: cannot write"):
        summary.write([tmp_path], "### report")  # a folder, not a file


def test_contracts_check_writes_the_summary_given_or_github_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"MLOPS_HOME": str(tmp_path), "MLOPS_CUSTOMERS": "300"}
    step_summary = tmp_path / "step_summary.md"
    args = ("contracts", "check", "--date", "2025-01-03", "--suite", "raw_batch")

    ok = run(monkeypatch, capsys, {**env, "GITHUB_STEP_SUMMARY": str(step_summary)}, *args)
    assert ok.code == 0, ok.err
    assert "✅ all passed" in step_summary.read_text()

    given = tmp_path / "given.md"
    broken = ("--scenario", "schema_break", "--scenario-start", "2025-01-01")
    refused = run(monkeypatch, capsys, env, *args, *broken, "--summary", str(given))
    assert refused.code == 1
    text = given.read_text()
    assert "❌ FAILED" in text
    assert "#### `raw_batch`: failed expectations" in text
    assert step_summary.read_text().count("### Data contracts") == 1  # the option wins


def test_ingest_writes_why_a_run_was_refused_and_stores_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"MLOPS_HOME": str(tmp_path), "MLOPS_CUSTOMERS": "300"}
    step_summary = tmp_path / "step_summary.md"
    assert run(monkeypatch, capsys, env, "db", "upgrade").code == 0
    days = ("ingest", "--date", "2025-01-01", "--days", "3")

    broken = ("--scenario", "schema_break", "--scenario-start", "2025-01-02")
    given = tmp_path / "given.md"
    refused = run(monkeypatch, capsys, env, *days, *broken, "--summary", str(given))
    assert refused.code == 2
    assert "batch of 2025-01-02 breaks its contract, nothing stored" in refused.err
    text = given.read_text()
    assert text.startswith("### Data contracts on 2025-01-02: ❌ FAILED\n")
    assert "- `raw_batch` on " in text
    assert "#### `raw_batch`: failed expectations" in text
    assert "| (table) | expect_table_columns_to_match_set |" in text
    assert "| annual_income | expect_column_values_to_match_regex |" in text
    assert "Nothing was stored: ingestion checks every day of a run before writing any." in text
    assert stored_rows(tmp_path) == 0  # not even 2025-01-01, which met its contract

    ok = run(monkeypatch, capsys, {**env, "GITHUB_STEP_SUMMARY": str(step_summary)}, *days)
    assert ok.code == 0, ok.err
    assert step_summary.read_text().startswith(
        "### Ingestion of 3 day(s), 2025-01-01..2025-01-03: ✅ every raw batch and label "
        "delivery met its contract"
    )
    assert stored_rows(tmp_path) > 0


def test_an_ingestion_refused_for_another_reason_says_it_in_one_line() -> None:
    error = MlopsError("--date 2025-01-02: the source has no rows for this day; nothing stored")
    text = summary.ingest_refused_markdown(error)
    assert text == (
        "### Ingestion refused: ❌\n\n"
        "--date 2025-01-02: the source has no rows for this day; nothing stored\n"
    )


def stored_rows(home: Path) -> int:
    from sqlalchemy import create_engine, func, select

    from advanced_mlops.store.tables import features

    engine = create_engine(f"sqlite:///{home / 'store.db'}")
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(features)).scalar_one()
    engine.dispose()
    return int(count)
