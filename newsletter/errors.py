"""The error every layer raises for bad input from a person."""


class InputError(ValueError):
    """Bad input from a person; the message says what to fix. Nothing was changed."""
