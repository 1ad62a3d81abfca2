"""The public archive of past digests: a list per topic and language, each digest as a
web page, and an Atom feed. Rendered from the stored DigestContent.

A ready digest never changes, so its page, and the list of a topic's digests, are
rendered once and kept in a small per-process cache for PAGE_TTL seconds (less than
the max-age we let proxies keep them): a new digest shows in the list within a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsletter.digest.schema import DigestContent
from newsletter.i18n import SUPPORTED_LANGUAGES, labels
from newsletter.models import Digest, DigestInfographic, DigestStatus, Topic
from newsletter.render.links import archive_feed_url, archive_index_url, archive_url
from newsletter.render.markdown import markdown_to_html, render_digest_markdown
from newsletter.services import current
from newsletter.web.language import page_language, use_language

bp = Blueprint("archive", __name__, url_prefix="/archive")

FEED_ENTRIES = 30
PAGE_CACHE_SIZE = 256
PAGE_TTL = 60.0
CACHE = "public, max-age=300"
# A ready digest's picture never changes; a day, then revalidated by its ETag.
IMAGE_CACHE = "public, max-age=86400"


@bp.app_template_filter("atom_time")
def atom_time(moment: datetime) -> str:
    """RFC 3339, as Atom wants (stored times are UTC-aware: ``db.UTCDateTime``)."""
    return moment.isoformat(timespec="seconds")


def edition_time(digest: Digest, topic: Topic) -> datetime:
    """When a digest is the news of: its date at the topic's send time, in the topic's
    zone (a feed's ``<updated>``; rebuilding a digest later does not move it)."""
    return datetime.combine(digest.date, topic.send_time, ZoneInfo(topic.timezone)).astimezone(UTC)


def _topic(session: Session, slug: str) -> Topic:
    topic = session.scalar(select(Topic).where(Topic.slug == slug))
    if topic is None:
        abort(404)
    return topic


def _language() -> str:
    requested = request.args.get("lang", "")
    if requested in SUPPORTED_LANGUAGES:
        use_language(requested)
        return requested
    return page_language()


def _ready(session: Session, topic: Topic, language: str, limit: int | None = None) -> list[Digest]:
    query = (
        select(Digest)
        .where(
            Digest.topic_id == topic.id,
            Digest.language == language,
            Digest.status == DigestStatus.READY,
        )
        .order_by(Digest.date.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def _cached(body: str, mimetype: str = "text/html") -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = CACHE
    response.vary.add("Accept-Language")  # without ?lang= the language comes from it
    return response


@bp.get("/<slug>/")
def index(slug: str) -> Response:
    language = _language()
    return _cached_page((slug, "", language), lambda: _render_index(slug, language))


def _render_index(slug: str, language: str) -> str:
    with current().db.session() as session:
        topic = _topic(session, slug)
        digests = [
            (digest.date, DigestContent.model_validate(digest.content))
            for digest in _ready(session, topic, language)
        ]
        return render_template(
            "archive_index.html",
            topic=topic,
            digests=digests,
            languages=[code for code in topic.languages if code != language],
        )


def _page_cache() -> dict[tuple[str, str, str], tuple[float, str]]:
    return current_app.extensions.setdefault("newsletter_archive_pages", {})


def _render_digest(slug: str, day: str, language: str) -> str | None:
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return None
    with current().db.session() as session:
        topic = _topic(session, slug)
        digest = session.scalar(
            select(Digest).where(
                Digest.topic_id == topic.id,
                Digest.date == when,
                Digest.language == language,
                Digest.status == DigestStatus.READY,
            )
        )
        if digest is None or digest.content is None:
            return None
        content = DigestContent.model_validate(digest.content)
        picture = session.get(DigestInfographic, digest.id)
        image_alt = picture.alt if picture is not None else None
    image_path = url_for(".infographic", slug=slug, day=day, lang=language)
    return render_template(
        "archive_digest.html",
        d=content,
        w=labels(content.language),
        body=markdown_to_html(render_digest_markdown(content)),
        index_url=url_for(".index", slug=slug, lang=language),
        image_path=image_path,
        image_url=current().settings.base_url + image_path,
        image_alt=image_alt,
    )


@bp.get("/<slug>/<day>")
def digest_page(slug: str, day: str) -> Response:
    language = _language()
    return _cached_page((slug, day, language), lambda: _render_digest(slug, day, language))


@bp.get("/<slug>/<day>/infographic.png")
def infographic(slug: str, day: str) -> Response:
    """The digest's stored infographic (rendered at build time, never here), with an ETag
    of its bytes: a browser or proxy revalidates with a 304."""
    language = _language()
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    with current().db.session() as session:
        topic = _topic(session, slug)
        picture = session.scalar(
            select(DigestInfographic)
            .join(Digest, Digest.id == DigestInfographic.digest_id)
            .where(
                Digest.topic_id == topic.id,
                Digest.date == when,
                Digest.language == language,
                Digest.status == DigestStatus.READY,
            )
        )
        if picture is None:
            abort(404)
        response = Response(picture.png, mimetype="image/png")
        response.set_etag(picture.sha256)
    response.headers["Cache-Control"] = IMAGE_CACHE
    response.vary.add("Accept-Language")
    return response.make_conditional(request)


def _cached_page(key: tuple[str, str, str], render: Callable[[], str | None]) -> Response:
    """The page from this process's cache while fresh, else rendered (None: a 404).
    Keyed by topic, day and language, never the query string."""
    cache, now = _page_cache(), time.monotonic()
    cached = cache.get(key)
    if cached is not None and cached[0] > now:
        return _cached(cached[1])
    body = render()
    if body is None:
        abort(404)
    if len(cache) >= PAGE_CACHE_SIZE:
        cache.clear()
    cache[key] = (now + PAGE_TTL, body)
    return _cached(body)


@bp.get("/<slug>/feed.xml")
def feed(slug: str) -> Response:
    language = _language()
    with current().db.session() as session:
        topic = _topic(session, slug)
        entries = [
            (digest, DigestContent.model_validate(digest.content))
            for digest in _ready(session, topic, language, FEED_ENTRIES)
        ]
        base = current().settings.base_url
        body = render_template(
            "feed.xml",
            topic=topic,
            entries=[
                (archive_url(base, slug, d.date, language), d, c, edition_time(d, topic))
                for d, c in entries
            ],
            index_url=archive_index_url(base, slug, language),
            feed_url=archive_feed_url(base, slug, language),
            feed_language=language,
        )
    return _cached(body, "application/atom+xml")
