"""A password in a URL is never printed or logged: by any command, on success or on failure,
whether or not the URL can be parsed (an unparseable one is hidden whole)."""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

import pytest

from advanced_mlops.settings import HIDDEN_URL, masked_url
from tests.integration.cli import run

PASSWORD = "Sup3rS3cretPw"
URLS = {
    "well-formed, unreachable": f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:1/store",
    "no colon after the scheme": f"mysql+pymysql//root:{PASSWORD}@127.0.0.1/store",
    "bad port": f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:port/store",
    "unknown driver": f"nosuchdb://root:{PASSWORD}@127.0.0.1/store",
    "password only": f"postgresql://:{PASSWORD}@127.0.0.1:1/airflow",
}
COMMANDS = [
    ["db", "upgrade"],
    ["ingest", "--date", "2025-01-01"],
    ["train", "--base-date", "2025-01-30"],
    ["serve", "--port", "1"],
    ["traffic", "--date", "2025-01-01"],
    ["monitor", "--date", "2025-01-01"],
    ["airflow", "env"],
]


@pytest.mark.parametrize("url", list(URLS.values()), ids=list(URLS))
def test_masked_url_never_returns_the_password(url: str) -> None:
    assert PASSWORD not in masked_url(url)


def test_an_unparseable_url_is_hidden_but_a_plain_path_is_shown() -> None:
    assert masked_url(URLS["no colon after the scheme"]) == HIDDEN_URL
    assert masked_url("/srv/mlruns") == "/srv/mlruns"
    assert masked_url("mysql+pymysql://root:pw@db/x") == "mysql+pymysql://root:***@db/x"


@pytest.mark.parametrize("url", list(URLS.values()), ids=list(URLS))
def test_no_command_prints_or_logs_the_password(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {
        "MLOPS_HOME": str(tmp_path),
        "MLOPS_DB_URL": url,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "MLOPS_AIRFLOW_METADATA_URL": url,
    }
    caplog.set_level(logging.DEBUG)
    for argv in COMMANDS:
        outcome = run(monkeypatch, capsys, env, *argv)
        assert outcome.code != 0 or argv[0] == "airflow", (argv, outcome)
        shown = outcome.out + outcome.err + caplog.text
        assert PASSWORD not in shown, (argv, shown)
        caplog.clear()


def test_airflow_env_prints_secrets_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"MLOPS_HOME": str(tmp_path), "MLOPS_DB_URL": URLS["well-formed, unreachable"]}
    masked = run(monkeypatch, capsys, env, "airflow", "env")
    assert PASSWORD not in masked.out
    assert "--show-secrets" in masked.out
    shown = run(monkeypatch, capsys, env, "airflow", "env", "--show-secrets")
    url = URLS["well-formed, unreachable"]
    assert f"export AIRFLOW_CONN_MLOPS_STORE={shlex.quote(url)}\n" in shown.out
