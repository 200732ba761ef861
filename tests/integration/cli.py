"""Running `mlops` in-process with its own environment, the way a shell would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from advanced_mlops.cli import main, render

FAST_ENV = {
    "MLOPS_CUSTOMERS": "900",
    "MLOPS_MAX_ITERATIONS": "120",
    "MLOPS_EARLY_STOPPING_ROUNDS": "20",
    "MLOPS_GATE_MIN_MACRO_F1": "0.4",
    "MLOPS_GATE_MIN_CLASS_RECALL": "0.2",
    # The latency budget has its own tests: on a loaded machine (2 shared cores), a single-record
    # p95 above 50 ms would refuse a model for reasons the test is not about.
    "MLOPS_GATE_MAX_LATENCY_MS": "2000",
}


class Outcome(NamedTuple):
    """What a run gave: `code, out, err = outcome` unpacks it."""

    code: int
    out: str
    err: str


def env_for(home: Path, db_url: str) -> dict[str, str]:
    return {
        **FAST_ENV,
        "MLOPS_HOME": str(home),
        "MLOPS_DB_URL": db_url,
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
    }


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str],
    *argv: str,
) -> Outcome:  # fmt: skip
    """`mlops ARGV` with `env`; returns the exit code and what it printed."""
    capsys.readouterr()
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        # Wide consoles, whatever COLUMNS was when rich first built them (xdist workers set it).
        for console in (render.console, render.errors):
            patch.setattr(console, "_width", 200)
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def bound(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> Callable[..., Outcome]:
    """`mlops(*argv, **extra_env)` for one test: `run` with its fixtures and environment."""

    def mlops(*argv: str, **extra: str) -> Outcome:
        return run(monkeypatch, capsys, {**env, **extra}, *argv)

    return mlops
