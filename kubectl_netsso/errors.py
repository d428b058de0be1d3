"""The project's one error type: a message a person can act on, an optional hint, and an exit code."""

from __future__ import annotations

# Exit codes (DESIGN.md): 0 success/yes/allowed, 1 no/denied, 2 usage error (click), 3 any other error.
EXIT_OK = 0
EXIT_NO = 1
EXIT_USAGE = 2
EXIT_ERROR = 3


class NetssoError(Exception):
    """An error the CLI prints once as ``error: <message>`` (and ``hint: <hint>``), then exits."""

    def __init__(self, message: str, hint: str | None = None, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message
