"""runs of the daily chain, consent notes of imported readers, permanent delivery failures

Revision ID: 5e1f0c7a9b21
Revises: 5e1f0c2a9d43
Create Date: 2026-11-30 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0c7a9b21"
down_revision: str | None = "5e1f0c2a9d43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_slug", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "ok",
                "empty",
                "skipped",
                "failed",
                name="runoutcome",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_runs_topic_slug_created_at", ["topic_slug", "created_at"], unique=False
        )

    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_note", sa.String(length=500), nullable=True))

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("permanent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # rows that failed before the flag existed: an SMTP 5xx reply was permanent
    op.execute(
        "UPDATE deliveries SET permanent = true WHERE state = 'failed' AND last_error LIKE '5%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("permanent")
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("consent_note")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_topic_slug_created_at")
        batch_op.drop_index(batch_op.f("ix_runs_created_at"))
    op.drop_table("runs")
