"""Signature checks refuse odd bytes by shape, as a bad signature (401), never as an error of ours (500)."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from gateway.signatures import SignatureInvalid, check_hmac_sha256, check_stripe

SECRET = "whsec_" + "7" * 24
BODY = b'{"id": "evt_1"}'


def stripe_header(at: int, body: bytes = BODY) -> str:
    return f"t={at},v1=" + hmac.new(SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


def test_a_good_stripe_signature_passes() -> None:
    check_stripe(BODY, stripe_header(int(time.time())), SECRET)


@pytest.mark.parametrize("header", [
    "t=²,v1=" + "a" * 64,  # "²".isdigit() is true, int("²") is not
    "t=" + "9" * 5000 + ",v1=" + "a" * 64,  # past int()'s digit limit
    f"t={int(time.time())},v1=é" + "a" * 63,  # compare_digest refuses non-ASCII text
    f"t={int(time.time())},v1=",
    "t=,v1=",
    "garbage",
    "t=١٢٣,v1=" + "a" * 64,  # Arabic-Indic digits
])
def test_odd_stripe_headers_are_invalid_signatures(header: str) -> None:
    with pytest.raises(SignatureInvalid):
        check_stripe(BODY, header, SECRET)


@pytest.mark.parametrize("value", ["sha256=é" + "0" * 63, "²" * 64, "sha256=" + "0" * 5000, "not hex", "sha256="])
def test_odd_hmac_headers_are_invalid_signatures(value: str) -> None:
    with pytest.raises(SignatureInvalid):
        check_hmac_sha256(BODY, "X-Signature", value, SECRET)


def test_a_good_hmac_passes_in_either_case_with_or_without_prefix() -> None:
    digest = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    for value in (digest, digest.upper(), f"sha256={digest}"):
        check_hmac_sha256(BODY, "X-Signature", value, SECRET)
