"""Wait steps' resume tokens: `<runId>.<stepId>.<attempt>.<mac>`, the mac derived from the run's secret seed.

The token is the only credential a resume URL needs, so it must be unguessable: the mac is an HMAC of where it
points under a seed only the run's record holds (never shown in a view or an event). It names its run, so the
gateway checks it with one read and no index of tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

RESUME_PATH = "/v1/resume/"
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})\.([1-9][0-9]{0,5})\.([0-9a-f]{40})$")


@dataclass(frozen=True)
class ResumeToken:
    run_id: str
    step_id: str
    attempt: int
    mac: str


def _mac(seed: str, run_id: str, step_id: str, attempt: int) -> str:
    return hmac.new(seed.encode(), f"resume/{run_id}/{step_id}/{attempt}".encode(), hashlib.sha256).hexdigest()[:40]


def resume_token(seed: str, run_id: str, step_id: str, attempt: int) -> str:
    return f"{run_id}.{step_id}.{attempt}.{_mac(seed, run_id, step_id, attempt)}"


def resume_path(seed: str, run_id: str, step_id: str, attempt: int) -> str:
    return RESUME_PATH + resume_token(seed, run_id, step_id, attempt)


def parse_resume_token(token: str) -> ResumeToken | None:
    match = _TOKEN.match(token)
    if match is None:
        return None
    return ResumeToken(match.group(1), match.group(2), int(match.group(3)), match.group(4))


def token_matches(seed: str, token: ResumeToken) -> bool:
    """Whether the token was made from this seed (a run without a seed has no valid token)."""
    return bool(seed) and hmac.compare_digest(_mac(seed, token.run_id, token.step_id, token.attempt), token.mac)
