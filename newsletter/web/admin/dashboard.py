"""The console's front page: the service at a glance.

Delivery figures are read on every view (a finished digest's counts are kept on it, so
that is cheap). Reader figures join every reader (about 100 ms for 100,000 of them), so
each process counts them at most once a minute, shows when, and recounts on request,
as listmonk's dashboard does with its periodically refreshed views.
"""

from __future__ import annotations

import time

from flask import current_app, render_template, request
from sqlalchemy.orm import Session

from newsletter import stats
from newsletter.daily.queue_status import queue_status
from newsletter.services import current
from newsletter.sources.manage import list_sources
from newsletter.web.admin import bp
from newsletter.web.admin.chart import growth_chart

READER_FIGURES_TTL = 60.0
_CACHE_KEY = "newsletter_reader_figures"


def _reader_figures(session: Session, recount: bool) -> stats.ReaderFigures:
    cached = current_app.extensions.get(_CACHE_KEY)
    now = time.monotonic()
    if cached is not None and cached[0] > now and not recount:
        return cached[1]
    figures = stats.reader_figures(session)
    current_app.extensions[_CACHE_KEY] = (now + READER_FIGURES_TTL, figures)
    return figures


@bp.get("/")
def dashboard() -> str:
    app = current()
    with app.db.session() as session:
        readers = _reader_figures(session, recount=request.args.get("recount") == "1")
        digests = stats.recent_digests(session)
        rates = stats.deliverability(session)
        sources = list_sources(session, None)
        for source in sources:
            source.topic  # noqa: B018 - loaded for the template
        for row in digests:
            row.digest.topic  # noqa: B018 - loaded for the template
        return render_template(
            "admin/dashboard.html",
            readers=readers,
            digests=digests,
            rates=rates,
            chart=growth_chart(readers.growth),
            queue=queue_status(app.settings),
            sources=sources,
            complaint_target=stats.COMPLAINT_TARGET,
            complaint_limit=stats.COMPLAINT_LIMIT,
        )
