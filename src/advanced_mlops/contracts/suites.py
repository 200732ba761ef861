"""Finding and reading the suite files. Plain JSON, so a reviewer can read a contract change."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from advanced_mlops.errors import MlopsError


class SuiteName(StrEnum):
    RAW_BATCH = "raw_batch"
    TRAINING_SNAPSHOT = "training_snapshot"
    PREDICTION_LOG = "prediction_log"
    LABELS = "labels"


def contracts_dir() -> Path:
    """`MLOPS_CONTRACTS_DIR`, else the checkout's `data_contracts/`, else the packaged copy."""
    if env := os.environ.get("MLOPS_CONTRACTS_DIR"):
        return Path(env)
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "data_contracts", here.parents[1] / "data_contracts"):
        if candidate.is_dir():
            return candidate
    raise MlopsError("data contracts not found: set MLOPS_CONTRACTS_DIR")


def load_suite(name: SuiteName, directory: Path | None = None) -> dict[str, Any]:
    path = (directory or contracts_dir()) / f"{name.value}.json"
    try:
        suite: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise MlopsError(f"data contract {name.value}: file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise MlopsError(f"data contract {path}: invalid JSON: {exc}") from None
    return suite
