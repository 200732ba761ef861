"""Every bad input: one clear line naming the problem, a non-zero exit, no traceback, and the
stores exactly as they were."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from advanced_mlops.data.generator import Generator
from advanced_mlops.data.ingest import ingest_days
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from tests.integration.cli import Outcome, bound, env_for

START = date(2025, 1, 1)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A store holding three ingested days, and an empty MLflow registry."""
    home = tmp_path_factory.mktemp("bad-input")
    env = env_for(home, f"sqlite:///{home / 'store.db'}")
    upgrade(env["MLOPS_DB_URL"])
    days = [START + timedelta(days=i) for i in range(3)]
    ingest_days(env["MLOPS_DB_URL"], Generator(customers=900), days, 7, lambda _: "stable", "t")
    return env


@pytest.fixture
def mlops(
    prepared: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[object]:
    """Runs a command and checks that it changed nothing in the store."""
    with connect(prepared["MLOPS_DB_URL"]) as conn:
        before = repository.table_counts(conn)

    yield bound(monkeypatch, capsys, prepared)
    with connect(prepared["MLOPS_DB_URL"]) as conn:
        assert repository.table_counts(conn) == before


def refused(outcome: Outcome, message: str) -> None:
    assert outcome.code != 0
    assert message in outcome.err
    assert "Traceback" not in outcome.err + outcome.out
    assert len(outcome.err.strip().splitlines()) == 1, outcome.err


def test_unknown_scenario(mlops) -> None:
    outcome = mlops("ingest", "--date", "2025-01-04", "--scenario", "sunny")
    refused(outcome, "--scenario: unknown scenario 'sunny' (choose from stable, covariate_drift")


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "yesterday", "2025/01/04", ""])
def test_malformed_or_impossible_date(mlops, value: str) -> None:
    refused(mlops("ingest", "--date", value), f"--date: {value!r} is not a valid date (YYYY-MM-DD)")


def test_bad_day_count(mlops) -> None:
    refused(mlops("ingest", "--date", "2025-01-04", "--days", "0"), "--days: must be at least 1")


def test_a_day_with_no_rows(mlops, tmp_path: Path) -> None:
    csv = tmp_path / "one_day.csv"
    Generator(customers=900).batch(START).to_csv(csv, index=False)
    outcome = mlops("ingest", "--date", "2025-01-02", "--csv", str(csv))
    refused(outcome, "--date 2025-01-02: the source has no rows for this day; nothing stored")


def test_a_missing_csv(mlops, tmp_path: Path) -> None:
    refused(mlops("ingest", "--date", "2025-01-02", "--csv", str(tmp_path / "nope.csv")),
            "--csv: file not found")  # fmt: skip


def test_a_contract_breaking_day_refuses_the_whole_run(mlops) -> None:
    outcome = mlops(
        "ingest", "--date", "2025-01-04", "--days", "3",
        "--scenario", "schema_break", "--scenario-start", "2025-01-05",
    )  # fmt: skip
    refused(outcome, "batch of 2025-01-05 breaks its contract, nothing stored")
    assert "expect_table_columns_to_match_set" in outcome.err
    assert "annual_income" in outcome.err


def test_an_unreachable_database_and_no_password_shown(mlops) -> None:
    url = "mysql+pymysql://root:s3cret@127.0.0.1:1/mlops"
    outcome = mlops("ingest", "--date", "2025-01-04", MLOPS_DB_URL=url)
    refused(outcome, "cannot reach the database at mysql+pymysql://root:***@127.0.0.1:1/mlops")
    assert "s3cret" not in outcome.err


def test_a_store_without_schema(mlops, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    refused(mlops("ingest", "--date", "2025-01-04", MLOPS_DB_URL=url), "run `mlops db upgrade`")


def test_invalid_settings(mlops) -> None:
    refused(mlops("ingest", "--date", "2025-01-04", MLOPS_CUSTOMERS="many"), "MLOPS_CUSTOMERS")


def test_training_on_a_date_with_no_data(mlops) -> None:
    refused(mlops("train", "--base-date", "2024-06-01"), "no labelled rows known by then")


@pytest.mark.parametrize("command", ["gate", "promote"])
def test_a_version_that_does_not_exist(mlops, command: str) -> None:
    refused(mlops(command, "--version", "99"), "model 'credit_score_classifier' has no version 99")
    refused(mlops(command, "--version", "v1"), "--version: 'v1' is not a version number")


def test_rollback_without_history(mlops) -> None:
    refused(mlops("rollback"), "nothing to roll back to")


def test_the_installed_command_prints_help_and_errors_cleanly(tmp_path: Path) -> None:
    mlops_bin = Path(sys.executable).with_name("mlops")
    help_text = subprocess.run(
        [mlops_bin, "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("ingest", "train", "gate", "promote", "rollback", "demo", "contracts", "db"):
        assert command in help_text
    result = subprocess.run(
        [mlops_bin, "ingest", "--date", "2025-02-30"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --date: '2025-02-30' is not a valid date (YYYY-MM-DD)"
