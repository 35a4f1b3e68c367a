"""The server the CLI calls when no ``--server`` is given."""

from __future__ import annotations

from service.channel import default_server
from service.config import DEFAULT_ADDRESS


def test_the_default_server_is_the_local_one() -> None:
    assert default_server({}) == DEFAULT_ADDRESS == "localhost:50051"
    assert default_server({"QUOTIENT_SERVER": "  "}) == DEFAULT_ADDRESS


def test_quotient_server_names_the_default_server() -> None:
    env = {"QUOTIENT_SERVER": " 10.0.0.5:6000,10.0.0.6:6000 "}
    assert default_server(env) == "10.0.0.5:6000,10.0.0.6:6000"
