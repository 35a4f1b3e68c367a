"""Generates the Python protobuf and gRPC code in ``quotient/v1`` from ``proto/``.

Run ``python -m service.protogen`` after changing a ``.proto`` file. Nobody edits the generated
files by hand; a test regenerates them into a temporary folder and fails if the committed ones are
stale.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
PACKAGE_INIT = '"""Generated protobuf and gRPC code for the {pkg} API. Do not edit."""\n'


def proto_files() -> list[Path]:
    """Return the API's .proto files, sorted."""
    return sorted((PROTO_DIR / "quotient" / "v1").glob("*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Generate code for every .proto file into ``out_dir``; return the files written.

    Raises ``RuntimeError`` with protoc's messages when generation fails.
    """
    from grpc_tools import protoc  # dev dependency, imported only when generating

    out_dir.mkdir(parents=True, exist_ok=True)
    include = str(resources.files("grpc_tools") / "_proto")
    files = [str(p.relative_to(PROTO_DIR)) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed; see the messages above")
    for pkg in ("quotient", "quotient/v1"):
        init = out_dir / pkg / "__init__.py"
        init.write_text(PACKAGE_INIT.format(pkg=pkg.replace("/", ".")))
    return sorted(p for p in (out_dir / "quotient").rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT, help="output root (default: the repo)")
    args = parser.parse_args(argv)
    written = generate(args.out)
    print(f"generated {len(written)} files under {args.out / 'quotient'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
