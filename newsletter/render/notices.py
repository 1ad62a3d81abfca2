"""The one-off emails around a subscription: confirm, already subscribed, welcome, goodbye,
fresh links.

Same pipeline as the digest (Jinja2 fills an MJML template from emails/, then
``compile_mjml``), with a plain-text alternative written from the same wording.
The MJML work is done once per (kind, language, topics) with placeholder links, and
each recipient gets a one-pass substitution, as for the digest: a signup costs a
replace, not a compile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from html import escape

from newsletter.i18n import email_labels, labels
from newsletter.render.email import RenderedEmail
from newsletter.render.html import compile_mjml, email_templates
from newsletter.render.placeholders import fill_once
from newsletter.render.text import wrap

LINK_PLACEHOLDERS = {
    name: f"[[{name.upper()}_URL]]"
    for name in ("confirm", "preferences", "unsubscribe", "resubscribe", "privacy")
}


class Kind(StrEnum):
    CONFIRM = "confirm"
    WELCOME = "welcome"
    ALREADY = "already"
    GOODBYE = "goodbye"
    LINKS = "links"  # fresh preferences and unsubscribe links, asked for on the site


@dataclass(frozen=True)
class NoticeContext:
    language: str
    site: str
    topic_names: list[str]
    postal_address: str
    links: dict[str, str]
    confirm_days: int = 7


def _wording(language: str) -> dict[str, str]:
    return {**labels(language), **email_labels(language)}


def _text(kind: Kind, w: dict[str, str], context: NoticeContext, topics: str) -> str:
    links = context.links
    if kind is Kind.CONFIRM:
        body = [
            *wrap(w["confirm_body"].format(topics=topics)),
            "",
            f"{w['confirm_button']}:",
            links["confirm"],
            "",
            *wrap(w["confirm_expiry"].format(days=context.confirm_days)),
        ]
    elif kind in (Kind.WELCOME, Kind.ALREADY, Kind.LINKS):
        body = [
            *wrap(w[f"{kind}_body"].format(topics=topics)),
            "",
            *wrap(w["welcome_manage"]),
            links["preferences"],
            "",
            f"{w['unsubscribe']}:",
            links["unsubscribe"],
        ]
    else:
        body = [
            *wrap(w["goodbye_body"]),
            "",
            *wrap(w["goodbye_resubscribe"]),
            links["resubscribe"],
        ]
    return (
        "\n".join(
            [
                context.site,
                "",
                w[f"{kind}_heading"],
                "",
                *body,
                "",
                "--",
                "",
                f"{w['privacy']}: {links['privacy']}",
                context.postal_address,
            ]
        )
        + "\n"
    )


@lru_cache(maxsize=256)
def _render_shell(
    kind: Kind,
    language: str,
    site: str,
    topic_names: tuple[str, ...],
    postal_address: str,
    confirm_days: int,
) -> RenderedEmail:
    """The email with placeholders where the recipient's links go."""
    context = NoticeContext(
        language, site, list(topic_names), postal_address, LINK_PLACEHOLDERS, confirm_days
    )
    w = _wording(language)
    topics = w["list_join"].join(topic_names)
    subject = w[f"{kind}_subject"].format(site=site)
    mjml_source = (
        email_templates()
        .get_template(f"{kind}.mjml")
        .render(
            language=language,
            subject=subject,
            heading=w[f"{kind}_heading"],
            site=site,
            w=w,
            topics=topics,
            days=confirm_days,
            links=LINK_PLACEHOLDERS,
            postal_address=postal_address,
        )
    )
    return RenderedEmail(
        subject=subject, html=compile_mjml(mjml_source), text=_text(kind, w, context, topics)
    )


def render_notice(kind: Kind, context: NoticeContext) -> RenderedEmail:
    """Subject, HTML and text of one notice (see ``Kind``)."""
    shell = _render_shell(
        kind,
        context.language,
        context.site,
        tuple(context.topic_names),
        context.postal_address,
        context.confirm_days,
    )
    links = {LINK_PLACEHOLDERS[name]: url for name, url in context.links.items()}
    html = fill_once(shell.html, {key: escape(url) for key, url in links.items()})
    return RenderedEmail(shell.subject, html, fill_once(shell.text, links))
