"""``kubectl_complete-netsso``: shell completion for ``kubectl netsso`` (kubectl >= 1.26 plugin completion).

kubectl runs this executable with the words typed after the plugin name, the last one being the word being
completed ("" after a space), and reads one completion per line plus an optional last line ``:<directive>``
(a cobra ShellCompDirective: 0 default, i.e. the shell completes file names when no value is given; 1 error;
4 no file completion; 16 directory names only).
"""

from __future__ import annotations

import contextlib
import io
import sys

DIRECTIVE_DEFAULT = 0
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_FILE_COMP = 4
DIRECTIVE_FILTER_DIRS = 16


def completions(words: list[str]) -> tuple[list[str], int]:
    """The completions for the words typed after ``kubectl netsso`` and the cobra directive."""
    from click.shell_completion import ShellComplete

    from .main import cli

    args, incomplete = (words[:-1], words[-1]) if words else ([], "")
    try:
        # anything a completer or loader writes to stderr would land in the middle of the user's command line
        with contextlib.redirect_stderr(io.StringIO()):
            items = ShellComplete(cli, {}, "kubectl netsso", "_KUBECTL_NETSSO_COMPLETE").get_completions(args, incomplete)
    except Exception:  # completion must never print a traceback into the user's shell
        return [], DIRECTIVE_ERROR
    kinds = {item.type for item in items}
    if "dir" in kinds:
        return [], DIRECTIVE_FILTER_DIRS  # no values: the shell completes directory names
    if "file" in kinds:
        return [], DIRECTIVE_DEFAULT  # no values: the shell completes file names
    return [item.value for item in items], DIRECTIVE_NO_FILE_COMP


def main(argv: list[str] | None = None) -> None:
    values, directive = completions(list(sys.argv[1:] if argv is None else argv))
    out = sys.stdout
    for value in values:
        out.write(value + "\n")
    out.write(f":{directive}\n")
    out.flush()


if __name__ == "__main__":
    main()
