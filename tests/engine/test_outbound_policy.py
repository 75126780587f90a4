"""The outbound guard's rules, on every spelling of an address we know of."""

from __future__ import annotations

import ipaddress
import re

import pytest

from engine.outbound_policy import OutboundPolicy, host_refusal, parse_address, resolved_refusal

DEFAULT = OutboundPolicy()
BLOCK_PRIVATE = OutboundPolicy(block_private=True)
# An allowlist as wide as it gets: it still opens nothing that is always blocked.
ALLOW_ALL = OutboundPolicy.parse(True, "0.0.0.0/0, ::/0, 169.254.169.254, metadata, metadata.google.internal")
ALWAYS = "(always blocked)"
PRIVATE_SUFFIX = ("(blocked because AUTOMATEOS_BLOCK_PRIVATE_NETWORKS=true; allow it with "
                  "AUTOMATEOS_OUTBOUND_ALLOW)")


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.1", "127.0.1", "0x7f000001", "0X7F000001", "2130706433", "0177.0.0.1", "017700000001",
    "0x7f.0.0.1", "127.0.0.1.", "::ffff:127.0.0.1", "::ffff:7f00:1", "[::ffff:127.0.0.1]", "64:ff9b::7f00:1",
])
def test_every_spelling_of_loopback_is_read_as_127_0_0_1(host: str) -> None:
    assert parse_address(host) == ipaddress.IPv4Address("127.0.0.1")


@pytest.mark.parametrize("host", ["localhost", "example.com", "0xface.bad", "deadbeef", "1.2.3.4 x", "1e5", ""])
def test_names_are_not_addresses(host: str) -> None:
    assert parse_address(host) is None


def test_ipv6_addresses_are_read_with_their_zone() -> None:
    assert parse_address("fe80::1%25eth0") == ipaddress.IPv6Address("fe80::1%eth0")
    assert parse_address("[fd00:ec2::254]") == ipaddress.IPv6Address("fd00:ec2::254")


@pytest.mark.parametrize(("host", "reason"), [
    ("169.254.169.254", "169.254.169.254 is a cloud metadata address"),
    ("0xa9fea9fe", "0xa9fea9fe is 169.254.169.254, a cloud metadata address"),
    ("2852039166", "2852039166 is 169.254.169.254, a cloud metadata address"),
    ("169.254.43518", "169.254.43518 is 169.254.169.254, a cloud metadata address"),
    ("::ffff:169.254.169.254", "::ffff:169.254.169.254 is 169.254.169.254, a cloud metadata address"),
    ("64:ff9b::a9fe:a9fe", "64:ff9b::a9fe:a9fe is 169.254.169.254, a cloud metadata address"),
    ("[::169.254.169.254]", "[::169.254.169.254] is 169.254.169.254, a cloud metadata address"),  # IPv4-compatible
    ("fd00:ec2::254", "fd00:ec2::254 is a cloud metadata address"),
    ("[fd00:ec2::254]", "fd00:ec2::254 is a cloud metadata address"),
    ("100.100.100.200", "100.100.100.200 is a cloud metadata address"),
    ("169.254.170.2", "169.254.170.2 is a cloud metadata address"),
    ("metadata.google.internal", "metadata.google.internal is a cloud metadata name"),
    ("METADATA.Google.Internal.", "metadata.google.internal is a cloud metadata name"),
    ("metadata", "metadata is a cloud metadata name"),
    ("instance-data", "instance-data is a cloud metadata name"),
    ("169.254.1.1", "169.254.1.1 is a link-local address"),
    ("fe80::1", "fe80::1 is a link-local address"),
    ("fe80::1%25eth0", "fe80::1%25eth0 is fe80::1%eth0, a link-local address"),
    ("0.0.0.0", "0.0.0.0 is the unspecified address, which reaches this machine"),
    ("0", "0 is 0.0.0.0, the unspecified address, which reaches this machine"),
    ("::", ":: is the unspecified address, which reaches this machine"),
])
@pytest.mark.parametrize("policy", [DEFAULT, BLOCK_PRIVATE, ALLOW_ALL], ids=["default", "block-private", "allow-all"])
def test_metadata_link_local_and_unspecified_are_always_refused(host: str, reason: str, policy: OutboundPolicy) -> None:
    assert host_refusal(host, policy) == f"{reason} {ALWAYS}"


