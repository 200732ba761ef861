"""Configuration, read once from the environment and `.env`, grouped by concern.

Every knob of the system lives here so that the CLI, the DAGs, the service and the tests agree on
one source of truth. Each group is a pydantic-settings model with its own variable prefix, and
each part of the system receives only its group: the gate gets `GateSettings`, monitoring gets
`MonitoringSettings`, and so on, with no code copying fields from one object into another.
Secrets stay inside URLs and are only ever shown masked (see `masked_url`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url


def _group(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix, env_file=".env", extra="ignore", populate_by_name=True
    )


class StoreSettings(BaseSettings):
    """Where things are kept: the feature/log store, MLflow, and the local folder."""

    model_config = _group("MLOPS_")

    home: Path = Field(Path(".mlops"), description="Folder for embedded stores and artifacts.")
    db_url: str | None = Field(None, description="Feature/log store URL; default SQLite in home.")
    mlflow_tracking_uri: str | None = Field(
        None, alias="MLFLOW_TRACKING_URI", description="MLflow store; default SQLite in home."
    )
    experiment_name: str = "credit_score"
    model_name: str = "credit_score_classifier"

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Self:
        if self.db_url is None:
            self.db_url = f"sqlite:///{(self.home / 'store.db').resolve()}"
        if self.mlflow_tracking_uri is None:
            self.mlflow_tracking_uri = f"sqlite:///{(self.home / 'mlflow.db').resolve()}"
        return self

    @property
    def url(self) -> str:
        """The feature/log store's URL."""
        assert self.db_url is not None  # filled by the validator
        return self.db_url

    @property
    def tracking_uri(self) -> str:
        assert self.mlflow_tracking_uri is not None  # filled by the validator
        return self.mlflow_tracking_uri

    @property
    def artifacts_dir(self) -> Path:
        return (self.home / "artifacts").resolve()

    @property
    def journal_dir(self) -> Path:
        """The prediction log's write-ahead journal (one folder per service worker)."""
        return (self.home / "journal").resolve()

    @property
    def monitoring_dir(self) -> Path:
        return (self.home / "monitoring").resolve()


class DataSettings(BaseSettings):
    """The simulated source and the arrival of labels."""

    model_config = _group("MLOPS_")

    seed: int = 42
    customers: int = Field(3000, ge=30, description="Size of the simulated customer population.")
    dirt_rate: float = Field(0.05, ge=0.0, le=0.5, description="Share of cells made dirty.")
    label_delay_days: int = Field(7, ge=0, le=90, description="Days until a label arrives.")
    scenario: str = Field("stable", description="Simulator scenario for scheduled ingestion.")
    scenario_start: date | None = Field(None, description="First day of that scenario.")
    source_csv: Path | None = Field(None, description="Scheduled ingestion reads this CSV.")


class TrainingSettings(BaseSettings):
    """The time split and the fit. Every field shapes the model (see `training_key`)."""

    model_config = _group("MLOPS_")

    seed: int = Field(42, description="The same MLOPS_SEED as the simulator's: seeds the fit.")
    train_window_days: int = Field(120, ge=7, description="Labels older than this are ignored.")
    valid_days: int = Field(7, ge=1, description="Window before the holdout, for early stopping.")
    holdout_days: int = Field(14, ge=1, description="Newest window, never trained on.")
    max_iterations: int = Field(600, ge=10)
    early_stopping_rounds: int = Field(40, ge=5)
    threads: int = Field(2, ge=1)
    recency_half_life_days: float = Field(
        30.0, ge=0.0, description="Training weight halves every N days back; 0 weighs all alike."
    )

    # The search `mlops train` runs: every depth with every L2 regularisation (`mlops demo`
    # searches one L2 value, to tell its story in under two minutes)
    search_depths: list[int] = Field([4, 6], min_length=1, description="CatBoost depths tried.")
    search_l2_leaf_regs: list[float] = Field(
        [3.0, 10.0], min_length=1, description="CatBoost L2 leaf regularisations tried."
    )


