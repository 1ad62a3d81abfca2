"""A test send: one ready digest to one address, as readers get it but marked as a test.

No delivery row and no subscription: the address gets the message once per command,
through the configured transport, with ``[TEST]`` before the subject and preview
links (``.../unsubscribe/preview``) that unsubscribe nobody.
"""

from __future__ import annotations

from dataclasses import replace
from email.utils import make_msgid

from newsletter.addresses import normalize_email
from newsletter.config import Settings
from newsletter.db import Database
from newsletter.delivery.dkim_sign import signer_for
from newsletter.delivery.template import DigestEnvelope, compile_template
from newsletter.delivery.transports import make_transport
from newsletter.digest.subject import MAX_CHARS
from newsletter.errors import InputError
from newsletter.models import Digest, DigestStatus, utcnow
from newsletter.render.email import render_email
from newsletter.render.preview import preview_links

TEST_PREFIX = "[TEST] "


def send_test(db: Database, settings: Settings, digest_id: int, address: str) -> str:
    """Send the digest to ``address``; returns its subject. ``InputError`` for an unknown
    or failed digest or a bad address; ``TransportError`` if it cannot go out."""
    recipient = normalize_email(address)
    with db.session() as session:
        digest = session.get(Digest, digest_id)
        if digest is None or digest.status != DigestStatus.READY or digest.content is None:
            raise InputError(f"no ready digest #{digest_id} (see `newsletter digests list`)")
        rendered = render_email(settings, digest)
        topic = digest.topic
        envelope = DigestEnvelope(
            from_address=settings.from_address,
            from_name=settings.from_name,
            list_id=f"{topic.name} digest <{topic.slug}.{settings.sender_domain}>",
            feedback_id=f"{digest.id}:{topic.slug}:{digest.language}:test",
            domain=settings.sender_domain,
        )
    subject = TEST_PREFIX + rendered.subject
    if len(subject) > MAX_CHARS:  # one header line, as the real subject: no fold
        subject = subject[: MAX_CHARS - 3].rsplit(" ", 1)[0] + "..."
    rendered = replace(rendered, subject=subject)
    template = compile_template(rendered, envelope)
    message = template.render(
        recipient, make_msgid(domain=settings.sender_domain), preview_links(settings)
    )
    if (signer := signer_for(settings)) is not None:
        message = signer.sign(message)
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
    with make_transport(settings) as transport:
        transport.send(message, settings.from_address, recipient, name=f"test-{digest_id}-{stamp}")
    return rendered.subject
