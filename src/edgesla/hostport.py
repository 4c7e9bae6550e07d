"""``HOST:PORT`` as every listen address and peer of edgesla is written.

    parse_host_port("127.0.0.1:9830")              -> ("127.0.0.1", 9830)
    parse_host_port("[::1]:9830")                   -> ("::1", 9830)
    parse_host_port(":9830", every_address=True)    -> ("0.0.0.0", 9830)

IPv6 addresses are written in brackets (RFC 3986), so the port is never ambiguous; a bare
``::1:9830`` is refused with that fix. ``:PORT`` means every address only where a listen
address allows it (``every_address``), as node_exporter's ``--web.listen-address`` does.
"""

from __future__ import annotations

__all__ = ["EVERY_ADDRESS", "parse_host_port"]

#: what ``:PORT`` binds to
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - ":PORT" asks for every address


def parse_host_port(text: str, *, every_address: bool = False) -> tuple[str, int]:
    """(host, port) of ``text``; ValueError saying what is wrong and how to write it."""
    example = "e.g. 127.0.0.1:9830 or [::1]:9830" + (" or :9830" if every_address else "")
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ValueError(f"{text!r} is not HOST:PORT ({example})")
    if host.startswith("[") != host.endswith("]"):
        raise ValueError(f"{text!r}: unbalanced brackets around the host ({example})")
    if host.startswith("["):
        host = host[1:-1]
        if not host:
            raise ValueError(f"{text!r}: empty IPv6 address in brackets ({example})")
    elif ":" in host:
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, [{host}]:{port}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535 ({example})")
    if not host:
        if not every_address:
            raise ValueError(f"{text!r}: the host is missing ({example})")
        host = EVERY_ADDRESS
    return host, int(port)
