"""AI daily-digest newsletter service."""

from newsletter.app import create_app

__all__ = ["create_app"]
