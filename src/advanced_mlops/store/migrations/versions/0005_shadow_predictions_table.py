"""the challenger's shadow predictions in a table of their own (bulk inserts, not row updates)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# shadow_predictions column -> the prediction_log column 0004 added
MOVED = {
    "version": "shadow_version",
    "prediction": "shadow_prediction",
    "prob_poor": "shadow_prob_poor",
    "prob_standard": "shadow_prob_standard",
    "prob_good": "shadow_prob_good",
}


def upgrade() -> None:
    op.create_table(
        "shadow_predictions",
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("prediction", sa.String(16), nullable=False),
        sa.Column("prob_poor", sa.Double(), nullable=False),
        sa.Column("prob_standard", sa.Double(), nullable=False),
        sa.Column("prob_good", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_shadow_predictions")),
    )
    op.execute(
        f"INSERT INTO shadow_predictions (request_id, {', '.join(MOVED)}) "
        f"SELECT request_id, {', '.join(MOVED.values())} FROM prediction_log "
        "WHERE shadow_version IS NOT NULL"
    )
    with op.batch_alter_table("prediction_log") as table:
        for name in MOVED.values():
            table.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("prediction_log") as table:
        table.add_column(sa.Column("shadow_version", sa.String(16), nullable=True))
        table.add_column(sa.Column("shadow_prediction", sa.String(16), nullable=True))
        for name in ("shadow_prob_poor", "shadow_prob_standard", "shadow_prob_good"):
            table.add_column(sa.Column(name, sa.Double(), nullable=True))
    assignments = ", ".join(
        f"{old} = (SELECT s.{new} FROM shadow_predictions s "
        "WHERE s.request_id = prediction_log.request_id)"
        for new, old in MOVED.items()
    )
    op.execute(
        f"UPDATE prediction_log SET {assignments} WHERE request_id IN "
        "(SELECT request_id FROM shadow_predictions)"
    )
    op.drop_table("shadow_predictions")
