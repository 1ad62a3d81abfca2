"""Delivery fixtures: a real SMTP server on loopback (aiosmtpd), real Redis (a database
of the run's own), and topics with built digests
and many confirmed readers, made through the real pipeline."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from sqlalchemy import insert, select

from newsletter.catalog import add_source, add_topic
from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.demo import SAMPLE_DATE, SAMPLE_FEEDS
from newsletter.models import Digest, Subscriber, SubscriberStatus, Subscription, utcnow
from newsletter.services import Services
from newsletter.sources.sample_transport import sample_url
from tests.loopback import flush_redis, free_port, redis_test_url

REDIS_URL = redis_test_url()

Reply = Callable[[str], str | None]


@dataclass
class SmtpSink:
    """An aiosmtpd handler that keeps every accepted message; replies can be scripted.

    ``on_mail``, ``on_rcpt`` and ``on_data`` may return a reply (e.g. "451 4.7.1 later")
    to refuse the sender, a recipient or the message (given the first recipient).
    ``pipelining`` offers PIPELINING (RFC 2920), as Postfix does: aiosmtpd reads commands
    in order from its stream, so it handles pipelined ones, but does not say so itself.
    ``drop(phase, address)`` returning True closes the connection instead of replying, at
    ``"mail"``, ``"rcpt"`` or ``"data"`` (after the final dot; the message is kept, as a
    relay that committed it before its reply was lost would).
    """

    on_mail: Reply | None = None
    on_rcpt: Reply | None = None
    on_data: Reply | None = None
    drop: Callable[[str, str], bool] | None = None
    pipelining: bool = True
    received: list[tuple[str, bytes]] = field(default_factory=list)
    senders: dict[str, list[str]] = field(default_factory=dict)  # recipient -> MAIL FROMs
    refused: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    def _dropped(self, server, phase: str, address: str) -> bool:
        if self.drop is None or not self.drop(phase, address):
            return False
        server.transport.abort()
        return True

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self._dropped(server, "mail", address):
            return "421 dropped"
        reply = self.on_mail(address) if self.on_mail else None
        if reply is not None:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._dropped(server, "rcpt", address):
            return "421 dropped"
        reply = self.on_rcpt(address) if self.on_rcpt else None
        if reply is not None:
            with self.lock:
                self.refused[address] += 1
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.on_data(envelope.rcpt_tos[0]) if self.on_data else None
        if reply is not None:
            return reply
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received.append((address, envelope.original_content))
                self.senders.setdefault(address, []).append(envelope.mail_from)
        if self._dropped(server, "data", envelope.rcpt_tos[0]):
            return "250 2.0.0 accepted, never heard"
        return "250 2.0.0 accepted"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(address for address, _ in self.received)

    def messages(self) -> list[EmailMessage]:
        """The headers of every message received (bodies are not parsed: fast)."""
        with self.lock:
            raw = [content for _, content in self.received]
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(data, headersonly=True) for data in raw]  # type: ignore[misc]


@dataclass
class SmtpServer:
    sink: SmtpSink
    port: int
    controller: Controller

    def restart(self) -> None:
        """Stop and start again on the same port: open client connections are dropped."""
        self.controller.stop()
        self.controller = _controller(self.sink, self.port)
        self.controller.start()


def _controller(sink: SmtpSink, port: int) -> Controller:
    return Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=5)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    sink, port = SmtpSink(), free_port()
    server = SmtpServer(sink, port, _controller(sink, port))
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def smtp_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return replace(
        settings,
        transport="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_timeout=10.0,
    )


@pytest.fixture
def redis() -> Iterator[Redis]:
    connection = Redis.from_url(REDIS_URL)
    flush_redis(connection)
    yield connection
    flush_redis(connection)
    connection.close()


def make_topic(db: Database, slug: str, languages: list[str]) -> int:
    """A topic on the bundled sample feeds, fetched; its id."""
    with db.session() as session:
        topic = add_topic(
            session,
            slug,
            slug.capitalize(),
            keywords=["Claude", "Anthropic"],
            languages=languages,
            send_time="03:00",
        )
        for name, filename in SAMPLE_FEEDS:
            add_source(session, topic, "rss", name, sample_url(filename))
        topic_id = topic.id
    steps.fetch(Services(Settings(), db), slug)  # the default fetch policy
    return topic_id


def build_digests(db: Database, settings: Settings, slug: str) -> dict[str, int]:
    """The topic's digests for the sample day, built for all its languages: language -> id."""
    with db.session() as session:
        from newsletter.catalog import topic_by_slug

        languages = topic_by_slug(session, slug).languages
    outcomes = steps.build(Services(settings, db), slug, SAMPLE_DATE, languages)
    return {o.digest.language: o.digest.id for o in outcomes}


def add_readers(
    db: Database,
    count: int,
    topic_ids_for: Callable[[int], list[int]],
    language_for: Callable[[int], str],
) -> dict[str, tuple[str, list[int]]]:
    """``count`` confirmed readers inserted in bulk: address -> (language, topic ids)."""
    readers = {
        f"reader{n:05d}@example.com": (language_for(n), topic_ids_for(n)) for n in range(count)
    }
    now = utcnow()
    with db.session() as session:
        session.execute(
            insert(Subscriber),
            [
                {
                    "email": address,
                    "language": language,
                    "status": SubscriberStatus.CONFIRMED,
                    "confirmed_at": now,
                }
                for address, (language, _) in readers.items()
            ],
        )
        ids = {e: i for e, i in session.execute(select(Subscriber.email, Subscriber.id))}
        rows = [
            {"subscriber_id": ids[address], "topic_id": topic_id}
            for address, (_, topic_ids) in readers.items()
            for topic_id in topic_ids
        ]
        if rows:
            session.execute(insert(Subscription), rows)
    return readers


def digest_id(db: Database, topic_id: int, language: str) -> int:
    with db.session() as session:
        return session.scalars(
            select(Digest.id).where(Digest.topic_id == topic_id, Digest.language == language)
        ).one()
