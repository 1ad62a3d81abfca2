"""A failed or empty day emails the operators, once per topic, day, step and outcome,
with every step of that day so the reason is in the email."""

from __future__ import annotations

from newsletter.daily import runs
from newsletter.delivery.operators import email_operators, operators_hear
from newsletter.models import Run
from newsletter.services import Services


def alert_day(app: Services, run: Run) -> bool:
    """Email the operators about ``run`` (a failed or empty step); False if they heard
    of it already or hear nothing (no addresses, or alerts off)."""
    if not operators_hear(app.settings):
        return False
    with app.db.session() as session:
        if runs.seen_before(session, run):
            return False
        steps = runs.day_runs(session, run.topic_slug, run.day)
    what = "sent nothing" if run.outcome.value == "empty" else "failed"
    subject = f"[{app.settings.from_name}] {run.topic_slug} {run.day}: the day {what}"
    lines = [
        f"The {run.topic_slug} digest of {run.day} {what} at the {run.step} step:",
        f"  {run.detail}",
        "",
        "Every step of that day:",
        *(runs.line(step) for step in steps),
        "",
        f"See `newsletter runs --topic {run.topic_slug}`.",
    ]
    return email_operators(app.settings, subject, "\n".join(lines)) > 0
