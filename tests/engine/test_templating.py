"""Template rendering rules, without a server: variables, step outputs, credentials, and the sandbox."""

from __future__ import annotations

import pytest

from engine.errors import StepFailed
from engine.templating import Renderer, credential_names

INPUTS = {"payload": {"title": "Launch", "events": [{"type": "open"}, {"type": "click"}]}, "databaseId": "db-42", "count": 3}
STEPS = {"fetch": {"output": {"status": 200, "body": {"id": 7, "items": [1, 2], "keys": "k"}}}}


def renderer() -> Renderer:
    return Renderer(INPUTS, STEPS, {"notionToken": "secret_n"})


def test_variables_of_every_kind() -> None:
    r = renderer()
    assert r.text("https://api.test/{{databaseId}}/{{ payload.title }}?n={{inputs.count}}", "url") == \
        "https://api.test/db-42/Launch?n=3"
    assert r.text("Bearer {{ getCredential('notionToken') }}", "headers.Authorization") == "Bearer secret_n"
    assert r.value({"id": "{{ steps.fetch.output.body.id }}", "items": "{{steps.fetch.output.body.items}}",
                    "say": "status {{steps.fetch.output.status}}", "keys": "{{ steps.fetch.output.body.keys }}",
                    "plain": 5}, "json_body") == {"id": 7, "items": [1, 2], "say": "status 200", "keys": "k", "plain": 5}
    assert r.text("{{ (inputs.count * 1400 / 100) | fixed(2) }} EUR", "url") == "42.00 EUR"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ payload.subtitle }}", "template variable 'payload.subtitle' is not defined (in url)"),
        ("{{ payload.subtitle }}", "payload has no field 'subtitle' (its fields: "),
        ("{{ payload.events.type }}", "payload.events is a list of 2 items, not an object: payload.events[0].type reads the first"),
        ("{{ payload.title.text }}", "payload.title is text, not an object"),
        ("x {{ missing }} y", "template variable 'missing' is not defined (in url)"),
        ("{{ steps.ghost.output.status }}", "template variable 'steps.ghost.output.status' is not defined (in url)"),
        ("{{ steps.ghost.output.status }}", "there is no output of step 'ghost' here: it is not a step before this "
                                            "one, or it has not run yet (steps with an output: fetch)"),
        # Inside a larger expression, the variable that is missing is named, not the whole expression.
        ("{{ payload.title ~ missing.part }}", "template variable 'missing.part' is not defined (in url)"),
        ("{{ 1 > 0 and payload.subtitle }}", "template variable 'payload.subtitle' is not defined (in url): payload "
                                            "has no field 'subtitle'"),
        ("{{ getCredential('absent') }}", "credential 'absent' is not defined"),
        ("{{ oops(", "template syntax error in url"),
        ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "nests brackets more than 64 deep"),  # was a RecursionError
        ("{{ getCredential('a b') }}", "a credential name is 1 to 64"),
    ],
)
def test_problems_fail_the_step_naming_what_is_wrong(template: str, message: str) -> None:
    with pytest.raises(StepFailed) as failure:
        credential_names([template])  # the worker looks for credentials first, then renders
        renderer().text(template, "url")
    assert message in failure.value.message


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ payload.__class__ }}",
        "{{ payload.items() }}",
        "{{ getCredential.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.system('touch /tmp/pwned') }}",
        "{% for x in range(10**8) %}{% endfor %}",
        "{{ 'a' * 100000000 }}",
        "{{ 9 ** 999999 }}",
        "{{ 4200 | fixed(99999) }}",
    ],
)
def test_sandbox_escapes_and_resource_bombs_are_refused(escape: str) -> None:
    with pytest.raises(StepFailed):
        renderer().text(escape, "url")