RESERVED = "a reserved or special-purpose address"
PRIVATE_HOSTS = [
    ("127.0.0.1", "a loopback address"), ("0x7f000001", "a loopback address"), ("2130706433", "a loopback address"),
    ("127.1", "a loopback address"), ("127.8.9.10", "a loopback address"), ("::1", "a loopback address"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("10.0.0.5", "a private network address"), ("172.16.3.4", "a private network address"),
    ("172.31.255.255", "a private network address"), ("192.168.1.1", "a private network address"),
    ("fc00::1", "a private network address"), ("fd12:3456::1", "a private network address"),
    ("::ffff:10.0.0.5", "a private network address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("224.0.0.1", "a multicast address"), ("ff02::1", "a multicast address"),
    ("240.0.0.1", RESERVED), ("255.255.255.255", RESERVED), ("192.0.2.7", RESERVED), ("2001:db8::1", RESERVED),
]


@pytest.mark.parametrize(("host", "what"), PRIVATE_HOSTS)
def test_private_networks_are_refused_only_when_blocked(host: str, what: str) -> None:
    reason = host_refusal(host, BLOCK_PRIVATE)
    assert reason is not None and reason.endswith(f"{what} {PRIVATE_SUFFIX}")
    assert host_refusal(host, DEFAULT) is None


def test_a_refusal_names_the_host_its_address_and_the_rule() -> None:
    assert host_refusal("0x7f000001", BLOCK_PRIVATE) == f"0x7f000001 is 127.0.0.1, a loopback address {PRIVATE_SUFFIX}"
    assert host_refusal("10.0.0.5", BLOCK_PRIVATE) == f"10.0.0.5 is a private network address {PRIVATE_SUFFIX}"
    localhost = resolved_refusal("localhost.", ipaddress.ip_address("127.0.0.1"), BLOCK_PRIVATE)
    assert localhost == f"localhost resolves to 127.0.0.1, a loopback address {PRIVATE_SUFFIX}"


@pytest.mark.parametrize("host", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "100.128.0.1"])
def test_public_addresses_are_never_refused(host: str) -> None:
    assert host_refusal(host, BLOCK_PRIVATE) is None


def test_names_are_judged_by_what_they_resolve_to() -> None:
    assert host_refusal("api.example.com", BLOCK_PRIVATE) is None
    private = ipaddress.ip_address("10.1.2.3")
    assert resolved_refusal("api.example.com", private, DEFAULT) is None
    reason = resolved_refusal("api.example.com", private, BLOCK_PRIVATE)
    assert reason == f"api.example.com resolves to 10.1.2.3, a private network address {PRIVATE_SUFFIX}"
    metadata = resolved_refusal("rebind.example.com", ipaddress.ip_address("::ffff:169.254.169.254"), DEFAULT)
    assert metadata == f"rebind.example.com resolves to 169.254.169.254, a cloud metadata address {ALWAYS}"


def test_the_allowlist_reopens_private_networks_by_cidr_address_or_name() -> None:
    policy = OutboundPolicy.parse(True, " 10.0.0.0/8, 127.0.0.1 ,Internal-API.corp., fd00:1::/32,,")
    for host in ("10.0.0.5", "10.255.0.1", "127.0.0.1", "0x7f000001", "fd00:1::5"):
        assert host_refusal(host, policy) is None, host
    assert host_refusal("127.0.0.2", policy) is not None
    assert host_refusal("192.168.0.1", policy) is not None
    assert resolved_refusal("internal-api.corp", ipaddress.ip_address("192.168.7.7"), policy) is None
    assert resolved_refusal("other.corp", ipaddress.ip_address("192.168.7.7"), policy) is not None
    # A named host is still never let through to metadata or link-local addresses.
    assert resolved_refusal("internal-api.corp", ipaddress.ip_address("169.254.169.254"), policy) is not None


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "not a host!", "a/b", "http://x.test"])
def test_an_unreadable_allowlist_entry_is_named(entry: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"{entry!r} is neither a CIDR")):
        OutboundPolicy.parse(False, f"10.0.0.0/8,{entry}")
