"""Where an HTTP step may connect: the outbound guard's rules as pure functions (engine/outbound_guard.py applies
them to every connection aiohttp makes, redirects included).

Always refused, whatever the settings: cloud metadata names and addresses, link-local addresses and the
unspecified address (0.0.0.0/8, ::), which reaches this machine. With `block_private` (the
AUTOMATEOS_BLOCK_PRIVATE_NETWORKS setting) also loopback, private, shared (CGNAT), multicast and reserved ranges.
The allowlist (AUTOMATEOS_OUTBOUND_ALLOW) reopens the second group only, never the first.

Beside those, a step that sends a fenced credential (its `allowedHosts`) may connect only to the hosts its fence
names (`fence_refusal`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from schemas.host_patterns import parse_host_pattern

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCK_PRIVATE_VARIABLE = "AUTOMATEOS_BLOCK_PRIVATE_NETWORKS"
ALLOW_VARIABLE = "AUTOMATEOS_OUTBOUND_ALLOW"

# Names the clouds give their instance metadata services (GCP, AWS); their addresses are in _ALWAYS below.
METADATA_NAMES = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal",
})


class Rule(NamedTuple):
    what: str  # "a loopback address"
    always: bool  # no setting reopens it

    def why(self) -> str:
        if self.always:
            return "always blocked"
        return f"blocked because {BLOCK_PRIVATE_VARIABLE}=true; allow it with {ALLOW_VARIABLE}"


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


METADATA = Rule("a cloud metadata address", always=True)
METADATA_NAME = Rule("a cloud metadata name", always=True)
LINK_LOCAL = Rule("a link-local address", always=True)
UNSPECIFIED = Rule("the unspecified address, which reaches this machine", always=True)
LOOPBACK = Rule("a loopback address", always=False)
PRIVATE = Rule("a private network address", always=False)
SHARED = Rule("a shared (carrier-grade NAT) address", always=False)
MULTICAST = Rule("a multicast address", always=False)
RESERVED = Rule("a reserved or special-purpose address", always=False)

# First match wins, so a metadata address is named as such, not as the link-local or CGNAT address it also is.
_ALWAYS: tuple[tuple[Rule, tuple[IPNetwork, ...]], ...] = (
    # AWS, GCP, Azure, OCI and most others; AWS ECS task credentials; AWS over IPv6; Alibaba; OCI's older one.
    (METADATA, _networks("169.254.169.254/32", "169.254.170.2/32", "fd00:ec2::254/128", "100.100.100.200/32",
                         "192.0.0.192/32")),
    (LINK_LOCAL, _networks("169.254.0.0/16", "fe80::/10")),
    (UNSPECIFIED, _networks("0.0.0.0/8", "::/128")),
)
_PRIVATE: tuple[tuple[Rule, tuple[IPNetwork, ...]], ...] = (
    (LOOPBACK, _networks("127.0.0.0/8", "::1/128")),
    (PRIVATE, _networks("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")),
    (SHARED, _networks("100.64.0.0/10")),
    (MULTICAST, _networks("224.0.0.0/4", "ff00::/8")),
    (RESERVED, _networks("192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
                         "240.0.0.0/4", "::/8", "100::/64", "2001:db8::/32", "fec0::/10", "64:ff9b:1::/48")),
)
# IPv6 addresses that carry an IPv4 one, judged as that address: NAT64's well-known prefix (IPv4-mapped
# ::ffff:0:0/96 is unwrapped by ipaddress itself).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv4-compatible addresses (deprecated, RFC 4291 2.5.5.1), which some stacks still route to the IPv4 address.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# What inet_aton may read as an IPv4 address in a legacy spelling: 127.1, 0x7f000001, 2130706433, 0177.0.0.1.
_LEGACY_IPV4 = re.compile(r"[0-9][0-9a-fx.]*", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*")


@dataclass(frozen=True)
class OutboundPolicy:
    """The settings side of the rules. The default refuses only what is always refused."""

    block_private: bool = False
    allow_networks: tuple[IPNetwork, ...] = ()
    allow_hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, block_private: bool, allow: str) -> OutboundPolicy:
        """`allow` as AUTOMATEOS_OUTBOUND_ALLOW has it: CIDRs, addresses or host names, comma-separated.
        A ValueError names the entry it cannot read."""
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (part.strip() for part in allow.split(",")):
            if not entry:
                continue
            address = parse_address(entry)
            if address is not None:
                networks.append(ipaddress.ip_network(address))
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = normalise_name(entry)
            if not _HOST_NAME.fullmatch(name):
                raise ValueError(f"{entry!r} is neither a CIDR, an address nor a host name")
            hosts.add(name)
        return cls(block_private=block_private, allow_networks=tuple(networks), allow_hosts=frozenset(hosts))

    def allows(self, host: str, address: IPAddress) -> bool:
        """The allowlist names this host or contains this address (it reopens private networks, nothing else)."""
        return normalise_name(host) in self.allow_hosts or any(address in network for network in self.allow_networks)


def normalise_name(host: str) -> str:
    return host.lower().rstrip(".")


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (::ffff:127.0.0.1, 64:ff9b::7f00:1, ::169.254.169.254), else the address
    itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if address in _IPV4_COMPATIBLE and int(address) > 1:  # ::169.254.169.254; but :: and ::1 are IPv6's own
            return ipaddress.IPv4Address(int(address))
    return address


def parse_address(host: str) -> IPAddress | None:
    """The address a numeric URL host means, in any spelling the system resolver accepts (127.0.0.1, 127.1,
    0x7f000001, 2130706433, 0177.0.0.1, [::ffff:127.0.0.1], fe80::1%25eth0), unwrapped; None for a name."""
    text = host.removeprefix("[").removesuffix("]").rstrip(".").replace("%25", "%")
    try:
        return unwrap(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _LEGACY_IPV4.fullmatch(text):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text))
    except OSError:
        return None


def address_rule(address: IPAddress, policy: OutboundPolicy, allowed: bool = False) -> Rule | None:
    """The rule refusing this address, or None. `allowed`: the allowlist covers it (or its host)."""
    address = unwrap(address)
    for rule, networks in _ALWAYS:
        if any(address in network for network in networks):
            return rule
    if not policy.block_private or allowed:
        return None
    for rule, networks in _PRIVATE:
        if any(address in network for network in networks):
            return rule
    return None


def host_refusal(host: str, policy: OutboundPolicy) -> str | None:
    """Why a URL's host is refused before any lookup (a metadata name, or a numeric host the rules refuse,
    however it is spelled), or None: a name is then judged by what it resolves to (`resolved_refusal`)."""
    if normalise_name(host) in METADATA_NAMES:
        return f"{normalise_name(host)} is {METADATA_NAME.what} ({METADATA_NAME.why()})"
    address = parse_address(host)
    if address is None:
        return None
    rule = address_rule(address, policy, policy.allows(host, address))
    if rule is None:
        return None
    shown = f"{address} is" if host.strip("[]") == str(address) else f"{host} is {address},"
    return f"{shown} {rule.what} ({rule.why()})"


def resolved_refusal(host: str, address: IPAddress, policy: OutboundPolicy) -> str | None:
    """Why connecting to `address`, which the name `host` resolved to, is refused, or None."""
    rule = address_rule(address, policy, policy.allows(host, unwrap(address)))
    if rule is None:
        return None
    return f"{normalise_name(host)} resolves to {unwrap(address)}, {rule.what} ({rule.why()})"


def fence_refusal(fences: Mapping[str, Sequence[str]], host: str, port: int, shown: str) -> str | None:
    """Why a request to `host`:`port` may not carry the fenced credentials it uses, or None.

    `fences`: credential name -> its allowedHosts (schemas/host_patterns.py); `shown`: the host as the user should
    read it. The URL's host is matched as written (a name against names, an address against addresses in any
    spelling), never by what it resolves to: the fence trusts a name, not whoever answers for it."""
    name = normalise_name(host)
    address = parse_address(host)
    for credential, patterns in sorted(fences.items()):
        if not any(_fence_allows(pattern, name, address, port) for pattern in patterns):
            return f"credential '{credential}' may only be sent to {', '.join(patterns)}; this request goes to {shown}"
    return None


def _fence_allows(text: str, name: str, address: IPAddress | None, port: int) -> bool:
    try:
        pattern = parse_host_pattern(text)
    except ValueError:
        return False  # stored by an older or broken writer: match nothing rather than guess
    if pattern.port is not None and pattern.port != port:
        return False
    if pattern.address:
        return address is not None and address == parse_address(pattern.host)
    if address is not None:
        return False
    return name.endswith("." + pattern.host) if pattern.subdomains else name == pattern.host
