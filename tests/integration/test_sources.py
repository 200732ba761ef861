"""A CSV export feeds the same pipeline as the simulator; a failing check exits 1."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from advanced_mlops.data.generator import Generator
from advanced_mlops.store import repository
from advanced_mlops.store.engine import connect, upgrade
from tests.integration.cli import env_for, run


def test_ingest_from_csv_writes_features_now_and_labels_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generator = Generator(customers=900)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(9)]
    export = pd.concat([generator.batch(d) for d in days])
    csv = tmp_path / "export.csv"
    export.to_csv(csv, index=False)
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(env["MLOPS_DB_URL"])

    outcome = run(monkeypatch, capsys, env, "ingest", "--date", "2025-01-01", "--days", "9",
                  "--csv", str(csv))  # fmt: skip
    assert outcome.code == 0, outcome.err
    with connect(env["MLOPS_DB_URL"]) as conn:
        counts = repository.table_counts(conn)
        stored = repository.read_labels(conn, date(2025, 1, 1), date(2025, 1, 9))
        sources = repository.ingested_days(conn)
    assert counts["features"] == len(export)
    # Labels of 1-2 January arrive 7 days later, on 8-9 January; the rest are still pending.
    assert set(stored["label_date"]) == {date(2025, 1, 1), date(2025, 1, 2)}
    assert set(stored["available_at"]) == {date(2025, 1, 8), date(2025, 1, 9)}
    assert set(sources["scenario"]) == {"csv"}
    assert sources["source"].str.startswith("csv:").all()


def test_contracts_check_exits_1_and_names_what_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    outcome = run(monkeypatch, capsys, env, "contracts", "check", "--date", "2025-01-01",
                  "--suite", "raw_batch", "--scenario", "schema_break")  # fmt: skip
    assert outcome.code == 1
    assert "contract raw_batch" in outcome.out
    assert "FAILED" in outcome.out
    assert "expect_table_columns_to_match_set" in outcome.out
    assert "CreditMix" in outcome.out
