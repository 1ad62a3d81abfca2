"""What every command shares: the console, one-line errors, dates."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import click
from flask.cli import with_appcontext
from rich.console import Console, ConsoleDimensions
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from newsletter.config import ConfigError
from newsletter.digest.build import NothingToWrite
from newsletter.errors import InputError

# Piped or redirected output is for scripts and logs: lines as long as their content.
UNWRAPPED_WIDTH = 100_000


class CommandConsole(Console):
    """Rich's console, but output that is not a terminal is never wrapped or cut to
    80 columns (a URL or an error stays whole when piped to a file or ``grep``)."""

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        return size if self.is_terminal else ConsoleDimensions(UNWRAPPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = CommandConsole(highlight=False)


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message.splitlines()[0] if message else "failed")


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run in the app context; expected failures become a one-line error and exit status 1,
    never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InputError, NothingToWrite, ConfigError) as error:
            raise _fail(str(error)) from None
        except OperationalError as error:
            raise _fail(f"cannot reach the database: {error.orig}") from None
        except SQLAlchemyError as error:
            raise _fail(f"database error: {error}") from None

    return with_appcontext(wrapper)


def parse_day(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"bad date {value!r}: use YYYY-MM-DD") from None
