"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 03:01:09.701125
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("ssn", sa.String(length=16), nullable=True),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customers")),
    )
    op.create_table(
        "features",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("age", sa.Double(), nullable=True),
        sa.Column("annual_income", sa.Double(), nullable=True),
        sa.Column("monthly_inhand_salary", sa.Double(), nullable=True),
        sa.Column("num_bank_accounts", sa.Double(), nullable=True),
        sa.Column("num_credit_card", sa.Double(), nullable=True),
        sa.Column("interest_rate", sa.Double(), nullable=True),
        sa.Column("num_of_loan", sa.Double(), nullable=True),
        sa.Column("delay_from_due_date", sa.Double(), nullable=True),
        sa.Column("num_of_delayed_payment", sa.Double(), nullable=True),
        sa.Column("changed_credit_limit", sa.Double(), nullable=True),
        sa.Column("num_credit_inquiries", sa.Double(), nullable=True),
        sa.Column("outstanding_debt", sa.Double(), nullable=True),
        sa.Column("credit_utilization_ratio", sa.Double(), nullable=True),
        sa.Column("credit_history_age", sa.Double(), nullable=True),
        sa.Column("total_emi_per_month", sa.Double(), nullable=True),
        sa.Column("amount_invested_monthly", sa.Double(), nullable=True),
        sa.Column("monthly_balance", sa.Double(), nullable=True),
        sa.Column("occupation", sa.String(length=64), nullable=True),
        sa.Column("credit_mix", sa.String(length=64), nullable=True),
        sa.Column("payment_of_min_amount", sa.String(length=64), nullable=True),
        sa.Column("payment_behaviour", sa.String(length=64), nullable=True),
        sa.Column("type_of_loan", sa.String(length=512), nullable=True),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_features")),
        sa.UniqueConstraint("customer_id", "date", name=op.f("uq_features_customer_id_date")),
    )
    with op.batch_alter_table("features", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_features_date"), ["date"], unique=False)

    op.create_table(
        "ingestions",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=256), nullable=False),
        sa.Column("scenario", sa.String(length=32), nullable=False),
        sa.Column("feature_rows", sa.Integer(), nullable=False),
        sa.Column("label_rows", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_ingestions")),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("label_date", sa.Date(), nullable=False),
        sa.Column("credit_score", sa.String(length=16), nullable=False),
        sa.Column("available_at", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint(
            "customer_id", "label_date", name=op.f("uq_labels_customer_id_label_date")
        ),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_available_at"), ["available_at"], unique=False)

    op.create_table(
        "prediction_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("prediction", sa.String(length=16), nullable=False),
        sa.Column("prob_poor", sa.Double(), nullable=False),
        sa.Column("prob_standard", sa.Double(), nullable=False),
        sa.Column("prob_good", sa.Double(), nullable=False),
        sa.Column("model_version", sa.String(length=16), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_log")),
        sa.UniqueConstraint("request_id", name=op.f("uq_prediction_log_request_id")),
    )
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prediction_log_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_prediction_log_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "promotion_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("from_version", sa.String(length=16), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_history")),
    )
    with op.batch_alter_table("promotion_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotion_history_at"), ["at"], unique=False)

    op.create_table(
        "training_snapshots",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("base_date", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("label_date", sa.Date(), nullable=False),
        sa.Column("feature_date", sa.Date(), nullable=False),
        sa.Column("age", sa.Double(), nullable=True),
        sa.Column("annual_income", sa.Double(), nullable=True),
        sa.Column("monthly_inhand_salary", sa.Double(), nullable=True),
        sa.Column("num_bank_accounts", sa.Double(), nullable=True),
        sa.Column("num_credit_card", sa.Double(), nullable=True),
        sa.Column("interest_rate", sa.Double(), nullable=True),
        sa.Column("num_of_loan", sa.Double(), nullable=True),
        sa.Column("delay_from_due_date", sa.Double(), nullable=True),
        sa.Column("num_of_delayed_payment", sa.Double(), nullable=True),
        sa.Column("changed_credit_limit", sa.Double(), nullable=True),
        sa.Column("num_credit_inquiries", sa.Double(), nullable=True),
        sa.Column("outstanding_debt", sa.Double(), nullable=True),
        sa.Column("credit_utilization_ratio", sa.Double(), nullable=True),
        sa.Column("credit_history_age", sa.Double(), nullable=True),
        sa.Column("total_emi_per_month", sa.Double(), nullable=True),
        sa.Column("amount_invested_monthly", sa.Double(), nullable=True),
        sa.Column("monthly_balance", sa.Double(), nullable=True),
        sa.Column("occupation", sa.String(length=64), nullable=True),
        sa.Column("credit_mix", sa.String(length=64), nullable=True),
        sa.Column("payment_of_min_amount", sa.String(length=64), nullable=True),
        sa.Column("payment_behaviour", sa.String(length=64), nullable=True),
        sa.Column("type_of_loan", sa.String(length=512), nullable=True),
        sa.Column("credit_score", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_snapshots")),
    )
    with op.batch_alter_table("training_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_training_snapshots_base_date_label_date"),
            ["base_date", "label_date"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("training_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_snapshots_base_date_label_date"))

    op.drop_table("training_snapshots")
    with op.batch_alter_table("promotion_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotion_history_at"))

    op.drop_table("promotion_history")
    with op.batch_alter_table("prediction_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_log_customer_id"))
        batch_op.drop_index(batch_op.f("ix_prediction_log_created_at"))

    op.drop_table("prediction_log")
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_available_at"))

    op.drop_table("labels")
    op.drop_table("ingestions")
    with op.batch_alter_table("features", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_features_date"))

    op.drop_table("features")
    op.drop_table("customers")
