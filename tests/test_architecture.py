"""Meta-tests that keep the layering honest: ``engine/`` touches nothing outside itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"

#: Top-level modules the pure core may never import.
FORBIDDEN = {
    "grpc",
    "grpc_health",
    "grpc_reflection",
    "grpc_status",
    "google",
    "quotient",
    "service",
    "server",
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "socket",
    "http",
    "urllib",
    "requests",
    "subprocess",
    "random",
    "time",
    "pickle",
    "dask",
}
#: Calls that read the clock or global randomness.
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("random", "seed"),
    ("random", "rand"),
    ("random", "random"),
}


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", _modules(ENGINE), ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_module_stays_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in FORBIDDEN:
                bad.append(node.module)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if (name, node.func.attr) in FORBIDDEN_CALLS:
                bad.append(f"{name}.{node.func.attr}()")
    assert not bad, f"{path.name} reaches outside the core: {bad}"


@pytest.mark.parametrize(
    "path",
    _modules(ENGINE) + _modules(ROOT / "service") + [ROOT / "server.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_no_eval_exec_or_pickle(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("eval", "exec", "compile"), (
                f"{path.name} calls {node.func.id}"
            )
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
            assert not any(n.split(".")[0] in ("pickle", "dill", "cloudpickle") for n in names)


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(ROOT))
        for p in _modules(ENGINE) + _modules(ROOT / "service") + [ROOT / "server.py"]
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert not missing, f"modules without a docstring: {missing}"


def test_the_architecture_test_catches_an_import(tmp_path: Path) -> None:
    """The purity check itself must be able to fail."""
    bad = tmp_path / "bad.py"
    bad.write_text('"""x"""\nimport grpc\n')
    with pytest.raises(AssertionError):
        test_engine_module_stays_pure(bad)
