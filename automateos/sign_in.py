"""Signing a browser in without putting a token in an address: one-time sign-in links, and a new admin token.

A link carries a code the gateway makes on request of a token holder (`POST /v1/session/codes`); it works once,
within minutes (AUTOMATEOS_SIGN_IN_CODE_MINUTES), so the copy left in the browser's history or the terminal's
scrollback is worthless once used.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from schemas.auth import new_token

from .master_key import ENV_FILE, _write_env_line


class SignInLinkError(Exception):
    """The gateway made no sign-in link; the message says why."""


def sign_in_link(gateway: str, token: str | None, timeout: float = 10.0) -> str:
    """A new one-time sign-in link, as whoever `token` is."""
    if not token:
        raise SignInLinkError("no token: set AUTOMATEOS_TOKEN, or run where `make up` wrote AUTOMATEOS_ADMIN_TOKEN "
                              "into .env")
    request = urllib.request.Request(f"{gateway.rstrip('/')}/v1/session/codes", method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return str(json.loads(response.read())["url"])
    except urllib.error.HTTPError as error:
        raise SignInLinkError(f"the gateway refused to make a sign-in link (HTTP {error.code})"
                              + ("; is the token current?" if error.code == 401 else "")) from None
    except (urllib.error.URLError, OSError) as error:
        raise SignInLinkError(f"cannot reach the gateway at {gateway} ({error}); start it with `make up`") from None


def rotate_admin_token(env_file: Path = ENV_FILE) -> str:
    """A new admin token in .env (written atomically); returns what to tell the user, which never includes it."""
    _write_env_line(env_file, "AUTOMATEOS_ADMIN_TOKEN", new_token())
    return (f"✓ a new admin token is in {env_file.resolve()} (AUTOMATEOS_ADMIN_TOKEN).\n"
            "  A running gateway still takes the old one until it restarts: stop `automateos up` (Ctrl-C) and start "
            "it again, or restart every gateway with the new value. Every browser session signed in with the old "
            "token then ends; API tokens (`automateos tokens`) are unaffected.")
