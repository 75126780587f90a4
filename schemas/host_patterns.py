"""Host patterns of a credential's fence (`allowedHosts`): where its value may be sent.

A pattern is a host name (`api.notion.com`), `*.` and a domain for the names below it (`*.slack.com`, which does not
match `slack.com` itself), or an address (`127.0.0.1`, `[::1]`), each with an optional `:port`. Without a port any port
of that host matches: the host is what is trusted. The gateway checks and normalises them (422 naming the entry);
the engine matches them against every URL a step connects to (engine/outbound_policy.py `fence_refusal`).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit
from dataclasses import dataclass

MAX_ALLOWED_HOSTS = 50
_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?")
_PORT = re.compile(r"[0-9]{1,5}")


@dataclass(frozen=True)
class HostPattern:
    host: str  # a lowercase name, the domain of a wildcard, or an address as ipaddress writes it
    port: int | None = None
    subdomains: bool = False  # `*.host`
    address: bool = False

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.address and ":" in self.host else self.host
        return f"{'*.' if self.subdomains else ''}{host}{f':{self.port}' if self.port is not None else ''}"


def parse_host_pattern(text: str) -> HostPattern:
    """The pattern `text` means; a ValueError says what is wrong with it, for a user to act on."""
    entry = text.strip().lower()
    if not entry:
        raise ValueError("empty: give a host name such as api.example.com")
    if "://" in entry or any(c in entry for c in "/?#@ \t"):
        raise ValueError(f"{text!r} is not a host: give only the host (and optionally :port), "
                         "without a scheme, path or spaces, e.g. api.example.com")
    host, port = _split_port(entry, text)
    if host.startswith("*."):
        domain = _name(host[2:], text)
        if domain.count(".") < 1:
            raise ValueError(f"{text!r} would match every name under a top-level domain; name a domain, "
                             "e.g. *.example.com")
        return HostPattern(domain, port, subdomains=True)
    if "*" in host:
        raise ValueError(f"{text!r}: '*' is allowed only as a leading '*.' before a domain, e.g. *.example.com")
    try:
        return HostPattern(str(ipaddress.ip_address(host)), port, address=True)
    except ValueError:
        pass
    return HostPattern(_name(host, text), port)


def normalise_host_pattern(text: str) -> str:
    """The pattern as it is stored and listed (lowercase, addresses in one spelling)."""
    return str(parse_host_pattern(text))


def _split_port(entry: str, text: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: an IPv6 address is written [address] or [address]:port")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{text!r}: {host!r} in brackets is not an IPv6 address") from None
        return host, _port(rest[1:], text) if rest else None
    if entry.count(":") > 1:  # a bare IPv6 address; with a port it needs brackets
        return entry, None
    host, colon, port = entry.partition(":")
    return host, _port(port, text) if colon else None


def _port(text: str, entry: str) -> int:
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        raise ValueError(f"{entry!r}: the port must be a number from 1 to 65535")
    return int(text)


def _name(host: str, text: str) -> str:
    try:
        # IDNA, so a pattern and a URL's host (which aiohttp sends as punycode) are compared in one spelling.
        name = host.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{text!r} is not a valid host name") from None
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise ValueError(f"{text!r} is not a valid host name (letters, digits and '-', in labels joined by dots)")
    return name


def fence_of_url(value: str) -> list[str] | None:
    """The fence a URL-valued credential (a webhook URL) suggests: its own host, with its port unless the scheme's
    default. None when `value` is not an http(s) URL."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme.lower() == "https" else 80
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        return [normalise_host_pattern(host if port in (None, default) else f"{host}:{port}")]
    except ValueError:
        return None
