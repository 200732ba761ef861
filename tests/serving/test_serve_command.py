"""`mlops serve` refuses to start without a champion, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from advanced_mlops.store.engine import upgrade
from tests.integration.cli import env_for, run


def test_serve_without_a_champion_refuses_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = env_for(tmp_path, f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(env["MLOPS_DB_URL"])
    outcome = run(monkeypatch, capsys, env, "serve", "--port", "3999")
    assert outcome.code == 2
    assert outcome.err.strip() == (
        "error: no champion: model 'credit_score_classifier' has no version with alias "
        "'champion' (train, gate and promote one first)"
    )
