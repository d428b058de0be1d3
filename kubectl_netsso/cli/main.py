"""The root click group: lazily loaded subcommands, -v, and the one place errors are printed."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from .. import __version__, log
from ..errors import EXIT_ERROR, NetssoError

# name -> "module:attribute"; modules are imported only when their command runs (fast start, small memory).
LAZY_COMMANDS: dict[str, str] = {
    "login": "kubectl_netsso.cli.auth:login",
    "get-token": "kubectl_netsso.cli.auth:get_token",
    "setup": "kubectl_netsso.cli.setup:setup",
    "logout": "kubectl_netsso.cli.auth:logout",
    "whoami": "kubectl_netsso.cli.identity:whoami",
    "can-i": "kubectl_netsso.cli.identity:can_i",
    "permissions": "kubectl_netsso.cli.identity:permissions",
    "can-reach": "kubectl_netsso.cli.network:can_reach",
    "paths": "kubectl_netsso.cli.network:paths",
    "reach": "kubectl_netsso.cli.access:reach",
    "audit": "kubectl_netsso.cli.access:audit",
    "report": "kubectl_netsso.cli.access:report",
    "policy": "kubectl_netsso.cli.access:policy",
    "examples": "kubectl_netsso.cli.examples:examples",
    # the reverse questions (issue 15)
    "who-can": "kubectl_netsso.cli.reverse:who_can",
    "who-can-reach": "kubectl_netsso.cli.reverse:who_can_reach",
    "diff": "kubectl_netsso.cli.review:diff",
}
ALIASES = {"perms": "permissions"}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (click docs: "Lazily Loading Subcommands")."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        cmd_name = ALIASES.get(cmd_name, cmd_name)
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
                command = getattr(module, attr)
            except (ImportError, AttributeError):
                return None
            if not isinstance(command, click.Command):
                return None
            return command
        return super().get_command(ctx, cmd_name)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="kubectl-netsso")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-v, -vv, -vvv). Tokens are always redacted.")
def cli(verbose: int) -> None:
    """SSO login, RBAC permissions and NetworkPolicy reachability for kubectl.

    \b
    Log in and see who you are:   kubectl netsso login / whoami
    What may I do here?           kubectl netsso can-i / permissions
    Can A reach B, and why not?   kubectl netsso can-reach / paths
    Both together:                kubectl netsso reach / audit / report
    Who can? Who can reach it?    kubectl netsso who-can / who-can-reach
    What does a change open?      kubectl netsso diff OLD NEW
    """
    log.set_level(verbose)


def prog_name() -> str:
    base = os.path.basename(sys.argv[0] if sys.argv else "")
    return "kubectl netsso" if base.startswith("kubectl-") or base.startswith("kubectl_") else "kubectl-netsso"


def _print_error(err: NetssoError) -> None:
    log.info("error: " + err.message)
    if err.hint:
        log.info("hint: " + err.hint)
    # -vvv: what the error was raised from (``raise ... from exc``), one line per link, redacted like every log line
    cause = err.__cause__
    while cause is not None and log.level() >= 3:
        log.debug(f"caused by: {type(cause).__name__}: {cause}", at=3)
        cause = cause.__cause__


def _tolerate_narrow_consoles() -> None:
    """A console whose encoding cannot print some character (LANG=C on a non-UTF-8 stdout, PYTHONIOENCODING=ascii)
    gets it escaped (\\u2714) instead of a UnicodeEncodeError mid-output; the tool's own symbols fall back to ASCII
    (output.symbol) and names from manifests or tokens stay readable."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def run(args: list[str]) -> int:
    """Run the CLI with args; return the exit code. Never lets a traceback reach the user."""
    _tolerate_narrow_consoles()
    stdout_before = sys.stdout
    try:
        result: Any = cli.main(args=args, prog_name=prog_name(), standalone_mode=False)
    except NetssoError as err:
        _print_error(err)
        return err.exit_code
    except click.exceptions.Abort:
        log.info("error: aborted")
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        log.info("error: interrupted")
        return 130
    except SystemExit as exc:
        # click turns EPIPE on stdout into sys.exit(1) after swapping sys.stdout for a wrapper that swallows the
        # next flush error; 1 means "denied/findings" here, so treat it like the BrokenPipeError below. Detected by
        # the swap itself, not by click's wrapper class (a private name that click 8.5 deprecated).
        if exc.code == 1 and sys.stdout is not stdout_before:
            return 0
        raise
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error worth a message.
        try:
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep interpreter shutdown quiet
        except OSError:
            pass
        return 0
    except Exception as exc:  # last line of defence: one line, never a traceback (unless -vvv)
        if log.level() >= 3:
            import traceback

            log.debug(traceback.format_exc(), at=3)
        log.info(f"error: internal error: {type(exc).__name__}: {exc}")
        log.info("hint: run again with -vvv for details and report it")
        return EXIT_ERROR
    return int(result) if isinstance(result, int) else 0
