"""The console's operators: who they are, their hashed passwords, and signing in.

Passwords are hashed with Werkzeug's scrypt (salted, memory-hard). Signing in gives the
same answer, in about the same time, for an unknown address, a wrong password and a
locked account: an unknown address still costs one hash check (against a dummy hash),
so neither the reply nor its timing tells which addresses are operators.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from newsletter.addresses import normalize_email
from newsletter.errors import InputError
from newsletter.models import Admin, utcnow

HASH_METHOD = "scrypt"
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
MAX_FAILURES = 5  # wrong passwords in a row before the account locks
LOCKOUT = timedelta(minutes=15)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash("not the password of anyone", method=HASH_METHOD)


def hash_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InputError(
            f"a password is {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters long"
        )
    return generate_password_hash(password, method=HASH_METHOD)


def add_admin(session: Session, address: str, password: str) -> Admin:
    email = normalize_email(address)
    if session.scalar(select(Admin.id).where(Admin.email == email)) is not None:
        raise InputError(f"{email} is an operator already")
    admin = Admin(email=email, password_hash=hash_password(password), failed_logins=0)
    session.add(admin)
    session.flush()
    return admin


def list_admins(session: Session) -> list[Admin]:
    return list(session.scalars(select(Admin).order_by(Admin.email)))


def operator_addresses(session: Session) -> list[str]:
    return list(session.scalars(select(Admin.email).order_by(Admin.email)))


def remove_admin(session: Session, address: str) -> bool:
    """Remove an operator (their sessions end with their next request); whether one was."""
    email = address.strip().lower()
    return bool(session.execute(delete(Admin).where(Admin.email == email)).rowcount)  # type: ignore[attr-defined]


def authenticate(
    session: Session, address: str, password: str, now: datetime | None = None
) -> Admin | None:
    """The operator if ``password`` is theirs and the account is not locked, else None.

    Each wrong password counts; the ``MAX_FAILURES``-th locks the account for
    ``LOCKOUT`` (during which even the right password is refused).
    """
    now = now or utcnow()
    password = password[:MAX_PASSWORD_LENGTH]
    try:
        email = normalize_email(address)
    except InputError:
        email = None
    admin = None if email is None else session.scalar(select(Admin).where(Admin.email == email))
    if admin is None:
        check_password_hash(_dummy_hash(), password)
        return None
    right = check_password_hash(admin.password_hash, password)
    if admin.locked_until is not None and admin.locked_until > now:
        return None
    if right:
        admin.failed_logins, admin.locked_until, admin.last_login_at = 0, None, now
        return admin
    admin.failed_logins += 1
    if admin.failed_logins >= MAX_FAILURES:
        admin.failed_logins, admin.locked_until = 0, now + LOCKOUT
    return None


def session_key(admin: Admin) -> str:
    """A fingerprint of the operator's password hash: a session made before the password
    changed (or for a removed operator) no longer matches."""
    return hashlib.sha256(admin.password_hash.encode()).hexdigest()[:32]
