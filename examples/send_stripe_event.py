"""Send a webhook a Stripe test event, signed as Stripe signs it: the `Stripe-Signature` header
`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the endpoint's signing secret (docs/API.md,
Webhooks). The event is a `payment_intent.succeeded` for `--amount` (in cents) and `--currency`.

    python examples/send_stripe_event.py http://127.0.0.1:8080/v1/hooks/<hookId> --secret whsec_…

The secret is `--secret`, else STRIPE_SIGNING_SECRET. Each call sends a new event id unless `--event-id` is
given: send the same id twice to see the second one start nothing. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request


def stripe_signature(body: bytes, secret: str, at: int | None = None) -> str:
    timestamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(event_id: str, amount: int, currency: str) -> bytes:
    return json.dumps({
        "id": event_id, "object": "event", "type": "payment_intent.succeeded",
        "data": {"object": {"id": f"pi_{event_id.removeprefix('evt_')}", "object": "payment_intent",
                            "amount": amount, "currency": currency}},
    }).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("url", help="the webhook's URL (triggers[].url; the builder shows it on the trigger)")
    parser.add_argument("--secret", help="the signing secret (whsec_…); default: STRIPE_SIGNING_SECRET")
    parser.add_argument("--amount", type=int, default=4200, help="in the currency's smallest unit (4200 = 42.00)")
    parser.add_argument("--currency", default="eur")
    parser.add_argument("--event-id", default=None, help="default: a new evt_… each time")
    args = parser.parse_args(argv)
    secret = args.secret or os.environ.get("STRIPE_SIGNING_SECRET")
    if not secret:
        print("give the signing secret with --secret or STRIPE_SIGNING_SECRET", file=sys.stderr)
        return 2
    body = event(args.event_id or f"evt_{secrets.token_hex(8)}", args.amount, args.currency)
    request = urllib.request.Request(args.url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Stripe-Signature": stripe_signature(body, secret)})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(f"HTTP {response.status}: {response.read().decode()}")
            return 0
    except urllib.error.HTTPError as refused:
        print(f"HTTP {refused.code}: {refused.read().decode()}", file=sys.stderr)
        return 1
    except urllib.error.URLError as error:
        print(f"cannot reach {args.url}: {error.reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
