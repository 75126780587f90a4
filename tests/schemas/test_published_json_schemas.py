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
