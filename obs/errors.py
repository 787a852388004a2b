"""The one base of the errors a person can fix (a bad option or file, an unknown id, a missing key, an unreachable
database): the CLI shows them as one line with exit status 1, never as a traceback."""


class UserError(Exception):
    """A problem the person running obs can fix; its message says what to do."""
