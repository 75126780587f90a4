"""Fields whose widget is `expression` (an If's condition): one expression, with or without `{{ }}`.

The rule lives here because the compiler (a 422 before any run) and the engine (evaluating it) must agree, and
actors share only `schemas/`.
"""

from __future__ import annotations

import re

# One whole `{{ … }}` and nothing else around it but spaces.
WHOLE_TEMPLATE = re.compile(r"^\s*\{\{((?:(?!\}\}).)*)\}\}\s*$", re.S)

MIXED_EXPRESSION = ("a condition is one expression: write it whole inside one {{ }} (as {{ amount > 100 }}) or "
                    "without braces (as amount > 100), not as text around {{ }}")


def expression_source(text: str) -> str | None:
    """The expression a condition field holds (`amount > 100` for both spellings), or None when it mixes text
    with `{{ }}`: `{{ amount }} > 100` renders as the text "20 > 100", which is true."""
    whole = WHOLE_TEMPLATE.match(text)
    if whole is not None:
        return whole.group(1).strip()
    if "{{" in text or "}}" in text:
        return None
    return text.strip()
