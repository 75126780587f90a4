import json

from schemas.jsonschema import PUBLISHED, SCHEMA_DIR, render


def test_published_schemas_match_the_models() -> None:
    stale = [name for name in PUBLISHED if not (SCHEMA_DIR / f"{name}.json").exists()
             or (SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8") != render(name)]
    assert not stale, f"schemas/json is out of date for {stale}: run `python -m schemas.jsonschema`"


def test_run_requested_schema_accepts_both_workflow_formats_or_a_saved_workflow() -> None:
    schema = json.loads((SCHEMA_DIR / "RunRequested.json").read_text(encoding="utf-8"))
    graph = schema["properties"]["graph"]
    # graph is optional now (a saved workflowId instead), so its formats sit beside null.
    formats = next(option for option in graph["anyOf"] if "oneOf" in option)["oneOf"]
    assert {option["$ref"].rsplit("/", 1)[-1] for option in formats} == {"Graph", "TemplateWorkflow"}, graph
    assert {"graph", "workflowId", "version", "inputs", "runId", "idempotencyKey"} <= set(schema["properties"])
    assert "required" not in schema, "either graph or workflowId, which the model checks"


def test_the_builders_precompiled_validators_are_generated_from_these_schemas() -> None:
    """web/src/graph/validators.gen.ts holds the node types' validators as code (the content policy forbids eval)."""
    import shutil
    import subprocess

    from automateos.settings import REPO_ROOT

    node = shutil.which("node")
    assert node is not None, "the builder needs Node"
    checked = subprocess.run([node, str(REPO_ROOT / "web" / "scripts" / "gen-validators.mjs"), "--check"],
                             cwd=REPO_ROOT / "web", capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
