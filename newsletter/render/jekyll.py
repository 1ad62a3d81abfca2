"""Export a digest as a Jekyll post, in the example's shape.

Front matter keys and their order are the example's: layout, title, tagline, date,
model, categories, tags, image, ai_summary. As in the example, ``model`` and the first
category are the topic (the example site files posts by model family). Strings are
written as JSON strings, which are valid YAML double-quoted scalars.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from newsletter.digest.schema import DigestContent
from newsletter.errors import InputError
from newsletter.models import Digest, DigestStatus
from newsletter.render.infographic_store import ensure_infographic
from newsletter.render.markdown import render_digest_markdown


@dataclass(frozen=True)
class JekyllPost:
    filename: str
    text: str
    image: str  # where its infographic goes, from the site's root


# Jekyll runs Liquid over a post before Markdown: "{{ ... }}" and "{% ... %}" from model
# text or feed titles would execute (include files, print site variables).
_LIQUID = re.compile(r"\{[{%]")


def liquid_safe(markdown: str) -> str:
    """The body shown literally by Jekyll: inside ``{% raw %}``, where the only thing Liquid
    still reads is an ``endraw`` tag, so every ``{%`` in the text is closed off as its own
    raw block's last characters ("{%" + endraw + raw) and cannot start one."""
    if not _LIQUID.search(markdown):
        return markdown
    body = markdown.replace("{%", "{%{% endraw %}{% raw %}")
    return f"{{% raw %}}{body}{{% endraw %}}\n"


def _quoted(text: str) -> str:
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def front_matter(content: DigestContent, image: str) -> str:
    day = content.date.isoformat()
    lines = [
        "---",
        "layout: post",
        f"title: {_quoted(content.title)}",
        f"tagline: {_quoted(content.tagline)}",
        f"date: {day}",
        f"model: {content.topic}",
        f"categories: [{content.topic}, daily]",
        f"tags: [{', '.join(_quoted(tag) for tag in content.tags)}]",
        f"image: //{image}",
        f"ai_summary: {_quoted(' '.join(content.summary))}",
        "---",
    ]
    return "\n".join(lines) + "\n"


def site_root(directory: Path) -> Path:
    """The site a post written to ``directory`` belongs to: the parent of a ``_posts``
    folder (where Jekyll keeps posts), else the folder itself."""
    return directory.parent if directory.name == "_posts" else directory


def jekyll_post(content: DigestContent, primary_language: str | None = None) -> JekyllPost:
    """The post; a language other than the topic's primary one gets a suffix on the
    post's and its picture's file names, so that the posts of one day in two languages do
    not overwrite each other."""
    suffix = "" if content.language == (primary_language or content.language) else "-"
    suffix += content.language.lower() if suffix else ""
    stem = f"{content.date.isoformat()}-{content.topic}"
    image = f"assets/img/posts/{stem}-infographic{suffix}.png"
    text = front_matter(content, image) + liquid_safe(render_digest_markdown(content))
    return JekyllPost(f"{stem}-daily{suffix}.md", text, image)


def export_jekyll(session: Session, digest_id: int, directory: Path) -> Path:
    """Write the post of a ready digest into ``directory``, and its infographic where the
    front matter says (``assets/img/posts/`` of the site); returns the post's path."""
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise InputError(f"no digest #{digest_id}")
    if digest.status != DigestStatus.READY or digest.content is None:
        raise InputError(f"digest #{digest_id} failed ({digest.error}); there is nothing to export")
    content = DigestContent.model_validate(digest.content)
    post = jekyll_post(content, digest.topic.languages[0] if digest.topic.languages else None)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / post.filename
    path.write_text(post.text, encoding="utf-8")
    picture = ensure_infographic(session, digest)  # stored by the build; made once if older
    if picture is not None:
        image = site_root(directory) / post.image
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(picture.png)
    return path
