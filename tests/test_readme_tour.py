"""The README's tour, run as written: every command of its ``sh`` blocks, in order, against a
``quotient serve`` process on a fresh store, each shown output found in what the command prints.

Why this exists: the tour is the first thing a reader runs, and nothing else notices when a
command, a flag or a figure in it drifts from what the code does. The commands run in a scratch
directory that sees the checkout's ``examples`` and ``tests`` and ``../shared`` as the tour
expects, with ``QUOTIENT_SERVER`` and ``QUOTIENT_TOKEN_FILE`` pointing at the test's server (the
README's commands name neither). Files the tour writes under ``/tmp`` go to the scratch directory.

What the README shows is matched leniently where the README says it trims: a shown line matches a
printed line when its words appear in it in order (columns left out), the first word the same;
shown lines appear in order, and others may come between them (rows left out, ``…``). Creation
times, content-hash prefixes and request ids may differ. A command whose shown output starts with
``error:`` must fail; every other one must succeed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import serve_subprocess

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
_CREATED_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_HASH_PREFIX = re.compile(r"[0-9a-f]{12}")


@dataclass(frozen=True)
class Step:
    """One ``$`` command of the tour and the output lines the README shows under it."""

    line: int  # where the command starts in the README
    command: str
    shown: tuple[str, ...]


def tour_steps(text: str) -> list[Step]:
    """The ``$`` commands of the README's "A short tour" section, with their shown output."""
    lines = text.splitlines()
    start = lines.index("## A short tour")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    steps: list[Step] = []
    i = start
    while i < end:
        if lines[i].strip() != "```sh":
            i += 1
            continue
        i += 1
        while i < end and lines[i].strip() != "```":
            if not lines[i].startswith("$ "):
                raise AssertionError(f"README.md:{i + 1}: output before any command")
            first = i
            command = lines[i][2:]
            while _continues(command):
                i += 1
                command += "\n" + lines[i]
            i += 1
            shown = []
            while i < end and lines[i].strip() != "```" and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            steps.append(Step(first + 1, command, tuple(shown)))
        i += 1
    return steps


def _continues(command: str) -> bool:
    """Whether a command goes on on the next line: a trailing backslash or an open quote."""
    if command.endswith("\\"):
        return True
    try:
        shlex.split(command.replace("\\\n", " "))
    except ValueError:  # "No closing quotation"
        return True
    return False


def _words_match(shown: str, printed: str, previous: str) -> bool:
    if shown == printed:
        return True
    if previous == "created" and _CREATED_AT.fullmatch(shown):
        return _CREATED_AT.fullmatch(printed) is not None
    if _HASH_PREFIX.fullmatch(shown):
        return _HASH_PREFIX.fullmatch(printed) is not None
    return shown.startswith("request_id=") and printed.startswith("request_id=")


def line_matches(shown: str, printed: str) -> bool:
    """Whether ``printed`` holds the words of ``shown`` in order, starting with the same one."""
    want = [w for w in shown.split() if w != "…"]
    have = printed.split()
    if not want:
        return True
    if not have or not _words_match(want[0], have[0], ""):
        return False
    k = 1
    for j in range(1, len(want)):
        while k < len(have) and not _words_match(want[j], have[k], want[j - 1]):
            k += 1
        if k == len(have):
            return False
        k += 1
    return True


def unmatched(shown: tuple[str, ...], printed: list[str]) -> str | None:
    """The first shown line not found in ``printed`` after the lines matched before it."""
    at = 0
    for line in shown:
        if not line.strip() or line.strip() == "…":
            continue
        while at < len(printed) and not line_matches(line, printed[at]):
            at += 1
        if at == len(printed):
            return line
        at += 1
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A ``quotient serve`` process (API keys on) on a fresh store; yields the commands' env."""
    store = tmp_path_factory.mktemp("tour-store")
    env = {k: v for k, v in os.environ.items()
           if k not in ("QUOTIENT_TOKEN", "QUOTIENT_DATABASE_URL", "QUOTIENT_TLS_CA")}  # fmt: skip
    with serve_subprocess(store / "quotient.sqlite3", auth="tokens") as (proc, port):
        assert proc.stderr is not None
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # the log never blocks it
        yield {**env, "QUOTIENT_SERVER": f"127.0.0.1:{port}",
               "QUOTIENT_TOKEN_FILE": str(store / "admin.token"),
               "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}  # fmt: skip


def test_the_tour_is_parsed_whole() -> None:
    steps = tour_steps(README.read_text(encoding="utf-8"))
    commands = [s.command.split()[0:2] for s in steps]
    assert ["quotient", "services"] in commands
    assert sum(c[0] == "quotient" for c in commands) >= 20
    multi = next(s for s in steps if s.command.startswith("quotient record --event"))
    assert multi.command.count("\n") == 3 and multi.command.endswith("}}'")
    assert multi.shown[0] == "recorded 1 event(s), 0 already recorded"


def test_shown_lines_match_with_columns_and_rows_left_out() -> None:
    printed = ["node  target  share  set by  per metric  spread  2027-Q1  2027-Q2", "x", "a b c"]
    assert unmatched(("node target share 2027-Q1", "…", "a c"), printed) is None
    assert unmatched(("node target 2027-Q2 2027-Q1",), printed) == "node target 2027-Q2 2027-Q1"
    assert unmatched(("a c", "node"), printed) == "node"  # order counts
    assert not line_matches("b c", "a b c")  # the first word anchors the line
    assert line_matches(
        "default 2 effective 2026-01-01 created 2026-11-22T21:25:55Z 76be2021ce69",
        "default 2 effective 2026-01-01 created 2026-12-03T16:01:02Z 0123456789ab",
    )
    assert not line_matches("d-1 e-1 2026-03-02T09:00:00Z", "d-1 e-1 2026-03-02T09:00:01Z")


def test_the_readme_tour_runs_as_written(server: dict[str, str], tmp_path: Path) -> None:
    work = tmp_path / "checkout"
    work.mkdir()
    for name in ("examples", "tests"):
        (work / name).symlink_to(ROOT / name)
    assert (SHARED / "data").is_dir(), "the tour reads ../shared/data beside the checkout"
    (tmp_path / "shared").symlink_to(SHARED)
    for step in tour_steps(README.read_text(encoding="utf-8")):
        command = step.command.replace("/tmp/", f"{tmp_path}/")
        done = subprocess.run(["bash", "-c", command], cwd=work, env=server,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        where = f"README.md:{step.line}: {step.command}"
        printed = (done.stdout + done.stderr).splitlines()
        fails = bool(step.shown) and step.shown[0].startswith("error:")
        assert (done.returncode != 0) == fails, f"{where}\nexit {done.returncode}:\n{done.stderr}"
        missing = unmatched(step.shown, printed)
        assert missing is None, f"{where}\nnot printed: {missing!r}\nprinted:\n" + "\n".join(
            printed
        )
