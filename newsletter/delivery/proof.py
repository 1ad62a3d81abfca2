"""Test sends: a digest or a notice to any address, as readers get it but marked as a test.

No delivery row and no subscription, so a test is never counted, retried or swept: the
address gets the message once, through the configured transport, with ``[TEST]`` before
the subject and preview links (``.../unsubscribe/preview``) that belong to no reader. A
digest awaiting review can be tested too: that is what reviewing needs.
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
from newsletter.digest.subject import MAX_CHARS
from newsletter.errors import InputError
from newsletter.models import Digest, utcnow
from newsletter.render.email import RenderedEmail, render_email
from newsletter.render.notices import Kind, NoticeContext, render_notice
from newsletter.render.preview import preview_links

TEST_PREFIX = "[TEST] "


def send_test(db: Database, settings: Settings, digest_id: int, address: str) -> str:
    """Send the digest to ``address``; returns its subject. ``InputError`` for an unknown
    or failed digest or a bad address; ``TransportError`` if it cannot go out."""
    recipient = normalize_email(address)
    with db.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None or digest.content is None:  # a failed build has no content
            raise InputError(f"no digest #{digest_id} with content (see `newsletter digests list`)")
        rendered = render_email(settings, digest)
        topic = digest.topic
        envelope = DigestEnvelope(
            from_address=settings.from_address,
            from_name=settings.from_name,
            list_id=f"{topic.name} digest <{topic.slug}.{settings.sender_domain}>",
            feedback_id=f"{digest.id}:{topic.slug}:{digest.language}:test",
            domain=settings.sender_domain,
        )
    rendered = _tested(rendered)
    template = compile_template(rendered, envelope)
    message = template.render(
        recipient, make_msgid(domain=settings.sender_domain), preview_links(settings)
    )
    _transmit(settings, message, recipient, f"digest-{digest_id}")
    return rendered.subject


def send_test_notice(
    settings: Settings, kind: Kind, language: str, address: str, topic_names: list[str]
) -> None:
    """Send the ``kind`` notice in ``language`` to ``address`` as a test."""
    recipient = normalize_email(address)
    links = preview_links(settings)
    context = NoticeContext(
        language=language,
        site=settings.from_name,
        topic_names=topic_names,
        postal_address=settings.postal_address,
        links={
            "confirm": f"{settings.base_url}/confirm/preview",
            "preferences": links.preferences,
            "unsubscribe": links.unsubscribe,
            "resubscribe": links.unsubscribe,
        },
        confirm_days=settings.confirm_max_age_days,
    )
    rendered = _tested(render_notice(kind, context))
    _transmit(settings, build_notice(settings, rendered, recipient), recipient, str(kind))


def _tested(rendered: RenderedEmail) -> RenderedEmail:
    subject = TEST_PREFIX + rendered.subject
    if len(subject) > MAX_CHARS:  # one header line, as the real subject: no fold
        subject = subject[: MAX_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return replace(rendered, subject=subject)


def _transmit(settings: Settings, message: bytes, address: str, name: str) -> None:
    if (signer := signer_for(settings)) is not None:
        message = signer.sign(message)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    with make_transport(settings) as transport:
        transport.send(message, settings.from_address, address, name=f"test-{name}-{stamp}")
