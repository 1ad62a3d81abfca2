"""subscriber paused and confirmation sent at

Revision ID: 0c4c0d64e6fb
Revises: d472ea015b5e
Create Date: 2026-11-28 06:41:36.198655
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0c4c0d64e6fb"
down_revision: str | None = "d472ea015b5e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("confirmation_sent_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_column("confirmation_sent_at")
        batch_op.drop_column("paused")
