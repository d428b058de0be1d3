"""README.md cannot drift: every `$ ...` block is run and its output compared, unless marked as not executed.

Rules (also in the README's Development section):
- A fenced block whose first line starts with `$ ` is executed, one `$ ` command at a time (a trailing `\\` continues
  the command), from a scratch folder that sees the repo's examples/ and tests/ (so nothing is written into the
  checkout), with `kubectl netsso` run as the installed `kubectl-netsso`. `$ echo $?` shows the previous exit code.
- The lines after a command are its stdout and stderr, compared line by line (trailing blanks aside). A line `...`
  stands for any number of lines (an abridged place); nothing else is loose.
- `<!-- not executed: REASON -->` on the line before the block skips it (it needs a cluster, a provider or a browser).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXE = shutil.which("kubectl-netsso")
COMPLETE = shutil.which("kubectl_complete-netsso")
NOT_EXECUTED = re.compile(r"<!-- not executed: .+ -->")


@dataclass(frozen=True, slots=True)
class Step:
    command: str
    expected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Block:
    line: int
    steps: tuple[Step, ...]


def blocks(text: str) -> tuple[list[Block], list[int]]:
    """(the executed blocks, the lines of the blocks marked not executed)."""
    lines = text.splitlines()
    found, skipped, i = [], [], 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        start = i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        body = lines[start + 1:end]
        i = end + 1
        if not body or not body[0].startswith("$ "):
            continue
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        if NOT_EXECUTED.fullmatch(before.strip()):
            skipped.append(start + 1)
            continue
        steps, k = [], 0
        while k < len(body):
            command = body[k][2:]
            while command.endswith("\\"):
                k += 1
                command = command[:-1] + " " + body[k].strip()
            k += 1
            expected = []
            while k < len(body) and not body[k].startswith("$ "):
                expected.append(body[k].rstrip())
                k += 1
            while expected and not expected[-1]:
                expected.pop()
            steps.append(Step(command, tuple(expected)))
        found.append(Block(start + 1, tuple(steps)))
    return found, skipped


def matches(expected: tuple[str, ...], actual: list[str]) -> bool:
    """Line-by-line equality where a `...` line matches any run of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[n:]) for n in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and matches(rest, actual[1:])


EXECUTED, SKIPPED = blocks(README.read_text())


def test_the_readme_has_executed_blocks_and_few_unexecuted_ones() -> None:
    assert len(EXECUTED) >= 12
    assert len(SKIPPED) <= 10, f"blocks marked not executed at lines {SKIPPED}"


@pytest.mark.skipif(EXE is None or COMPLETE is None, reason="kubectl-netsso is not installed (pip install -e .)")
@pytest.mark.parametrize("block", EXECUTED, ids=[f"line{b.line}" for b in EXECUTED])
def test_readme_block_output_is_real(block: Block, tmp_path: Path) -> None:
    for name in ("examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = dict(os.environ, NO_COLOR="1", HOME=str(tmp_path / "home"), KUBECONFIG=str(tmp_path / "home" / "none"),
               PATH=os.pathsep.join([str(Path(EXE or "").parent), os.environ.get("PATH", "")]))
    last_code = 0
    for step in block.steps:
        if step.command == "echo $?":
            actual = [str(last_code)]
        else:
            command = step.command.replace("kubectl netsso ", "kubectl-netsso ")
            r = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=120)
            last_code = r.returncode
            actual = [ln.rstrip() for ln in r.stdout.splitlines()]
            while actual and not actual[-1]:
                actual.pop()
        assert matches(step.expected, actual), (
            f"README.md line {block.line}: `$ {step.command}` printed:\n" + "\n".join(actual)
        )


def test_the_comparison_catches_a_changed_row() -> None:
    assert matches(("a", "...", "z"), ["a", "b", "c", "z"]) and matches(("a", "...", "z"), ["a", "z"])
    assert not matches(("a", "b"), ["a", "B"]) and not matches(("a",), ["a", "extra"])
    assert not matches(("a", "...", "z"), ["a", "b"])
