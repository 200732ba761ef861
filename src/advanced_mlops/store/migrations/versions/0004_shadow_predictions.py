"""the challenger's shadow prediction with the prediction log

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("shadow_prob_poor", "shadow_prob_standard", "shadow_prob_good")


def upgrade() -> None:
    with op.batch_alter_table("prediction_log") as table:
        table.add_column(sa.Column("shadow_version", sa.String(16), nullable=True))
        table.add_column(sa.Column("shadow_prediction", sa.String(16), nullable=True))
        for name in COLUMNS:
            table.add_column(sa.Column(name, sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("prediction_log") as table:
        for name in (*COLUMNS, "shadow_prediction", "shadow_version"):
            table.drop_column(name)