def test_credential_names_are_found_before_rendering() -> None:
    config = {"url": "https://x.test/?k={{ getCredential('a') }}", "headers": {"X": "{{getCredential(\"b\")}}"},
              "json_body": {"deep": ["{{ getCredential('c') }}"]}}
    assert credential_names(config) == {"a", "b", "c"}
    with pytest.raises(StepFailed, match="one quoted name"):
        credential_names({"url": "{{ getCredential(payload.name) }}"})


@pytest.mark.parametrize(
    "bomb",
    [
        "{{ 'a'*10000*1000 }}", "{{ [0]*10000*100 }}", "{{ 'a'|center(10000000) }}", "{{ '%10000000d' % 1 }}",
        "{{ '{:>10000000}'.format(1) }}", "{{ range(100000)|join('x'*100) }}", "{{ ('a'*10000)|replace('', 'x'*1000) }}",
        "{{ lipsum(2000) }}", "{{ ((10**100)**100)**100 }}", "{{ 'ab'|indent(10000000) }}", "{{ cycler(1) }}",
        "{% for i in range(3000) %}{% for j in range(3000) %}{% endfor %}{% endfor %}", "{{ ('x'*200000) ~ ('x'*200000) }}",
        "{{ payload.title.format }}", "{{ getCredential('notionToken')|list }}", "{{ '" + "x" * 9000 + "' }}",
    ],
)
def test_resource_bombs_are_refused_before_they_grow(bomb: str) -> None:
    with pytest.raises(StepFailed):
        renderer().text(bomb, "url")


def test_template_errors_quote_no_values_once_credentials_are_in_play() -> None:
    with pytest.raises(StepFailed) as failure:
        renderer().text("{{ getCredential('notionToken') ~ (1 / 0) }}", "url")
    assert failure.value.message == "the template in url failed: ZeroDivisionError"
    with pytest.raises(StepFailed) as failure:
        Renderer(INPUTS, STEPS, {}).text("{{ 1 / 0 }}", "url")
    assert failure.value.message.endswith("ZeroDivisionError: division by zero")


PAD = "p" * 200_000
TOO_BIG = "the value would be larger than 256 KiB"


@pytest.mark.timeout(20)  # not a timing assertion: a bomb that is built instead of refused would take minutes
@pytest.mark.parametrize("bomb", [
    "{{ ['a'*262144]*262144 }}", "{{ [['a'*262144]*1]*262144 }}", "{{ [0]*200000 }}", "{{ ('a'*200000) ~ ('b'*200000) }}",
    "{{ pad ~ pad }}", "{{ pad + pad }}", "{{ [pad] + [pad] }}", "{{ pad }}{{ pad }}", "{{ [pad, pad] }}",
    "{{ [pad, pad]|tojson }}", "{{ [pad, pad]|string }}", "{{ [pad, pad]|join }}", "{{ [[pad, pad]]|join }}",
    "{{ [pad, pad]|first }}", "{{ 'é' * 150000 }}", "{{ ('a,' * 100000).split(',') }}",
])
def test_values_are_capped_by_their_size_in_bytes_however_they_are_built(bomb: str) -> None:
    r = Renderer({"pad": PAD}, {}, {})
    for render in (r.text, r.value):
        with pytest.raises(StepFailed) as failure:
            render(bomb, "json_body.x")
        assert failure.value.message == f"the template in json_body.x is not allowed: {TOO_BIG}"


def test_values_under_the_cap_still_render() -> None:
    r = Renderer({"pad": PAD, "payload": {"b": 1, "a": [1, 2]}}, {}, {})
    assert r.value("{{ [0] * 1000 }}", "x") == [0] * 1000
    assert r.value("{{ pad ~ '!' }}", "x") == PAD + "!"
    assert r.text("{{ 'ab' * 3 }}-{{ [1] + [2] }}-{{ payload|tojson }}", "x") == 'ababab-[1, 2]-{"a": [1, 2], "b": 1}'
    assert r.value("{{ payload }}", "x") == {"b": 1, "a": [1, 2]}
    with pytest.raises(StepFailed, match="indent is not available"):
        r.text("{{ payload|tojson(100000) }}", "x")
