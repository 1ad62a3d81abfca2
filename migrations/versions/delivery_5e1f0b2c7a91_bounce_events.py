"""bounce events (mailbox DSN/ARF and SES notifications)

Revision ID: 5e1f0b2c7a91
Revises: 5e1f0c7a9b21
Create Date: 2026-11-30 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0b2c7a91"
down_revision: str | None = "5e1f0c7a9b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bounce_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=250), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "hard",
                "soft",
                "complaint",
                name="bouncekind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_events")),
        sa.UniqueConstraint("source", name=op.f("uq_bounce_events_source")),
    )
    op.create_index(
        "ix_bounce_events_email_hash_kind", "bounce_events", ["email_hash", "kind"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_bounce_events_email_hash_kind", table_name="bounce_events")
    op.drop_table("bounce_events")
