"""Scrubbing known secrets from what steps report, in the forms they take when echoed."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from jinja2 import Environment

from schemas.masking import MASK, Scrubber

SECRET = "ab/cd ef&gh+ij/kl"


def test_every_url_encoding_of_a_secret_is_scrubbed() -> None:
    jinja_urlencode = Environment().from_string("{{ s|urlencode }}").render(s=SECRET)
    assert "/" in jinja_urlencode, "Jinja's urlencode keeps slashes, as urllib's quote() does"
    scrub = Scrubber([], known=[SECRET])
    for form in (SECRET, jinja_urlencode, quote(SECRET), quote(SECRET, safe=""), quote_plus(SECRET)):
        assert scrub.text(f"echo: {form}.") == f"echo: {MASK}."
