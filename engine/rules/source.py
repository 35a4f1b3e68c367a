"""Reading rule-set documents (YAML or JSON) while remembering where every node came from.

Validation reports each problem with the path of the offending node *and* its line in the source,
so a person can jump to it. PyYAML's composer gives nodes with positions; this module turns them
into plain Python values (floats become exact ``Decimal``: a win rate of ``0.1`` is one tenth,
not the nearest binary fraction) plus a map from dotted paths to (line, column).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from engine.errors import RuleSetInvalidError, Violation

#: Largest rule-set document accepted, in characters (larger ones are refused before parsing).
MAX_DOCUMENT_CHARS = 2_000_000
#: Most values (scalars, lists, mappings) a document may hold once its aliases are expanded.
MAX_VALUES = 200_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 48


def join_path(parent: str, key: str | int) -> str:
    """Return the dotted path of ``key`` under ``parent`` (``a.b`` for keys, ``a[2]`` for indexes)."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


@dataclass
class SourceDocument:
    """A parsed document: its plain value, its text, and the position of every node by path."""

    data: Any
    text: str
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Problems found while reading (duplicate or non-name keys); validation reports them too.
    violations: list[Violation] = field(default_factory=list)

    def position(self, path: str) -> tuple[int, int]:
        """Return (line, column) of ``path``, or of its nearest ancestor that has one; (0, 0) if none."""
        p = path
        while p:
            if p in self.positions:
                return self.positions[p]
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        return self.positions.get("", (0, 0))

    def violation(self, path: str, reason: str, message: str) -> Violation:
        """Build a violation at ``path`` with the source position filled in."""
        line, column = self.position(path)
        return Violation(path=path, line=line, column=column, reason=reason, message=message)


class _Builder:
    """Turns a composed YAML node tree into Python values, recording positions and duplicates."""

    def __init__(self) -> None:
        self.positions: dict[str, tuple[int, int]] = {}
        self.violations: list[Violation] = []
        self._constructor = yaml.SafeLoader("")
        self._nodes = 0

    def build(self, node: yaml.Node, path: str, depth: int = 0) -> Any:
        self._nodes += 1
        if self._nodes > MAX_VALUES:  # aliases can expand a small text enormously
            raise RuleSetInvalidError([Violation(
                path, node.start_mark.line + 1, node.start_mark.column + 1, "DOCUMENT_TOO_COMPLEX",
                f"the document expands to more than {MAX_VALUES} values")])  # fmt: skip
        if depth > MAX_DEPTH:
            raise RuleSetInvalidError([Violation(
                path, node.start_mark.line + 1, node.start_mark.column + 1, "DOCUMENT_TOO_DEEP",
                f"values nest more than {MAX_DEPTH} deep")])  # fmt: skip
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, str | int) or isinstance(key, bool):
                    line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    self.violations.append(
                        Violation(
                            path, line, col, "INVALID_KEY", "mapping keys must be plain names"
                        )
                    )
                    continue
                key = str(key)
                child = join_path(path, key)
                if key in out:
                    line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                    self.violations.append(
                        Violation(child, line, col, "DUPLICATE_KEY", f"key {key!r} appears twice")
                    )
                out[key] = self.build(value_node, child, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(item, join_path(path, i), depth + 1) for i, item in enumerate(node.value)
            ]
        assert isinstance(node, yaml.ScalarNode)
        try:
            return self._scalar(node)
        except (yaml.YAMLError, ValueError, ArithmeticError) as exc:  # a tag or value YAML rejects
            line, column = node.start_mark.line + 1, node.start_mark.column + 1
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise RuleSetInvalidError(
                [Violation(path, line, column, "YAML_SYNTAX", f"not valid YAML: {problem}")]
            ) from None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:float":
            text = node.value.replace("_", "")
            lowered = text.lower()
            if lowered in (".inf", "+.inf", "-.inf", ".nan"):
                return Decimal(lowered.replace(".", ""))
            return Decimal(text)
        return self._constructor.construct_object(node)


def parse_document(text: str) -> SourceDocument:
    """Parse YAML (or JSON) text into a :class:`SourceDocument`.

    Raises
    ------
    RuleSetInvalidError
        With reason ``YAML_SYNTAX`` (and the position) when the text is not well-formed, or
        ``DOCUMENT_TOO_LARGE``. Repeated mapping keys do not raise: they are kept as
        ``DUPLICATE_KEY`` violations on the result, so validation can report them with the rest.
    """
    if len(text) > MAX_DOCUMENT_CHARS:
        raise RuleSetInvalidError(
            [
                Violation(
                    "",
                    reason="DOCUMENT_TOO_LARGE",
                    message=f"document has {len(text)} characters; the limit is {MAX_DOCUMENT_CHARS}",
                )
            ]
        )
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        problem = exc.problem or exc.context or "malformed document"
        raise RuleSetInvalidError(
            [Violation("", line, col, "YAML_SYNTAX", f"not valid YAML: {problem}")]
        ) from None
    except yaml.YAMLError as exc:
        raise RuleSetInvalidError([Violation("", 0, 0, "YAML_SYNTAX", str(exc))]) from None
    except RecursionError:  # the YAML composer recurses once per nesting level
        raise RuleSetInvalidError(
            [Violation("", 0, 0, "DOCUMENT_TOO_DEEP", f"values nest more than {MAX_DEPTH} deep")]
        ) from None
    if node is None:
        raise RuleSetInvalidError([Violation("", 1, 1, "EMPTY_DOCUMENT", "the document is empty")])
    builder = _Builder()
    data = builder.build(node, "")
    return SourceDocument(data, text, builder.positions, builder.violations)


__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_CHARS",
    "MAX_VALUES",
    "SourceDocument",
    "join_path",
    "parse_document",
]
