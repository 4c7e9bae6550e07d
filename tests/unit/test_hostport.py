"""HOST:PORT, one parser for every listen address (edgesla.hostport)."""

from __future__ import annotations

import pytest

from edgesla.hostport import EVERY_ADDRESS, parse_host_port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9831", ("127.0.0.1", 9831)),
        ("exporter.pop-01.example.net:9830", ("exporter.pop-01.example.net", 9830)),
        ("[::1]:9831", ("::1", 9831)),
        ("[2001:db8::7]:1", ("2001:db8::7", 1)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_parses(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected
    assert parse_host_port(text, every_address=True) == expected


def test_port_alone_means_every_address_only_where_allowed() -> None:
    assert parse_host_port(":9831", every_address=True) == (EVERY_ADDRESS, 9831)
    with pytest.raises(ValueError, match="the host is missing"):
        parse_host_port(":9831")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("9831", "is not HOST:PORT"),
        ("host:", "the port must be a number from 1 to 65535"),
        ("host:0", "from 1 to 65535"),
        ("host:99999", "from 1 to 65535"),
        ("host:http", "from 1 to 65535"),
        ("::1:9831", r"write an IPv6 address in brackets, \[::1\]:9831"),
        ("[::1:9831", "unbalanced brackets"),
        ("[]:9831", "empty IPv6 address"),
    ],
)
def test_refuses_with_the_fix(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_host_port(text)
