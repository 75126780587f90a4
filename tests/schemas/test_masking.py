"""Scrubbing known secrets from what steps report, in the forms they take when echoed."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
from jinja2 import Environment

from schemas.masking import MASK, Scrubber, is_sensitive, loggable_url, mask_query

SECRET = "ab/cd ef&gh+ij/kl"


def test_every_url_encoding_of_a_secret_is_scrubbed() -> None:
    jinja_urlencode = Environment().from_string("{{ s|urlencode }}").render(s=SECRET)
    assert "/" in jinja_urlencode, "Jinja's urlencode keeps slashes, as urllib's quote() does"
    scrub = Scrubber([], known=[SECRET])
    for form in (SECRET, jinja_urlencode, quote(SECRET), quote(SECRET, safe=""), quote_plus(SECRET)):
        assert scrub.text(f"echo: {form}.") == f"echo: {MASK}."


def test_a_url_credential_is_scrubbed_with_or_without_its_trailing_slash_and_when_cut() -> None:
    hook = "https://hooks.slack.com/services/T0001/B0002/XyZsecretToken123/"
    scrub = Scrubber([], known=[hook])
    for shown in (hook, hook.rstrip("/"), loggable_url(hook), mask_query(hook.rstrip("/")),
                  "POST https://hooks.slack.com/services/T0001/B0002/XyZsecretToken123 → HTTP 404"):
        assert "XyZsecretToken123" not in scrub.text(shown), shown


@pytest.mark.parametrize("name", ["auth", "x-auth", "sig", "pwd", "jwt", "session", "sessionId", "X-Session-Token",
                                  "auth_type", "api_key", "Signature"])
def test_names_that_carry_secrets_are_sensitive(name: str) -> None:
    assert is_sensitive(name)
    assert loggable_url(f"https://api.example.com/x?{name}=s3cr3t-value") == f"https://api.example.com/x?{name}={quote_plus(MASK)}"


@pytest.mark.parametrize("name", ["author", "design", "signal", "assignee", "Content-Type", "title", "order"])
def test_names_that_merely_contain_the_letters_are_not(name: str) -> None:
    assert not is_sensitive(name)
