"""operator console: admins, review before send, delivery tallies

Revision ID: 5e1c0a7d9b21
Revises: 5d1f0a7c3e21
Create Date: 2026-11-30 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1c0a7d9b21"
down_revision: str | None = "5d1f0a7c3e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("ready", "failed")
NEW_STATUSES = (*OLD_STATUSES, "awaiting_review", "rejected", "expired")


def _status_check(statuses: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{status}'" for status in statuses) + ")"


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admins")),
        sa.UniqueConstraint("email", name=op.f("uq_admins_email")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "review",
                sa.Enum(
                    "off",
                    "required",
                    name="reviewmode",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                server_default="off",
                nullable=False,
            )
        )
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reviewed_by", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("delivery_tally", sa.JSON(), nullable=True))
        batch_op.drop_constraint(op.f("ck_digests_digeststatus"), type_="check")
        batch_op.create_check_constraint("digeststatus", _status_check(NEW_STATUSES))
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.create_index("ix_subscribers_confirmed_at", ["confirmed_at"], unique=False)
        batch_op.create_index("ix_subscribers_unsubscribed_at", ["unsubscribed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.drop_index("ix_subscribers_unsubscribed_at")
        batch_op.drop_index("ix_subscribers_confirmed_at")
    op.execute("UPDATE digests SET status = 'failed' WHERE status NOT IN ('ready', 'failed')")
    with op.batch_alter_table("digests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_digests_digeststatus"), type_="check")
        batch_op.create_check_constraint("digeststatus", _status_check(OLD_STATUSES))
        batch_op.drop_column("delivery_tally")
        batch_op.drop_column("review_note")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_topics_reviewmode"), type_="check")
        batch_op.drop_column("review")
    op.drop_table("admins")
