"""The console's operators: add (password prompted twice), list, remove."""

from __future__ import annotations

import click
from rich.table import Table

from newsletter import admins
from newsletter.cli.common import console, reports_errors
from newsletter.errors import InputError
from newsletter.services import current


@click.group("admins", help="Operators of the console at /admin.")
def admins_group() -> None:
    pass


@admins_group.command("add", help="Add an operator; the password is asked for twice.")
@click.argument("email")
@click.password_option(
    "--password",
    prompt="Password",
    confirmation_prompt="Repeat the password",
    help=f"At least {admins.MIN_PASSWORD_LENGTH} characters (prompted when not given).",
)
@reports_errors
def admins_add(email: str, password: str) -> None:
    with current().db.session() as session:
        admin = admins.add_admin(session, email, password)
        console.print(f"Added operator {admin.email}; they sign in at /admin/login.")


@admins_group.command("list")
@reports_errors
def admins_list() -> None:
    table = Table("email", "added", "last sign-in", "locked until")
    with current().db.session() as session:
        for admin in admins.list_admins(session):
            table.add_row(
                admin.email,
                f"{admin.created_at:%Y-%m-%d}",
                f"{admin.last_login_at:%Y-%m-%d %H:%M}" if admin.last_login_at else "never",
                f"{admin.locked_until:%Y-%m-%d %H:%M}" if admin.locked_until else "-",
            )
    console.print(table)


@admins_group.command("remove", help="Remove an operator; their sessions end at once.")
@click.argument("email")
@reports_errors
def admins_remove(email: str) -> None:
    with current().db.session() as session:
        if not admins.remove_admin(session, email):
            raise InputError(f"{email} is not an operator")
    console.print(f"Removed operator {email}.")
