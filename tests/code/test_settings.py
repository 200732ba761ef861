import re
from pathlib import Path

import pytest

from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import (
    GROUPS,
    Settings,
    StoreSettings,
    load_settings,
    masked_url,
    variable_names,
)

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def test_embedded_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_DB_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(store=StoreSettings(home=tmp_path))
    assert settings.store.url == f"sqlite:///{tmp_path / 'store.db'}"
    assert settings.store.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_environment_selects_mariadb_and_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_DB_URL", "mysql+pymysql://u:p@db:3306/mlops")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    settings = load_settings()
    assert settings.store.url.startswith("mysql+pymysql://")
    assert settings.store.tracking_uri == "http://mlflow:5000"


def test_passwords_are_masked() -> None:
    assert masked_url("mysql+pymysql://u:s3cret@db/mlops") == "mysql+pymysql://u:***@db/mlops"


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_DIRT_RATE", "0.9")
    with pytest.raises(MlopsError, match="MLOPS_DIRT_RATE: Input should be less than or equal"):
        load_settings()


def test_env_example_documents_exactly_the_settings() -> None:
    """Every variable a group reads is in .env.example, and every MLOPS_ variable there is read
    by a group (a renamed or removed setting cannot linger in the example)."""
    documented = set(re.findall(r"^#? ?(MLOPS_[A-Z0-9_]+|MLFLOW_TRACKING_URI)=", ENV_EXAMPLE, re.M))
    read = {name for group in GROUPS.values() for name in variable_names(group)}
    # Read by name where pydantic is not worth importing: the DAG files' parse-time defaults and
    # the contracts folder. Each must still be read where this says.
    by_name = {
        "orchestration/defaults.py": {"MLOPS_DAGS_START", "MLOPS_DAGS_END", "MLOPS_ALERT_WEBHOOK"},
        "contracts/suites.py": {"MLOPS_CONTRACTS_DIR"},
    }
    for module, names in by_name.items():
        source = (ROOT / "src/advanced_mlops" / module).read_text()
        assert all(f'"{name}"' in source for name in names), module
        read |= names
    assert read - documented == set(), "settings missing from .env.example"
    assert documented - read == set(), ".env.example names variables no setting reads"


def test_each_group_reads_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_GATE_MIN_MACRO_F1", "0.61")
    monkeypatch.setenv("MLOPS_MONITOR_MIN_ROWS", "77")
    monkeypatch.setenv("MLOPS_SERVE_WORKERS", "3")
    monkeypatch.setenv("MLOPS_SEED", "7")
    settings = load_settings()
    assert settings.gate.min_macro_f1 == 0.61
    assert settings.monitoring.min_rows == 77
    assert settings.serving.serve_workers == 3
    assert settings.data.seed == settings.training.seed == 7
