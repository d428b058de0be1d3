"""Entry point ``kubectl-netsso``: hands ``get-token`` to the stdlib-only fast path before click is imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["get-token"]:
        # kubectl runs get-token on every invocation: serve a cached token without importing click & co.
        from .auth.execcred import fast_path

        code = fast_path(args[1:])
        if code is not None:
            sys.exit(code)
    from .cli.main import run

    sys.exit(run(args))


if __name__ == "__main__":
    main()
