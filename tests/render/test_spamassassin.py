"""Every demo email scored by SpamAssassin (Debian's, local rules only: no network, no
DNS): no rule that points at our own markup or headers may fire.

What may fire is listed with the reason it is not about our markup. Anything else (a
hidden preheader in white text, an HTML part unlike the text part, a remote image, a
link whose text is another URL, a bad date, a missing header...) fails the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from newsletter.config import Settings
from newsletter.daily import steps
from newsletter.db import Database
from newsletter.delivery.notices import build_notice
from newsletter.demo import SAMPLE_DATE, seed_demo
from newsletter.render.notices import Kind, NoticeContext, render_notice
from newsletter.services import Services
from tests.support import send_day

SPAMASSASSIN = shutil.which("spamassassin")
ALLOWED = {
    "NO_RECEIVED": "a test message has not been through a mail server",
    "NO_RELAYS": "the same",
    "HTML_MESSAGE": "informational (score 0.001): the email has an HTML part",
    "MAILING_LIST_MULTI": "negative score: List-Id, List-Unsubscribe and Precedence say list",
    "SUBJ_ALL_CAPS": (
        "the zh-TW title's only Latin word is the topic in capitals, as the writer gives it "
        "(Chinese has no lower case); the subject is the digest's content, not markup"
    ),
}

pytestmark = pytest.mark.skipif(SPAMASSASSIN is None, reason="spamassassin is not installed")


def fired_rules(message: bytes) -> set[str]:
    """The rules SpamAssassin's local tests fire on ``message`` (``-L``: no network)."""
    result = subprocess.run(
        [SPAMASSASSIN or "spamassassin", "-L"],
        input=message,
        capture_output=True,
        check=True,
        timeout=120,
    )
    status = message_from_bytes(result.stdout, policy=default)["X-Spam-Status"]
    match = re.search(r"tests=(\S*)", " ".join(str(status).split()))
    assert match, status
    return {rule for rule in match.group(1).split(",") if rule and rule != "none"}


@pytest.fixture
def demo_emails(db: Database, settings: Settings) -> dict[str, bytes]:
    """The demo's digests as sent (outbox transport), and every notice in each language."""
    with db.session() as session:
        seed_demo(session, settings.suppression_key)
    steps.fetch(Services(settings, db), "claude")
    steps.build(Services(settings, db), "claude", SAMPLE_DATE, ["en", "zh-TW"])
    send_day(Services(settings, db), "claude", SAMPLE_DATE)
    emails = {path.name: path.read_bytes() for path in Path(settings.outbox_dir or "").iterdir()}
    languages_sent = {name.split("-", 4)[-1].rsplit("-", 1)[0] for name in emails}
    assert languages_sent == {"en", "zh-TW"}, emails.keys()
    base = settings.base_url
    for kind in Kind:
        for language in ("en", "zh-TW"):
            context = NoticeContext(
                language=language,
                site=settings.from_name,
                topic_names=["Claude"],
                postal_address=settings.postal_address,
                links={
                    "confirm": f"{base}/confirm/" + "c" * 90,
                    "preferences": f"{base}/preferences/" + "p" * 90,
                    "unsubscribe": f"{base}/unsubscribe/" + "u" * 90,
                    "resubscribe": f"{base}/unsubscribe/" + "u" * 90,
                    "privacy": f"{base}/privacy",
                },
            )
            rendered = render_notice(kind, context)
            emails[f"{kind}-{language}"] = build_notice(settings, rendered, "reader@example.com")
    return emails


def test_no_rule_about_our_markup_fires_on_any_demo_email(demo_emails: dict[str, bytes]) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        fired = dict(zip(demo_emails, pool.map(fired_rules, demo_emails.values()), strict=True))
    unexpected = {name: sorted(rules - ALLOWED.keys()) for name, rules in fired.items()}
    assert {name: rules for name, rules in unexpected.items() if rules} == {}
