"""Reading a command's input for the ``quotient`` CLI: JSON objects from arguments and JSON Lines
files, each with where it came from (for error messages), and records grouped into batches.

Shared by the commands that send many records to the server in batches (``score``, ``record``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

_T = TypeVar("_T")


def batches(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in lists of ``size`` (the last one shorter), read lazily."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def count_lines(path: str) -> int:
    """The lines of a text file (a progress bar's total)."""
    with open(path, encoding="utf-8", newline="") as f:
        return sum(1 for _ in f)


def json_objects(
    items: list[str] | None, path: str | None, option: str = "--event"
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, object)`` from repeated JSON arguments, then from a JSON Lines file (``-``:
    standard input; blank lines skipped). ``where`` is ``--event 2`` or ``events.jsonl:7``. Text
    that is not a JSON object stops the command (``SystemExit``) naming where it is."""
    for n, item in enumerate(items or [], 1):
        yield _parsed(f"{option} {n}", item)
    if path:
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        try:
            for n, line in enumerate(handle, 1):
                if line.strip():
                    yield _parsed(f"{path}:{n}", line)
        finally:
            if handle is not sys.stdin:
                handle.close()


def _parsed(where: str, text: str) -> tuple[str, dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{where}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"{where}: not a JSON object")
    return where, value


__all__ = ["batches", "count_lines", "json_objects"]
