"""The data model. The database is the source of truth; Redis only carries signals."""

from __future__ import annotations

import enum
import hashlib
import hmac
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.db import Base, UTCDateTime
from newsletter.keys import new_link_key


def utcnow() -> datetime:
    return datetime.now(UTC)


def email_hash(address: str, key: bytes) -> str:
    """The stable key of an address in the suppression list (survives data deletion).

    HMAC-SHA256 under ``key`` (``Settings.suppression_key``, derived from the secret) of
    the address's SHA-256: without the secret, a list of addresses cannot be matched
    against the table. The inner SHA-256 is what rows written before the key existed
    held; the migration wrapped each of them in the HMAC, so old and new rows agree.
    """
    inner = hashlib.sha256(address.strip().lower().encode()).hexdigest()
    return hmac.new(key, inner.encode("ascii"), hashlib.sha256).hexdigest()


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(
        kind,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        name=kind.__name__.lower(),
        validate_strings=True,
    )


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class DigestStatus(enum.StrEnum):
    READY = "ready"
    FAILED = "failed"
    # review before send (a topic with review required): built, not sent until approved
    AWAITING_REVIEW = "awaiting_review"
    REJECTED = "rejected"  # held by an operator, with a reason
    EXPIRED = "expired"  # not approved by its send time plus the grace: never sent


class ReviewMode(enum.StrEnum):
    OFF = "off"
    REQUIRED = "required"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Topic(Timestamped, Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en", "zh-TW"])
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    send_time: Mapped[time] = mapped_column(Time, default=time(7, 0))
    review: Mapped[ReviewMode] = mapped_column(
        _enum(ReviewMode), default=ReviewMode.OFF, server_default=ReviewMode.OFF.value
    )

    sources: Mapped[list[Source]] = relationship(
        back_populates="topic", cascade="all, delete-orphan", order_by="Source.id"
    )


class Source(Timestamped, Base):
    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("topic_id", "kind", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000))
    query: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))

    topic: Mapped[Topic] = relationship(back_populates="sources")


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("topic_id", "canonical_url"),
        Index("ix_items_topic_id_published_at", "topic_id", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    canonical_url: Mapped[str] = mapped_column(String(2000))
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(500))
    outlet: Mapped[str] = mapped_column(String(200))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscriber(Timestamped, Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        # the console's growth chart reads these by day
        Index("ix_subscribers_confirmed_at", "confirmed_at"),
        Index("ix_subscribers_unsubscribed_at", "unsubscribed_at"),
        # ids are never handed out twice (SQLite reuses the highest freed rowid otherwise)
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # named by every token of this reader's links; dies with the row (see tokens.py)
    link_key: Mapped[str] = mapped_column(String(32), default=new_link_key)
    # stored before link keys: the emails it was sent may carry key-less unsubscribe links
    legacy_links: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    email: Mapped[str] = mapped_column(String(320), unique=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    status: Mapped[SubscriberStatus] = mapped_column(
        _enum(SubscriberStatus), default=SubscriberStatus.PENDING
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # how an operator who imported the address confirmed without double opt-in knows
    # the reader agreed (e.g. "signed up on paper at the 2026 meetup")
    consent_note: Mapped[str | None] = mapped_column(String(500))

    topics: Mapped[list[Topic]] = relationship(secondary="subscriptions", order_by="Topic.slug")


class Subscription(Timestamped, Base):
    __tablename__ = "subscriptions"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Digest(Timestamped, Base):
    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("topic_id", "date", "language"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[DigestStatus] = mapped_column(_enum(DigestStatus))
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    writer: Mapped[str] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(80))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_usd: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    fan_out_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)
    # the final delivery counts by state, kept once no delivery is left to send
    # (newsletter.stats), so the console never counts a finished digest's rows again
    delivery_tally: Mapped[dict[str, int] | None] = mapped_column(JSON(none_as_null=True))

    topic: Mapped[Topic] = relationship()


class DigestInfographic(Timestamped, Base):
    """A ready digest's infographic (PNG), rendered once when the digest is built.

    A table of its own, so that loading digests never loads their images.
    """

    __tablename__ = "digest_infographics"

    digest_id: Mapped[int] = mapped_column(
        ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True
    )
    png: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    alt: Mapped[str] = mapped_column(Text)


class Delivery(Timestamped, Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("digest_id", "subscriber_id"),
        Index("ix_deliveries_state_lease_expires_at", "state", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(250))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # a failed row the relay refused for good (5xx); the others gave up on temporary
    # errors and may be retried (`newsletter deliveries retry`)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Suppression(Timestamped, Base):
    """An address that must never be mailed again.

    Keyed by a hash so that it outlives the deletion of the subscriber's personal data;
    ``email`` is kept only while the person has not asked to be forgotten.
    """

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(200))


class Admin(Timestamped, Base):
    """An operator of the console (``newsletter admins add``)."""

    __tablename__ = "admins"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunOutcome(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"  # nothing to write or nobody to send to: the day sends nothing
    SKIPPED = "skipped"
    FAILED = "failed"


class Run(Base):
    """One step of a topic's daily chain and how it ended, for operators to read.

    Keyed by the topic's slug rather than its id, so the history outlives the topic.
    """

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_topic_slug_created_at", "topic_slug", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_slug: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[RunOutcome] = mapped_column(_enum(RunOutcome))
    detail: Mapped[str] = mapped_column(Text, default="")
    digest_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class BounceKind(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    COMPLAINT = "complaint"


class BounceEvent(Timestamped, Base):
    """A bounce or complaint taken in, once per notice (``source`` is unique): soft bounces
    are counted from these, and a notice read twice counts once.

    Keyed by the address's hash, like a suppression, so it holds no personal data.
    """

    __tablename__ = "bounce_events"
    __table_args__ = (Index("ix_bounce_events_email_hash_kind", "email_hash", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(250), unique=True)
    email_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[BounceKind] = mapped_column(_enum(BounceKind))
    detail: Mapped[str] = mapped_column(String(200))
