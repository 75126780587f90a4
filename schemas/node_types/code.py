"""code: a few lines of JavaScript, run in a sandbox by an engine worker (engine/js_sandbox.py,
docs/CODE-SANDBOX.md). Declared here once; executed by engine/nodes/code.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .._base import Contract
from ._registry import REGISTRY, FieldUi, NodeType, NodeUi

MAX_CODE_BYTES = 64 * 1024
DEFAULT_CODE_TIMEOUT_MS = 1_000
MAX_CODE_TIMEOUT_MS = 30_000
DEFAULT_CODE_MEMORY_MB = 64
MIN_CODE_MEMORY_MB = 8
MAX_CODE_MEMORY_MB = 256

DEFAULT_CODE = "return { doubled: (payload?.body?.n ?? 1) * 2 };"

CODE_HELP = (
    "The body of a function: what it returns (JSON, or a Promise of JSON) is the step's output. It reads payload "
    "(the trigger's payload), inputs (the run's inputs), steps (steps.<id>.output of the steps before it) and loop "
    "({item, index, parent} inside a loop, else null); console.log, console.warn and console.error write the step's "
    "log. It has no network, files, timers, modules or credentials: getCredential is not available here, so call "
    "APIs with an HTTP step and its credential."
)


class CodeConfig(Contract):
    """JavaScript run in a sandbox: `code` is a function's body; its return value is the step's output."""

    # One language for now; `enum` beside pydantic's `const` is what the builder draws a select's options from.
    language: Literal["javascript"] = Field(default="javascript", json_schema_extra={"enum": ["javascript"]})
    # max_length counts characters, so the builder can check it as it is typed; the validator counts UTF-8 bytes.
    code: str = Field(min_length=1, max_length=MAX_CODE_BYTES,
                      description="the body of a JavaScript function, at most 64 KiB (UTF-8)")
    timeoutMs: int = Field(default=DEFAULT_CODE_TIMEOUT_MS, ge=1, le=MAX_CODE_TIMEOUT_MS,
                           description="how long the code may run, 1 to 30,000 ms")
    memoryMb: int = Field(default=DEFAULT_CODE_MEMORY_MB, ge=MIN_CODE_MEMORY_MB, le=MAX_CODE_MEMORY_MB,
                          description="how much memory the code may use, 8 to 256 MB")

    @field_validator("code")
    @classmethod
    def _at_most_64_kib(cls, code: str) -> str:
        if not code.strip():
            raise ValueError("is empty: write the body of a function, as in return { ok: true };")
        # Counted as UTF-8, as it travels and is stored; characters are at least a byte, so long text is over unencoded.
        size = len(code) if len(code) > MAX_CODE_BYTES else len(code.encode("utf-8", "surrogatepass"))
        if size > MAX_CODE_BYTES:
            raise ValueError(f"is {size:,} bytes; at most {MAX_CODE_BYTES:,} (64 KiB) are allowed")
        return code


CODE = REGISTRY.register(NodeType(
    order=45,
    type="code", kind="action", title="Code", description="Run a few lines of JavaScript in a sandbox",
    config=CodeConfig, script_fields=("code",),
    ui=NodeUi(
        glyph="{}", accent="#7c3aed", defaultLabel="Code", summary="JavaScript", idPrefix="code",
        errorHandling=True,
        defaults={"language": "javascript", "code": DEFAULT_CODE, "timeoutMs": DEFAULT_CODE_TIMEOUT_MS,
                  "memoryMb": DEFAULT_CODE_MEMORY_MB},
        fields={
            "code": FieldUi(widget="code", label="JavaScript", order=0, monospace=True, help=CODE_HELP,
                            placeholder=DEFAULT_CODE),
            "language": FieldUi(widget="select", label="Language", order=1, optionLabels={"javascript": "JavaScript"}),
            "timeoutMs": FieldUi(widget="number", label="Timeout (ms)", order=2, placeholder="1000",
                                 help="1 to 30,000. Counted while the code runs; a loop that never ends is stopped."),
            "memoryMb": FieldUi(widget="number", label="Memory (MB)", order=3, placeholder="64",
                                help="8 to 256. What the code's values may take, its input included."),
        },
    ),
))