class GateSettings(BaseSettings):
    """The validation gate's rules (`MLOPS_GATE_*`)."""

    model_config = _group("MLOPS_GATE_")

    min_macro_f1: float = Field(0.55, ge=0.0, le=1.0)
    min_class_recall: float = Field(0.40, ge=0.0, le=1.0)
    max_latency_ms: float = Field(50.0, gt=0.0)
    # Against the champion: a paired bootstrap of the macro-F1 difference on the same holdout
    # rows (registry/comparison.py); bench/gate_bench.py measures the error rates of these values.
    margin: float = Field(
        0.025,
        ge=0.0,
        le=1.0,
        description="Non-inferiority margin: how much worse than the champion's macro-F1 the "
        "challenger may be, at most, beyond noise.",
    )
    confidence: float = Field(
        0.80,
        gt=0.5,
        lt=1.0,
        description="One-sided confidence of the lower bound on the difference (the challenger "
        "passes when that bound is >= -margin).",
    )
    bootstrap_resamples: int = Field(2000, ge=100, description="Paired bootstrap resamples.")
    bootstrap_seed: int = Field(0, description="Seeds the bootstrap: the same verdict each time.")
    training_policy: Literal["promote", "shadow"] = Field(
        "promote",
        alias="MLOPS_TRAINING_POLICY",
        description="What the training DAG does with a model that passed the gate: promote it, "
        "or put it in shadow first (also one refused only on the comparison with the champion).",
    )


class ServingSettings(BaseSettings):
    """The prediction service and its log."""

    model_config = _group("MLOPS_")

    serve_workers: int = Field(2, ge=1, description="Service worker processes.")
    max_batch_records: int = Field(100, ge=1, le=10_000, description="Records per /predict_batch.")
    swap_poll_seconds: float = Field(5.0, gt=0, description="How often the alias is checked.")
    log_mode: Literal["durable", "memory", "sync"] = Field(
        "durable",
        description="durable: answer once the log row is fsync'd in the journal; memory: answer "
        "before (a crash loses answered predictions); sync: write the database in the request.",
    )
    access_log: bool = Field(False, description="BentoML's per-request access log lines.")
    log_batch_size: int = Field(500, ge=1, description="Rows per journal segment / DB insert.")
    log_flush_seconds: float = Field(
        1.0, gt=0, description="Longest a journalled row waits before it goes to the database."
    )
    log_retry_seconds: float = Field(1.0, gt=0, description="Pause between database retries.")
    log_unready_after_seconds: float = Field(
        30.0, gt=0, description="/readyz fails once the log database has failed this long."
    )
    journal_max_bytes: int = Field(
        256 * 1024 * 1024, ge=4096, description="Journal bytes not yet in the database, per "
        "worker, past which predictions get 503."
    )  # fmt: skip
    journal_max_records: int = Field(
        200_000, ge=1, description="Journal rows not yet in the database, per worker, past "
        "which predictions get 503."
    )  # fmt: skip
    explain_shap: Literal["exact", "approximate"] = Field(
        "exact",
        description="CatBoost's SHAP values for reason codes: exact, or its approximate ones "
        "(also adding up to the raw score, ~10x cheaper; see bench/README.md).",
    )


class MonitoringSettings(BaseSettings):
    """`mlops monitor` and the retraining rule (`MLOPS_MONITOR_*`)."""

    model_config = _group("MLOPS_MONITOR_")

    experiment_name: str = Field(
        "credit_score_monitoring", description="MLflow experiment of the daily reports."
    )
    reference_days: int = Field(
        14, ge=1, description="The reference is the newest N label days of the training snapshot."
    )
    chunk_rows: int = Field(50_000, ge=100, description="Log rows read at a time.")
    min_rows: int = Field(50, ge=1, description="Predictions a day needs to judge drift.")
    psi_threshold: float = Field(
        0.2, gt=0, description="PSI (bias-corrected) at which a numeric or text feature drifts."
    )
    cramers_v_threshold: float = Field(
        0.2, gt=0, le=1, description="Cramér's V (bias-corrected) at which a category drifts."
    )
    drift_alpha: float = Field(
        0.01,
        gt=0,
        lt=1,
        description="A feature drifts only if the two-sample test against the reference also "
        "gives p below this.",
    )
    important_features: int = Field(
        8, ge=1, description="Drift counts on the champion's N most important features."
    )
    min_drifted_features: int = Field(2, ge=1)
    drift_days: int = Field(2, ge=1, description="Consecutive drifting days to retrain.")
    min_labelled: int = Field(
        200, ge=1, description="Labelled predictions needed to judge live performance."
    )
    performance_days: int = Field(
        3, ge=1, description="Prediction days (newest with labels) live performance is judged on."
    )
    min_macro_f1: float = Field(0.60, ge=0, le=1, description="Live macro-F1 floor.")
    shadow_min_labelled_rows: int = Field(
        300,
        ge=1,
        description="Labelled live rows both champion and challenger scored before the challenger "
        "may be promoted or retired on them.",
    )
    shadow_confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1.0,
        description="One-sided confidence of the live comparison's bounds (the gate's margin, "
        "resamples and seed): higher than the gate's, since it is looked at every day.",
    )
    shadow_max_days: int = Field(
        21, ge=1, description="Days in shadow after which an undecided challenger is retired."
    )
    cooldown_days: int = Field(7, ge=0, description="Days between two retrain triggers.")
    max_missing_increase: float = Field(
        0.2, ge=0, le=1, description="Missing share above the reference's that breaks a day."
    )
    max_out_of_range: float = Field(
        0.05, ge=0, le=1, description="Share of out-of-range or unknown values that breaks a day."
    )

    @field_validator("min_drifted_features")
    @classmethod
    def _drifted_within_important(cls, value: int, info: ValidationInfo) -> int:
        important = info.data.get("important_features")
        if important is not None and value > important:
            raise ValueError(
                f"{value} drifted features can never be found among "
                f"MLOPS_MONITOR_IMPORTANT_FEATURES={important}: set it at most to that"
            )
        return value


