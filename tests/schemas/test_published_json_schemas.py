import json

from schemas.jsonschema import PUBLISHED, SCHEMA_DIR, render


def test_published_schemas_match_the_models() -> None:
    stale = [name for name in PUBLISHED if not (SCHEMA_DIR / f"{name}.json").exists()
             or (SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8") != render(name)]
    assert not stale, f"schemas/json is out of date for {stale}: run `python -m schemas.jsonschema`"


def test_run_requested_schema_accepts_both_workflow_formats() -> None:
    schema = json.loads((SCHEMA_DIR / "RunRequested.json").read_text(encoding="utf-8"))
    graph = schema["properties"]["graph"]
    refs = {option["$ref"].rsplit("/", 1)[-1] for option in graph["oneOf"]} if "oneOf" in graph else set()
    assert refs == {"Graph", "TemplateWorkflow"}, graph
    assert schema["required"] == ["graph"]
