"""The code node's declaration: its config checked by the compiler (a 422 names the field), and what the builder
is served for it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from schemas import REGISTRY, Workflow, WorkflowInvalid, compile_workflow
from schemas.node_types.code import DEFAULT_CODE, MAX_CODE_BYTES

WORKFLOW: TypeAdapter[Any] = TypeAdapter(Workflow)


def graph(config: dict[str, Any]) -> Any:
    return WORKFLOW.validate_python({
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            {"id": "code_1", "type": "code", "position": {"x": 0, "y": 0}, "data": {"label": "Code", "config": config}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "code_1"}],
    })


def issues_of(config: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(graph(config))
    return [(issue.field, issue.reason) for issue in caught.value.issues]


def test_a_code_node_compiles_with_defaults() -> None:
    dag = compile_workflow(graph({"code": "return 1;"}))
    [step] = [s for s in dag.steps if s.type == "code"]
    assert step.config["code"] == "return 1;"


def test_code_up_to_64_kib_is_accepted() -> None:
    compile_workflow(graph({"code": "x" * MAX_CODE_BYTES}))
    compile_workflow(graph({"code": "é" * (MAX_CODE_BYTES // 2)}))  # two bytes each: exactly 64 KiB


@pytest.mark.parametrize("code", ["x" * (MAX_CODE_BYTES + 1), "é" * (MAX_CODE_BYTES // 2 + 1), "💥" * 20_000])
def test_code_over_64_kib_is_refused_naming_the_field(code: str) -> None:
    [(field, reason)] = issues_of({"code": code})
    assert field == "graph.nodes[1].data.config.code"
    assert "65536" in reason.replace(",", ""), reason


@pytest.mark.parametrize(("config", "field", "reason_part"), [
    ({"code": ""}, "graph.nodes[1].data.config.code", "at least 1 character"),
    ({"code": "   \n "}, "graph.nodes[1].data.config.code", "is empty"),
    ({}, "graph.nodes[1].data.config.code", "Field required"),
    ({"code": "return 1;", "language": "python"}, "graph.nodes[1].data.config.language", "'javascript'"),
    ({"code": "return 1;", "timeoutMs": 0}, "graph.nodes[1].data.config.timeoutMs", "greater than or equal to 1"),
    ({"code": "return 1;", "timeoutMs": 30_001}, "graph.nodes[1].data.config.timeoutMs", "less than or equal to 30000"),
    ({"code": "return 1;", "memoryMb": 7}, "graph.nodes[1].data.config.memoryMb", "greater than or equal to 8"),
    ({"code": "return 1;", "memoryMb": 257}, "graph.nodes[1].data.config.memoryMb", "less than or equal to 256"),
])
def test_bad_configs_name_the_field(config: dict[str, Any], field: str, reason_part: str) -> None:
    [(found, reason)] = issues_of(config)
    assert found == field and reason_part in reason, (found, reason)


def test_the_builder_gets_a_code_editor_and_error_handling() -> None:
    node_type = REGISTRY.get("code")
    assert node_type is not None
    info = node_type.info()
    assert (info.kind, info.ui.errorHandling, info.templatedFields, info.credentialFields) == ("action", True, [], [])
    assert info.ui.fields["code"].widget == "code" and not info.ui.fields["code"].templated
    assert info.ui.defaults == {"language": "javascript", "code": DEFAULT_CODE, "timeoutMs": 1000, "memoryMb": 64}
    help_text = info.ui.fields["code"].help or ""
    assert all(name in help_text for name in ("payload", "inputs", "steps", "loop", "console.log", "getCredential"))
    schema = info.configSchema["properties"]
    assert schema["language"]["enum"] == ["javascript"], "the builder's select reads its options from enum"
    assert (schema["timeoutMs"]["default"], schema["memoryMb"]["default"]) == (1000, 64)


def chain(code: str) -> Any:
    """Start → a → b → the code step."""
    return WORKFLOW.validate_python({
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}, "data": {"label": "Start"}},
            *({"id": n, "type": "set", "position": {"x": 0, "y": 0}, "data": {"label": n, "config": {"values": {"v": 1}}}}
              for n in ("a", "b-2")),
            {"id": "code_1", "type": "code", "position": {"x": 0, "y": 0},
             "data": {"label": "Code", "config": {"code": code}}},
        ],
        "edges": [{"id": "e1", "source": "start", "target": "a"}, {"id": "e2", "source": "a", "target": "b-2"},
                  {"id": "e3", "source": "b-2", "target": "code_1"}],
    })


@pytest.mark.parametrize(("code", "reads"), [
    ("return payload;", []),
    ("return steps.a.output.v;", ["a"]),
    ("return [steps.a.output, steps['b-2'].output];", ["a", "b-2"]),
    ("return Object.keys(steps);", None),  # every earlier step
    ("const name = 'a'; return steps[name];", None),
    ("return steps?.a;", None),
    ("return steps.a.output.v + arguments[2].a.output.v;", None),  # arguments reach steps without naming it
])
def test_a_code_steps_dispatch_carries_the_steps_it_names(code: str, reads: list[str] | None) -> None:
    dag = compile_workflow(chain(code))
    assert dag.step("code_1").reads == reads
