from pathlib import Path

import pytest

from advanced_mlops.errors import MlopsError
from advanced_mlops.settings import Settings, load_settings, masked_url

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_defaults_live_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_DB_URL", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(home=tmp_path)
    assert settings.store_url == f"sqlite:///{tmp_path / 'store.db'}"
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"


def test_environment_selects_mariadb_and_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_DB_URL", "mysql+pymysql://u:p@db:3306/mlops")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    settings = load_settings()
    assert settings.store_url.startswith("mysql+pymysql://")
    assert settings.tracking_uri == "http://mlflow:5000"


def test_passwords_are_masked() -> None:
    assert masked_url("mysql+pymysql://u:s3cret@db/mlops") == "mysql+pymysql://u:***@db/mlops"


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_DIRT_RATE", "0.9")
    with pytest.raises(MlopsError, match="MLOPS_DIRT_RATE: Input should be less than or equal"):
        load_settings()


def test_every_setting_is_documented_in_env_example() -> None:
    documented = (ROOT / ".env.example").read_text()
    for name, field in Settings.model_fields.items():
        assert (field.alias or f"MLOPS_{name.upper()}") in documented
