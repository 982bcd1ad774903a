"""The one error type users see: a one-line message naming the file, field or flag at fault."""


class HarnessError(Exception):
    """Bad input or an impossible request. The CLI prints it on one line and exits with code 2."""