class AirflowSettings(BaseSettings):
    """How `mlops airflow` and the DAG tasks meet Airflow (`MLOPS_AIRFLOW_*`)."""

    model_config = _group("MLOPS_AIRFLOW_")

    conn_id: str | None = Field(
        None,
        description="Inside Airflow tasks, reach the store through this Airflow connection "
        "(AIRFLOW_CONN_<ID>) instead of MLOPS_DB_URL.",
    )
    metadata_url: str | None = Field(
        None,
        description="Airflow's own metadata for `mlops airflow` (PostgreSQL); default SQLite.",
    )
    celery_broker_url: str | None = Field(
        None,
        description="With it, `mlops airflow` runs the CeleryExecutor on this broker (e.g. "
        "redis://127.0.0.1:6379/0) and `mlops airflow worker` starts workers; needs "
        "MLOPS_AIRFLOW_METADATA_URL (results go to that database).",
    )


GROUPS: dict[str, type[BaseSettings]] = {
    "store": StoreSettings,
    "data": DataSettings,
    "training": TrainingSettings,
    "gate": GateSettings,
    "serving": ServingSettings,
    "monitoring": MonitoringSettings,
    "airflow": AirflowSettings,
}


class Settings(BaseSettings):
    """Every group; each reads its own variables. Build one with `load_settings()`."""

    model_config = SettingsConfigDict(extra="forbid")

    store: StoreSettings = Field(default_factory=StoreSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    gate: GateSettings = Field(default_factory=GateSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    airflow: AirflowSettings = Field(default_factory=AirflowSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the groups read the environment: the root is never set from it."""
        return (init_settings,)

    def with_store(self, **changes: object) -> Settings:
        """A copy with other stores (the demo's own folder, a DAG task's connection)."""
        store = StoreSettings.model_validate({**self.store.model_dump(), **changes})
        return self.model_copy(update={"store": store})


def variable_names(group: type[BaseSettings]) -> list[str]:
    """The environment variables a group reads, as people write them."""
    prefix = str(group.model_config.get("env_prefix", ""))
    return [
        field.alias if field.alias else f"{prefix}{name}".upper()
        for name, field in group.model_fields.items()
    ]


HIDDEN_URL = "<a URL that cannot be parsed, hidden: it may hold a password>"


def masked_url(url: str) -> str:
    """The URL with its password replaced by ***, safe to print or log.

    Fails closed: a URL that cannot be parsed is never returned as it is, since where its
    password sits is unknown; only a plain path (nothing that could be credentials) is."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url if _plain_path(url) else HIDDEN_URL


def _plain_path(url: str) -> bool:
    """An MLflow file store path or a `file:` URI: no user, no password."""
    return "@" not in url and ("://" not in url or url.startswith("file://"))


def load_settings() -> Settings:
    """Settings, or an MlopsError naming each bad variable (instead of a pydantic traceback)."""
    from pydantic import ValidationError

    from advanced_mlops.errors import MlopsError

    try:
        return Settings()
    except ValidationError as exc:
        raise MlopsError(f"invalid settings: {_problems(exc)}") from None


def _problems(exc: Exception) -> str:
    """Each error as `VARIABLE: message`, the variable named with its group's prefix."""
    from pydantic import ValidationError

    assert isinstance(exc, ValidationError)
    by_class = {group.__name__: group for group in GROUPS.values()}
    prefix = str(by_class.get(exc.title, Settings).model_config.get("env_prefix", "MLOPS_"))
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        name = f"{prefix}{'_'.join(loc)}".upper() if loc else exc.title
        problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)
