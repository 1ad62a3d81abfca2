"""reader link keys, ids never reused, keyed suppression hashes

Every subscriber gets a random ``link_key`` that their tokens name (a link dies with
its reader); rows already there are marked ``legacy_links``, so that the one-click
unsubscribe of emails sent before (tokens naming only an id) keeps working for them,
and for no row stored later. On SQLite, ``subscribers`` and ``digests`` are rebuilt
with AUTOINCREMENT so that a freed id is never handed out again (Postgres sequences
never reuse one).
Suppression rows held ``sha256(address)``, which a list of addresses reverses; each is
wrapped as ``HMAC(key, sha256(address))`` with the key derived from
NEWSLETTER_SECRET_KEY, which is what ``models.email_hash`` computes from now on. The
old value cannot be turned back into an address, so wrapping it is the only way to
re-key rows whose address was deleted; it needs the secret, which
``newsletter db upgrade`` passes in.

Revision ID: 5d1f0a7c3e21
Revises: 5e1f0b2c7a91
Create Date: 2026-11-30 07:40:00.000000
"""

import hashlib
import hmac
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from newsletter.keys import derive_key

revision: str = "5d1f0a7c3e21"
down_revision: str | None = "5e1f0b2c7a91"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

subscribers = sa.table(
    "subscribers", sa.column("id", sa.Integer), sa.column("link_key"), sa.column("legacy_links")
)
suppressions = sa.table("suppressions", sa.column("id", sa.Integer), sa.column("email_hash"))
# bounce events count soft bounces by the same hash
bounce_events = sa.table("bounce_events", sa.column("id", sa.Integer), sa.column("email_hash"))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _autoincrement() -> dict[str, object]:
    """Batch options that rebuild a SQLite table with AUTOINCREMENT (nothing elsewhere)."""
    if not _sqlite():
        return {}
    return {"recreate": "always", "table_kwargs": {"sqlite_autoincrement": True}}


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("subscribers", sa.Column("link_key", sa.String(length=32), nullable=True))
    op.add_column(
        "subscribers",
        sa.Column("legacy_links", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    for (subscriber_id,) in bind.execute(sa.select(subscribers.c.id)).all():
        bind.execute(
            subscribers.update()
            .where(subscribers.c.id == subscriber_id)
            .values(link_key=secrets.token_urlsafe(12), legacy_links=True)
        )
    # on SQLite one rebuild both makes the column NOT NULL and adds AUTOINCREMENT
    with op.batch_alter_table("subscribers", **_autoincrement()) as batch_op:
        batch_op.alter_column("link_key", existing_type=sa.String(length=32), nullable=False)
    if _sqlite():
        with op.batch_alter_table("digests", **_autoincrement()):
            pass
    for table in (suppressions, bounce_events):
        _wrap_hashes(bind, table)


def _wrap_hashes(bind: sa.Connection, table: sa.TableClause) -> None:
    rows = bind.execute(sa.select(table.c.id, table.c.email_hash)).all()
    if not rows:
        return
    secret = context.config.attributes.get("secret_key")
    if not secret:
        raise RuntimeError(
            "the suppression list must be re-keyed with NEWSLETTER_SECRET_KEY: "
            "run `newsletter db upgrade` with the production settings"
        )
    key = derive_key(secret, "suppression")
    for row_id, old in rows:
        new = hmac.new(key, old.encode("ascii"), hashlib.sha256).hexdigest()
        wrapped = table.update().where(table.c.id == row_id)
        bind.execute(wrapped.values(email_hash=new))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.select(sa.func.count()).select_from(suppressions)).scalar():
        raise RuntimeError("keyed suppression hashes cannot be turned back into plain SHA-256")
    with op.batch_alter_table("subscribers") as batch_op:
        batch_op.drop_column("legacy_links")
        batch_op.drop_column("link_key")
