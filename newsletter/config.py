"""Settings read from the environment, with embedded defaults for a local demo.

Every setting is a ``NEWSLETTER_*`` variable. With nothing set, the service runs on
SQLite in the instance folder, runs jobs inline instead of on Redis, and writes emails
to an outbox folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from types import UnionType
from typing import get_args, get_origin, get_type_hints

from limits import parse_many

from newsletter.keys import derive_key

DEV_SECRET_KEY = "dev-only-insecure-secret-key"
# The footer's postal line until an operator sets theirs: never sent from production.
PLACEHOLDER_POSTAL_ADDRESS = "AI Daily Digest, 1 Example Street, Taipei"
TRANSPORTS = ("outbox", "smtp", "postmark")
AMBIGUOUS_POLICIES = ("retry", "drop")
# Postmark's batch endpoint takes at most this many messages per call.
POSTMARK_MAX_BATCH = 500
# Above this, the SDK insists on streaming (a non-streaming call could outlast 10 minutes).
MAX_NONSTREAMING_TOKENS = 21_333
# The API version the SDK speaks (2026-10-21) has no sampling temperature; the model's
# effort level is the knob it offers instead ("" leaves it to the API's default).
EFFORTS = ("", "low", "medium", "high", "xhigh", "max")
_ALIAS = r"^claude-{family}-(?P<major>\d+)(?:-(?P<minor>\d{{1,2}}))?$"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every setting, grouped by the part of the service that owns it; each group is
    checked by its own method below (``validate`` calls them all)."""

    # -- the service: where it runs and what it is ----------------------------------------
    env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    instance_dir: Path = field(default_factory=lambda: Path.cwd() / "instance")
    database_url: str = ""
    redis_url: str = ""
    base_url: str = "http://localhost:5000"
    from_address: str = "digest@localhost"
    from_name: str = "AI Daily Digest"
    postal_address: str = PLACEHOLDER_POSTAL_ADDRESS

    # -- sources: fetching the news --------------------------------------------------------
    fetch_timeout: float = 15.0
    fetch_retries: int = 2
    fetch_per_host: int = 4
    fetch_max_bytes: int = 5_000_000

    # -- the writer: Claude ----------------------------------------------------------------
    anthropic_api_key: str = field(default="", repr=False)
    anthropic_base_url: str = ""
    anthropic_model: str = ""  # empty: the newest Sonnet alias, chosen when a key is set
    # Writes the other languages from the primary digest; empty: the newest Haiku alias.
    anthropic_translate_model: str = ""
    # Use the Message Batches API (half price) when a build starts at least this many
    # minutes before the topic's send time; 0: never.
    anthropic_batch_lead_minutes: int = 0
    anthropic_max_tokens: int = 8000
    anthropic_effort: str = ""
    anthropic_max_retries: int = 4
    anthropic_budget_seconds: float = 300.0

    # -- the daily chain: queue, cron, operators' alerts -----------------------------------
    queue_name: str = "newsletter"
    sweep_interval: int = 60
    # how late the cron may still start a send time it missed (a restart, an outage)
    cron_grace_minutes: int = 60
    # who hears of a failed or empty day (a topic's chain that sent nothing)
    operator_emails: tuple[str, ...] = ()
    operator_alerts: bool = True

    # -- delivery: the send loop and its transports ----------------------------------------
    transport: str = "outbox"
    outbox_dir: Path | None = None
    send_batch_size: int = 500
    lease_seconds: int = 300
    max_attempts: int = 5
    retry_base_seconds: float = 60.0
    rate_limit: float = 0.0
    journal_dir: Path | None = None
    # a message whose reply was lost after its final dot: "retry" later, or "drop" it
    ambiguous: str = "retry"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    smtp_ca_file: Path | None = None
    smtp_pool_size: int = 4
    smtp_timeout: float = 30.0
    dkim_selector: str = ""
    dkim_private_key: Path | None = None
    postmark_token: str = ""
    postmark_url: str = "https://api.postmarkapp.com"
    postmark_stream: str = "broadcast"
    # messages per /email/batch call: a crash mid-call can resend at most this many
    postmark_batch_size: int = 50
    # Show the digest's infographic at the top of the email (a remote image from the archive)
    email_infographic: bool = False

    # -- bounces and complaints ------------------------------------------------------------
    webhook_secret: str = ""
    bounce_address: str = ""  # VERP base: bounces+<token>@domain per message; empty: off
    bounce_mailbox: str = field(default="", repr=False)  # pop3(s)://user:password@host:port
    soft_bounce_limit: int = 3  # soft bounces within SOFT_BOUNCE_DAYS that suppress
    ses_topic_arns: tuple[str, ...] = ()  # SNS topics whose SES notifications are taken

    # -- the reader site -------------------------------------------------------------------
    confirm_max_age_days: int = 7
    resend_interval_minutes: int = 10
    check_deliverability: bool = False
    signup_rate_limit: str = "10/minute;100/hour"
    signup_address_rate_limit: str = "3/hour;10/day"
    proxy_hops: int = 0

    # -- the operator's console (/admin) ---------------------------------------------------
    admin_session_minutes: int = 60
    admin_login_rate_limit: str = "10/minute;50/hour"
    review_grace_minutes: int = 120
    # the review page's link check also asks links to loopback and private addresses
    link_check_private_hosts: bool = False

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite:///{self.instance_dir / 'newsletter.db'}"
            object.__setattr__(self, "database_url", url)
        if self.outbox_dir is None:
            object.__setattr__(self, "outbox_dir", self.instance_dir / "outbox")
        if self.anthropic_api_key and not self.anthropic_model:
            object.__setattr__(self, "anthropic_model", newest_sonnet_alias())
        if self.anthropic_api_key and not self.anthropic_translate_model:
            object.__setattr__(self, "anthropic_translate_model", newest_alias("haiku"))
        if self.journal_dir is None:
            object.__setattr__(self, "journal_dir", self.instance_dir / "journal")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        self.validate()

    @property
    def resend_interval(self) -> timedelta:
        """How long a signup or resend waits before its address may get another email."""
        return timedelta(minutes=self.resend_interval_minutes)

    @property
    def sender_domain(self) -> str:
        """The domain of the From address: Message-IDs, List-Id and DKIM use it."""
        return self.from_address.rpartition("@")[2] or "localhost"

    @cached_property
    def suppression_key(self) -> bytes:
        """The HMAC key of the suppression list's address hashes (see ``email_hash``)."""
        return derive_key(self.secret_key, "suppression")

    @cached_property
    def message_id_key(self) -> bytes:
        """The HMAC key that makes digest Message-IDs opaque and this installation's own."""
        return derive_key(self.secret_key, "message-id")

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def inline_jobs(self) -> bool:
        """Without Redis, jobs run in the calling process (the embedded default)."""
        return not self.redis_url

    def validate(self) -> None:
        """Each group of settings checked by its own method; the first problem raises."""
        self._check_service()
        self._check_sources()
        self._check_writer()
        self._check_daily()
        self._check_delivery()
        self._check_bounces()
        self._check_site()
        self._check_console()

    def _check_service(self) -> None:
        if self.env not in ("development", "production"):
            raise ConfigError("NEWSLETTER_ENV must be 'development' or 'production'")
        if self.production and (self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32):
            raise ConfigError(
                "NEWSLETTER_SECRET_KEY must be set to a random value of 32+ characters "
                "in production"
            )
        if self.production:
            self._validate_production()
        if not re.match(r"https?://[^\s/]+(/\S*)?\Z", self.base_url):
            raise ConfigError(
                "NEWSLETTER_BASE_URL must be an absolute http(s) URL, like https://news.example.org"
            )

    def _check_sources(self) -> None:
        if self.fetch_timeout <= 0 or self.fetch_retries < 0 or self.fetch_per_host < 1:
            raise ConfigError(
                "NEWSLETTER_FETCH_TIMEOUT must be > 0, NEWSLETTER_FETCH_RETRIES >= 0 "
                "and NEWSLETTER_FETCH_PER_HOST >= 1"
            )
        if self.fetch_max_bytes < 1024:
            raise ConfigError("NEWSLETTER_FETCH_MAX_BYTES must be at least 1024")

    def _check_writer(self) -> None:
        if not 1 <= self.anthropic_max_tokens <= MAX_NONSTREAMING_TOKENS:
            raise ConfigError(
                f"NEWSLETTER_ANTHROPIC_MAX_TOKENS must be between 1 and {MAX_NONSTREAMING_TOKENS}"
            )
        if self.anthropic_effort not in EFFORTS:
            raise ConfigError(
                f"NEWSLETTER_ANTHROPIC_EFFORT must be empty or one of {', '.join(EFFORTS[1:])}"
            )
        if self.anthropic_batch_lead_minutes < 0:
            raise ConfigError("NEWSLETTER_ANTHROPIC_BATCH_LEAD_MINUTES must be 0 or more")
        if self.anthropic_max_retries < 0:
            raise ConfigError("NEWSLETTER_ANTHROPIC_MAX_RETRIES must be 0 or more")
        if self.anthropic_budget_seconds <= 0:
            raise ConfigError("NEWSLETTER_ANTHROPIC_BUDGET_SECONDS must be more than 0")

    def _check_daily(self) -> None:
        if self.cron_grace_minutes < 0:
            raise ConfigError("NEWSLETTER_CRON_GRACE_MINUTES must not be negative")
        if any("@" not in address for address in self.operator_emails):
            raise ConfigError("NEWSLETTER_OPERATOR_EMAILS must be email addresses, comma separated")

    def _check_delivery(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ConfigError(f"NEWSLETTER_TRANSPORT must be one of {', '.join(TRANSPORTS)}")
        if self.ambiguous not in AMBIGUOUS_POLICIES:
            raise ConfigError("NEWSLETTER_AMBIGUOUS must be 'retry' or 'drop'")
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise ConfigError("NEWSLETTER_SMTP_SECURITY must be 'none', 'starttls' or 'ssl'")
        for name in ("send_batch_size", "lease_seconds", "max_attempts", "smtp_pool_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"NEWSLETTER_{name.upper()} must be at least 1")
        if self.rate_limit < 0 or self.retry_base_seconds < 0 or self.smtp_timeout <= 0:
            raise ConfigError(
                "NEWSLETTER_RATE_LIMIT and NEWSLETTER_RETRY_BASE_SECONDS must not be negative, "
                "NEWSLETTER_SMTP_TIMEOUT must be positive"
            )
        if self.smtp_ca_file is not None and not self.smtp_ca_file.is_file():
            raise ConfigError(f"NEWSLETTER_SMTP_CA_FILE: no such file {self.smtp_ca_file}")
        if not 1 <= self.postmark_batch_size <= POSTMARK_MAX_BATCH:
            raise ConfigError(
                f"NEWSLETTER_POSTMARK_BATCH_SIZE must be between 1 and {POSTMARK_MAX_BATCH}"
            )
        if self.transport == "postmark" and not self.postmark_token:
            raise ConfigError("NEWSLETTER_POSTMARK_TOKEN is needed for the postmark transport")
        if bool(self.dkim_selector) != (self.dkim_private_key is not None):
            raise ConfigError(
                "NEWSLETTER_DKIM_SELECTOR and NEWSLETTER_DKIM_PRIVATE_KEY are set together"
            )
        if self.dkim_private_key is not None and self.transport == "postmark":
            raise ConfigError(
                "NEWSLETTER_DKIM_* is for SMTP: Postmark signs with your domain's key itself"
            )

    def _check_bounces(self) -> None:
        if self.bounce_address and not re.fullmatch(r"[^@\s+]+@[^@\s]+", self.bounce_address):
            raise ConfigError(
                "NEWSLETTER_BOUNCE_ADDRESS must be an address without '+', like bounces@example.org"
            )
        if self.bounce_mailbox and not re.match(r"pop3s?://[^@/]+@[^/:]+", self.bounce_mailbox):
            raise ConfigError(
                "NEWSLETTER_BOUNCE_MAILBOX must look like pop3s://user:password@host[:port]"
            )
        if self.soft_bounce_limit < 1:
            raise ConfigError("NEWSLETTER_SOFT_BOUNCE_LIMIT must be at least 1")

    def _check_site(self) -> None:
        if self.confirm_max_age_days < 1:
            raise ConfigError("NEWSLETTER_CONFIRM_MAX_AGE_DAYS must be at least 1")
        if not 0 <= self.proxy_hops <= 5:
            raise ConfigError("NEWSLETTER_PROXY_HOPS must be between 0 and 5")
        if self.resend_interval_minutes < 0:
            raise ConfigError("NEWSLETTER_RESEND_INTERVAL_MINUTES must not be negative")
        self._check_rate_limits("signup_rate_limit", "signup_address_rate_limit")

    def _check_console(self) -> None:
        if self.admin_session_minutes < 1 or self.review_grace_minutes < 0:
            raise ConfigError(
                "NEWSLETTER_ADMIN_SESSION_MINUTES must be at least 1 and "
                "NEWSLETTER_REVIEW_GRACE_MINUTES not negative"
            )
        self._check_rate_limits("admin_login_rate_limit")

    def _check_rate_limits(self, *names: str) -> None:
        for name in names:
            try:
                parse_many(getattr(self, name))
            except ValueError:
                raise ConfigError(
                    f"NEWSLETTER_{name.upper()} must look like '10/minute;100/hour'"
                ) from None

    def _validate_production(self) -> None:
        """What a real sender must have set: every email carries these to its readers."""
        if self.postal_address.strip() == PLACEHOLDER_POSTAL_ADDRESS:
            raise ConfigError(
                "NEWSLETTER_POSTAL_ADDRESS must be your real postal address in production "
                "(it is in every email's footer)"
            )
        if not self.base_url.startswith("https://"):
            raise ConfigError(
                "NEWSLETTER_BASE_URL must be an https:// URL in production "
                "(the links in every email carry the readers' tokens)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(f"NEWSLETTER_{name}")
            return value if value not in (None, "") else None

        values: dict[str, object] = {}
        for name, kind in _FIELDS.items():
            raw = get(name.upper())
            if raw is None:
                continue
            values[name] = _convert(name, raw, kind)
        if "anthropic_api_key" not in values and env.get("ANTHROPIC_API_KEY"):
            values["anthropic_api_key"] = env["ANTHROPIC_API_KEY"]
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _field_kind(annotation: object) -> type:
    """The type an environment string converts to: ``Path | None`` -> Path,
    ``tuple[str, ...]`` -> tuple."""
    options = [option for option in get_args(annotation) if option is not type(None)]
    kind = get_origin(annotation) or annotation
    return kind if kind is not UnionType else options[0]


# Every Settings field has its NEWSLETTER_<NAME> variable.
_FIELDS: dict[str, type] = {
    name: _field_kind(hint) for name, hint in get_type_hints(Settings).items()
}

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def newest_sonnet_alias() -> str:
    return newest_alias("sonnet")


def newest_alias(family: str) -> str:
    """The newest alias (no date suffix) of a model family among the models the
    installed SDK lists.

    Imported here, not at module level: the SDK's types take seconds to import, and
    only a process that will call Claude should pay for them.
    """
    from anthropic.types import ModelParam

    versions = []
    alias = re.compile(_ALIAS.format(family=family))
    for name in get_args(get_args(ModelParam)[0]):
        match = alias.match(name)
        if match:
            versions.append((int(match["major"]), int(match["minor"] or 0), name))
    return max(versions)[2]


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind is bool:
            if raw.lower() not in _TRUE + _FALSE:
                raise ValueError(raw)
            return raw.lower() in _TRUE
        if kind is Path:
            return Path(raw).expanduser().resolve()
        return kind(raw)
    except ValueError:
        wanted = {int: "an integer", float: "a number", bool: "true or false"}.get(
            kind, f"a {kind.__name__}"
        )
        raise ConfigError(f"NEWSLETTER_{name.upper()} must be {wanted}, got {raw!r}") from None
