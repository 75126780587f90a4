"""Checking a webhook's signature: Stripe's scheme, and a plain HMAC-SHA256 of the body in a header."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

STRIPE_HEADER = "Stripe-Signature"
# Stripe's own default: an event signed longer ago than this is a replay.
STRIPE_TOLERANCE_S = 300
_UNIX_TIME = re.compile(r"[0-9]{1,12}", re.ASCII)
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


class SignatureInvalid(Exception):
    """The request is not from who it claims; the message says what is wrong (never a secret)."""


def check_stripe(body: bytes, header: str | None, secret: str, now: float | None = None) -> None:
    """`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">[,v1=…]`, within 5 minutes."""
    if not header:
        raise SignatureInvalid(f"the {STRIPE_HEADER} header is missing")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    # Checked by shape before use: `"²".isdigit()` is true and int() refuses 5,000 digits; compare_digest refuses
    # non-ASCII text. Odd bytes from a sender are a 401 like any bad signature, never an error of ours.
    signatures = [v for v in signatures if _HEX_SHA256.fullmatch(v)]
    if timestamp is None or not _UNIX_TIME.fullmatch(timestamp) or not signatures:
        raise SignatureInvalid(f"the {STRIPE_HEADER} header has no t= timestamp or no v1= signature")
    age = (time.time() if now is None else now) - int(timestamp)
    if abs(age) > STRIPE_TOLERANCE_S:
        raise SignatureInvalid(f"the signature's timestamp is {abs(age):.0f} s off; at most {STRIPE_TOLERANCE_S} s is accepted")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise SignatureInvalid("the signature does not match the body and the signing secret")


def check_hmac_sha256(body: bytes, header_name: str, value: str | None, secret: str) -> None:
    """The hex HMAC-SHA256 of the body, with or without a `sha256=` prefix (as GitHub sends it)."""
    if not value:
        raise SignatureInvalid(f"the {header_name} header is missing")
    given = value.strip().removeprefix("sha256=")
    if not _HEX_SHA256.fullmatch(given):
        raise SignatureInvalid(f"the {header_name} header is not a hex HMAC-SHA256 (64 hex digits, sha256= optional)")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise SignatureInvalid(f"the {header_name} signature does not match the body and the key")
