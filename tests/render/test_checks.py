"""The checks before a send: Gmail's clipping size, subject length, links that answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.render import checks
from tests.loopback import free_port
from tests.web.admin.linkserver import news_site, requests_seen


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with news_site(tmp_path) as (base, certificate):
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        yield base


def test_size_and_subject_against_their_limits() -> None:
    small = checks.check_email("CLAUDE Daily Digest - 2026-01-12", "<p>hi</p>", "https://x.org")
    assert small.size_ok and small.subject_ok and small.ok and small.links == []
    clipped = checks.check_email("s" * 61, "<p>" + "日" * 35_000 + "</p>", "https://x.org")
    assert clipped.html_bytes > checks.GMAIL_CLIP_BYTES and not clipped.size_ok
    assert clipped.subject_length == 61 and not clipped.subject_ok and not clipped.ok


def test_links_answer_or_say_why_not(site: str) -> None:
    dead = f"https://127.0.0.1:{free_port()}/nothing"
    html = "".join(
        f'<a href="{url}">x</a>'
        for url in (
            f"{site}/story/1",
            f"{site}/gone/2",
            f"{site}/nohead/3",
            dead,
            "https://news.example.org/unsubscribe/abc",  # our own: not asked
            "mailto:someone@example.org",
            f"{site}/story/1",  # twice: asked once
        )
    )
    result = checks.check_email("Subject", html, "https://news.example.org", private_hosts=True)
    answers = {link.url: (link.ok, link.problem) for link in result.links}
    assert answers == {
        f"{site}/story/1": (True, ""),
        f"{site}/gone/2": (False, "HTTP 404"),
        f"{site}/nohead/3": (True, ""),
        dead: (False, "ConnectError"),
    }
    assert not result.links_ok


def test_an_answer_is_remembered_for_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with news_site(tmp_path) as (base, certificate):
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        assert checks.check_links([f"{base}/story/9"], private_hosts=True)[0].ok
    # the site is gone, the answer is not: the review page does not ask again at once
    assert checks.check_links([f"{base}/story/9"], private_hosts=True)[0].ok


def test_links_to_addresses_that_are_not_public_are_never_asked(site: str) -> None:
    requests_before = requests_seen()
    for url in (
        f"{site}/story/77",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:6379/",
        "http://10.0.0.8/admin",
    ):
        (check,) = checks.check_links([url])
        assert not check.ok and "not a public address" in check.problem, url
    assert requests_seen() == requests_before
    assert checks.is_public("93.184.215.14") and not checks.is_public("192.168.1.1")
