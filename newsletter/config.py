"""Settings read from the environment, with embedded defaults for a local demo.

Every setting is a ``NEWSLETTER_*`` variable. With nothing set, the service runs on
SQLite in the instance folder, runs jobs inline instead of on Redis, and writes emails
to an outbox folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEV_SECRET_KEY = "dev-only-insecure-secret-key"
TRANSPORTS = ("outbox", "smtp", "postmark")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    instance_dir: Path = field(default_factory=lambda: Path.cwd() / "instance")
    database_url: str = ""
    redis_url: str = ""
    base_url: str = "http://localhost:5000"
    transport: str = "outbox"
    outbox_dir: Path | None = None
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"
    smtp_ca_file: Path | None = None
    from_address: str = "digest@localhost"
    from_name: str = "AI Daily Digest"
    postal_address: str = "AI Daily Digest, 1 Example Street, Taipei"
    languages: tuple[str, ...] = ("en", "zh-TW")
    queue_name: str = "newsletter"
    send_batch_size: int = 500
    lease_seconds: int = 300
    max_attempts: int = 5
    retry_base_seconds: float = 60.0
    rate_limit: float = 0.0
    smtp_pool_size: int = 4
    smtp_timeout: float = 30.0
    sweep_interval: int = 60
    journal_dir: Path | None = None
    dkim_selector: str = ""
    dkim_private_key: Path | None = None
    postmark_token: str = ""
    postmark_url: str = "https://api.postmarkapp.com"
    postmark_stream: str = "broadcast"
    webhook_secret: str = ""

    def __post_init__(self) -> None:
        if not self.database_url:
            url = f"sqlite:///{self.instance_dir / 'newsletter.db'}"
            object.__setattr__(self, "database_url", url)
        if self.outbox_dir is None:
            object.__setattr__(self, "outbox_dir", self.instance_dir / "outbox")
        if self.journal_dir is None:
            object.__setattr__(self, "journal_dir", self.instance_dir / "journal")
        self.validate()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def inline_jobs(self) -> bool:
        """Without Redis, jobs run in the calling process (the embedded default)."""
        return not self.redis_url

    def validate(self) -> None:
        if self.env not in ("development", "production"):
            raise ConfigError("NEWSLETTER_ENV must be 'development' or 'production'")
        if self.production and (self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32):
            raise ConfigError(
                "NEWSLETTER_SECRET_KEY must be set to a random value of 32+ characters "
                "in production"
            )
        if self.transport not in TRANSPORTS:
            raise ConfigError(f"NEWSLETTER_TRANSPORT must be one of {', '.join(TRANSPORTS)}")
        if self.smtp_security not in ("none", "starttls", "ssl"):
            raise ConfigError("NEWSLETTER_SMTP_SECURITY must be 'none', 'starttls' or 'ssl'")
        if not self.languages:
            raise ConfigError("NEWSLETTER_LANGUAGES must list at least one language")
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
        if self.transport == "postmark" and not self.postmark_token:
            raise ConfigError("NEWSLETTER_POSTMARK_TOKEN is needed for the postmark transport")
        if bool(self.dkim_selector) != (self.dkim_private_key is not None):
            raise ConfigError(
                "NEWSLETTER_DKIM_SELECTOR and NEWSLETTER_DKIM_PRIVATE_KEY are set together"
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
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


_FIELDS: dict[str, type] = {
    "env": str,
    "secret_key": str,
    "instance_dir": Path,
    "database_url": str,
    "redis_url": str,
    "base_url": str,
    "transport": str,
    "outbox_dir": Path,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_username": str,
    "smtp_password": str,
    "smtp_security": str,
    "smtp_ca_file": Path,
    "from_address": str,
    "from_name": str,
    "postal_address": str,
    "languages": tuple,
    "queue_name": str,
    "send_batch_size": int,
    "lease_seconds": int,
    "max_attempts": int,
    "retry_base_seconds": float,
    "rate_limit": float,
    "smtp_pool_size": int,
    "smtp_timeout": float,
    "sweep_interval": int,
    "journal_dir": Path,
    "dkim_selector": str,
    "dkim_private_key": Path,
    "postmark_token": str,
    "postmark_url": str,
    "postmark_stream": str,
    "webhook_secret": str,
}


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind is Path:
            return Path(raw).expanduser().resolve()
        return kind(raw)
    except ValueError:
        raise ConfigError(
            f"NEWSLETTER_{name.upper()} must be a {kind.__name__}, got {raw!r}"
        ) from None
