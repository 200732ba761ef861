"""Table definitions. Alembic migrations in `migrations/` create and upgrade them."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql

from advanced_mlops import schema

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

CUSTOMER_ID = String(32)
CATEGORY = String(64)
PRECISE_TIME = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def feature_columns() -> list[Column[object]]:
    """The 22 model features, fresh Column objects for each table that holds them."""
    return [
        *(Column(name, Double, nullable=True) for name in schema.NUMERIC_FEATURES),
        *(Column(name, CATEGORY, nullable=True) for name in schema.CATEGORICAL_FEATURES),
        *(Column(name, String(512), nullable=True) for name in schema.TEXT_FEATURES),
    ]


customers = Table(
    "customers",
    metadata,
    Column("customer_id", CUSTOMER_ID, primary_key=True),
    Column("name", String(128)),
    Column("ssn", String(16)),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
)

features = Table(
    "features",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", CUSTOMER_ID, nullable=False),
    Column("date", Date, nullable=False, index=True),
    *feature_columns(),
    Column("ingested_at", DateTime, nullable=False),
    UniqueConstraint("customer_id", "date"),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", CUSTOMER_ID, nullable=False),
    Column("label_date", Date, nullable=False),
    Column(schema.LABEL, String(16), nullable=False),
    Column("available_at", Date, nullable=False, index=True),
    UniqueConstraint("customer_id", "label_date"),
)

ingestions = Table(
    "ingestions",
    metadata,
    Column("date", Date, primary_key=True),
    Column("source", String(256), nullable=False),
    Column("scenario", String(32), nullable=False),
    Column("feature_rows", Integer, nullable=False),
    Column("label_rows", Integer, nullable=False),
    Column("ingested_at", DateTime, nullable=False),
)

training_snapshots = Table(
    "training_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("base_date", Date, nullable=False),
    Column("customer_id", CUSTOMER_ID, nullable=False),
    Column("label_date", Date, nullable=False),
    Column("feature_date", Date, nullable=False),
    *feature_columns(),
    Column(schema.LABEL, String(16), nullable=False),
    Index(None, "base_date", "label_date"),
)

prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(36), nullable=False, unique=True),
    Column("customer_id", CUSTOMER_ID, nullable=False, index=True),
    Column("features", JSON, nullable=False),
    Column("prediction", String(16), nullable=False),
    Column("prob_poor", Double, nullable=False),
    Column("prob_standard", Double, nullable=False),
    Column("prob_good", Double, nullable=False),
    Column("model_version", String(16), nullable=False),
    Column("latency_ms", Double, nullable=False),
    Column("created_at", PRECISE_TIME, nullable=False, index=True),
    Column("reasons", JSON(none_as_null=True), nullable=True),  # when the request asked for them
)

# The challenger's answer to a logged request, scored in shadow after the champion's answer left.
# A table of its own, keyed by the log row's request id, rather than columns of the log row: its
# rows arrive after their log row, and bulk inserts of them cost a fraction of per-row UPDATEs of
# the (wide) log rows (bench/README.md).
shadow_predictions = Table(
    "shadow_predictions",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("version", String(16), nullable=False),
    Column("prediction", String(16), nullable=False),
    Column("prob_poor", Double, nullable=False),
    Column("prob_standard", Double, nullable=False),
    Column("prob_good", Double, nullable=False),
)

promotion_history = Table(
    "promotion_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("event", String(16), nullable=False),
    Column("model_name", String(128), nullable=False),
    Column("version", String(16), nullable=False),
    Column("from_version", String(16)),
    Column("passed", Boolean),
    Column("forced", Boolean, nullable=False, default=False),
    Column("reason", Text, nullable=False),
    Column("details", JSON),
)

monitoring_metrics = Table(
    "monitoring_metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("metric", String(32), nullable=False),
    Column("subject", String(64), nullable=False),  # a feature, a class, or "" for the day
    Column("value", Double, nullable=False),
    Column("threshold", Double),
    Column("flagged", Boolean),
    Column("model_version", String(16)),
    Column("computed_at", DateTime, nullable=False),
    UniqueConstraint("day", "metric", "subject"),
)

monitoring_decisions = Table(
    "monitoring_decisions",
    metadata,
    Column("day", Date, primary_key=True),
    Column("status", String(24), nullable=False),
    Column("retrain", Boolean, nullable=False),
    Column("model_version", String(16)),
    Column("reasons", JSON, nullable=False),
    Column("details", JSON),
    Column("report_path", String(512)),
    Column("mlflow_run_id", String(64)),
    Column("decided_at", DateTime, nullable=False),
)
