"""The console's front page: the service at a glance."""

from __future__ import annotations

from flask import render_template

from newsletter import stats
from newsletter.daily.queue_status import queue_status
from newsletter.services import current
from newsletter.sources.manage import list_sources
from newsletter.web.admin import bp
from newsletter.web.admin.chart import growth_chart


@bp.get("/")
def dashboard() -> str:
    app = current()
    with app.db.session() as session:
        figures = stats.dashboard(session)
        sources = list_sources(session, None)
        for source in sources:
            source.topic  # noqa: B018 - loaded for the template
        for row in figures.digests:
            row.digest.topic  # noqa: B018 - loaded for the template
        return render_template(
            "admin/dashboard.html",
            figures=figures,
            chart=growth_chart(figures.growth),
            queue=queue_status(app.settings),
            sources=sources,
            complaint_target=stats.COMPLAINT_TARGET,
            complaint_limit=stats.COMPLAINT_LIMIT,
        )
