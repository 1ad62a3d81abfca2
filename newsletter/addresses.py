"""Email addresses in one canonical form, checked once, wherever they come in."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from newsletter.errors import InputError


def normalize_email(address: str, *, check_deliverability: bool = False) -> str:
    """The address in canonical form, or InputError saying what is wrong with it.

    ``check_deliverability`` also asks DNS whether the domain accepts mail. The result
    is ASCII (an internationalised domain in its xn-- form): our transports and headers
    do not speak SMTPUTF8, so a non-ASCII local part is refused here, not at send time.
    """
    if len(address) > 320 or any(c in address for c in "\r\n"):
        raise InputError("that is not an email address")
    try:
        result = validate_email(  # strict: a local part over 64 octets is refused
            address, check_deliverability=check_deliverability, allow_smtputf8=False, strict=True
        )
    except EmailNotValidError as error:
        raise InputError(str(error)) from None
    assert result.ascii_email is not None  # guaranteed without SMTPUTF8
    return result.ascii_email.lower()
