"""The committed generated code in quotient/v1 must equal a fresh generation from proto/."""

from __future__ import annotations

from pathlib import Path

from service.protogen import ROOT, generate


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert written, "nothing was generated"
    stale = []
    for path in written:
        rel = path.relative_to(tmp_path)
        committed = ROOT / rel
        if not committed.exists() or committed.read_bytes() != path.read_bytes():
            stale.append(str(rel))
    extra = {
        p.relative_to(ROOT)
        for p in (ROOT / "quotient").rglob("*.py*")
        if "__pycache__" not in p.parts
    } - {p.relative_to(tmp_path) for p in written}
    assert not stale, f"stale generated files (run ./dev proto): {stale}"
    assert not extra, f"generated files without a .proto source: {sorted(map(str, extra))}"
