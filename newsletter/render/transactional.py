"""The one-off emails around a subscription: confirm, welcome, goodbye.

Same pipeline as the digest (Jinja2 fills an MJML template from emails/, then
``compile_mjml``), with a plain-text alternative written from the same wording.
Rendered per recipient: these are rare, so there is nothing to share between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from newsletter.delivery.message import RenderedEmail
from newsletter.i18n import email_labels, labels
from newsletter.render.html import EMAILS_DIR, compile_mjml
from newsletter.render.text import wrap


class Kind(StrEnum):
    CONFIRM = "confirm"
    WELCOME = "welcome"
    GOODBYE = "goodbye"


@dataclass(frozen=True)
class TransactionalContext:
    language: str
    site: str
    topic_names: list[str]
    postal_address: str
    links: dict[str, str]
    confirm_days: int = 7


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(EMAILS_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _wording(language: str) -> dict[str, str]:
    return {**labels(language), **email_labels(language)}


def _text(kind: Kind, w: dict[str, str], context: TransactionalContext, topics: str) -> str:
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
    elif kind is Kind.WELCOME:
        body = [
            *wrap(w["welcome_body"].format(topics=topics)),
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
                context.postal_address,
            ]
        )
        + "\n"
    )


def render_transactional(kind: Kind, context: TransactionalContext) -> RenderedEmail:
    """Subject, HTML and text of one confirm, welcome or goodbye email."""
    w = _wording(context.language)
    topics = w["topics_join"].join(context.topic_names)
    subject = w[f"{kind}_subject"].format(site=context.site)
    mjml_source = (
        _environment()
        .get_template(f"{kind}.mjml")
        .render(
            language=context.language,
            subject=subject,
            heading=w[f"{kind}_heading"],
            site=context.site,
            w=w,
            topics=topics,
            days=context.confirm_days,
            links=context.links,
            postal_address=context.postal_address,
        )
    )
    return RenderedEmail(
        subject=subject, html=compile_mjml(mjml_source), text=_text(kind, w, context, topics)
    )
