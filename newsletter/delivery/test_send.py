"""Test sends: one digest or notice to any address, exactly as a reader would get it but
with ``[TEST]`` in front of its subject.

A test is never a delivery: it makes no delivery row, so it is never counted in the
figures, retried or swept. Its reader links belong to no reader (subscriber 0).
"""

from __future__ import annotations

from dataclasses import replace
from email.utils import make_msgid

from newsletter.addresses import normalize_email
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.dkim_sign import signer_for
from newsletter.delivery.notices import build_notice
from newsletter.delivery.template import DigestEnvelope, compile_template
from newsletter.delivery.transports import make_transport
from newsletter.errors import InputError
from newsletter.models import Digest, utcnow
from newsletter.render.email import RenderedEmail, render_email
from newsletter.render.links import PublicLinks
from newsletter.render.notices import Kind, NoticeContext, render_notice

PREFIX = "[TEST] "
NO_READER = 0


def _tested(rendered: RenderedEmail) -> RenderedEmail:
    return replace(rendered, subject=PREFIX + rendered.subject)


def _transmit(settings: Settings, message: bytes, address: str, name: str) -> None:
    if (signer := signer_for(settings)) is not None:
        message = signer.sign(message)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    with make_transport(settings) as transport:
        transport.send(message, settings.from_address, address, name=f"test-{name}-{stamp}")


def digest_message(settings: Settings, digest: Digest, address: str) -> bytes:
    """The digest's message for ``address``, subject marked as a test."""
    if digest.content is None:
        raise InputError(f"digest #{digest.id} has no content ({digest.status.value})")
    topic, domain = digest.topic, settings.sender_domain
    envelope = DigestEnvelope(
        from_address=settings.from_address,
        from_name=settings.from_name,
        list_id=f"{topic.name} digest <{topic.slug}.{domain}>",
        feedback_id=f"{digest.id}:{topic.slug}:{digest.language}:test",
        domain=domain,
    )
    template = compile_template(_tested(render_email(settings, digest)), envelope)
    links = PublicLinks(settings).recipient(NO_READER)
    return template.render(address, make_msgid(domain=domain), links)


def send_test_digest(db: Database, settings: Settings, digest_id: int, address: str) -> None:
    """Send digest ``digest_id`` to ``address`` as a test. InputError for a bad address or
    a digest without content; TransportError if it cannot go out."""
    address = normalize_email(address)
    with db.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None:
            raise InputError(f"no digest #{digest_id}")
        message = digest_message(settings, digest, address)
    _transmit(settings, message, address, f"digest-{digest_id}")


def send_test_notice(
    settings: Settings, kind: Kind, language: str, address: str, topic_names: list[str]
) -> None:
    """Send the ``kind`` notice in ``language`` to ``address`` as a test."""
    address = normalize_email(address)
    links = PublicLinks(settings)
    context = NoticeContext(
        language=language,
        site=settings.from_name,
        topic_names=topic_names,
        postal_address=settings.postal_address,
        links={
            "confirm": links.confirm(NO_READER),
            "preferences": links.preferences(NO_READER),
            "unsubscribe": links.unsubscribe(NO_READER),
            "resubscribe": links.unsubscribe(NO_READER),
        },
        confirm_days=settings.confirm_max_age_days,
    )
    rendered = _tested(render_notice(kind, context))
    _transmit(settings, build_notice(settings, rendered, address), address, str(kind))
