"""Who may do what on the bus: one NATS user per actor role, with the subjects that role needs and no more.

The lists here are the only copy: `nats-auth.conf` (included by nats.conf and nats-cluster.conf) is generated
from them (`make nats-auth.conf`; a test checks the file is current), with each password
read from the server's environment (`$AUTOMATEOS_NATS_<ROLE>_PASSWORD`), which `automateos up` generates into
.env and hands to the broker and to each actor (only its own).

What each role stands for, and what it must not be able to do (tests/bus/test_permissions.py tries each):
- gateway: starts runs (writes their record, publishes runs.requested) and cancels; reads runs, their events
  and outputs; owns workflows, credentials (ciphertext), tokens, idempotency and hook claims; appends the audit
  log; asks an engine for an expression's preview or an MCP server's tools. It cannot publish a dispatch or a
  result, nor change a run's log of changes.
- orchestrator: consumes requests, results, timers and gave-up notices; publishes dispatches, timers, aborts
  and each run's changes; stores large outputs; starts scheduled runs. It never reads a credential.
- engine: pulls dispatches, publishes results, reads credential ciphertext (the master key is its own) and the
  stored outputs its templates read, and answers the gateway's questions (previews, an MCP server's tools). It
  cannot read or change runs, cancel or abort them, nor publish a dispatch.
- integrations: other systems of the user's, in an account of their own (below): start runs of saved workflows
  (`runs.requested` in their account) and read `runs.events.>`. Nothing else.
- admin: `automateos setup` (declares streams and buckets) and key rotation: everything.

Accounts. A publish may carry any reply subject, and JetStream sends its acknowledgement there with no permission
check, so a role that may publish into a stream could write the ack into any KV entry of the same account. The
engine and the role other systems are given therefore live in accounts of their own, holding no streams, and
reach only what they import (`Permissions.imports`): the engine, the JetStream API its workers call, as services
(their answers come back to its own account), and `steps.abort` as a stream; `integrations`, `runs.requested` as a
service (its request lands here as `runs.external.integrations`) and `runs.events.>` as a stream. The other way,
the engine's account exports the questions it answers (`expressions.preview`, `mcp.tools.list`:
`Permissions.exports`), which the app's imports.

JetStream needs API subjects besides the data ones; the helpers below name them. Creating consumers is allowed
only on the streams a role reads (nats-server does not tie consumer creation to subscribe permissions: issue
3295), and each role's replies come to an inbox prefix of its own, so no role can read another's answers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from . import subjects
from .credentials import CREDENTIAL_PREFIX
from .resources import BUCKETS

ROLES = ("admin", "gateway", "orchestrator", "engine", "integrations")
ACTOR_ROLES = ("gateway", "orchestrator", "engine")
# The account holding the streams and buckets, and the account of each role outside it.
APP_ACCOUNT = "AUTOMATEOS"
EXTERNAL_ACCOUNTS = {"engine": "ENGINE", "integrations": "INTEGRATIONS"}


def password_variable(role: str) -> str:
    return f"AUTOMATEOS_NATS_{role.upper()}_PASSWORD"


def new_password() -> str:
    """A random password the server's config reads as a plain string (it parses a variable's value as config,
    so a value starting with a digit would be read as a number): a letter, then letters and digits."""
    return "p" + secrets.token_hex(24)


def inbox_prefix(role: str) -> str:
    """Replies to a role's requests come here; only that role may subscribe to it."""
    return "_INBOX" if role in ("admin", "integrations") else f"_INBOX_{role}"


@dataclass(frozen=True)
class Import:
    """What a role in an account of its own reaches in the app's account: a service (its requests, and their
    answers, which come back to its account) or a stream (messages the app publishes)."""

    subject: str  # as the role sees it
    app_subject: str | None = None  # where it lands in the app's account, when not the same
    stream: bool = False
    many_answers: bool = False  # a pull request: answered by every message it delivers

    @property
    def exported(self) -> str:
        return self.app_subject or self.subject


@dataclass(frozen=True)
class Permissions:
    publish: list[str] = field(default_factory=list)
    subscribe: list[str] = field(default_factory=list)
    # For a role in an account of its own (EXTERNAL_ACCOUNTS), everything it reaches of the app's account.
    imports: list[Import] = field(default_factory=list)
    # For such a role: services it answers for the app's account (the app imports them). Answering needs a publish
    # to each request's reply subject, which the server maps to one of its own (`_R_.…`): `allow_responses`, which
    # admits one answer per request received and nothing else.
    exports: list[str] = field(default_factory=list)


def _kv_read(bucket: str) -> list[str]:
    stream = f"KV_{bucket}"
    # Gets are direct gets; listing keys is an ordered consumer on the bucket's stream.
    return [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>", f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>",
            f"$JS.API.CONSUMER.DELETE.{stream}.>", f"$JS.FC.{stream}.>"]


def _kv_get(bucket: str) -> list[str]:
    """Reading entries by key, and no listing: what an engine needs of a bucket."""
    stream = f"KV_{bucket}"
    return [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>", f"$JS.API.STREAM.INFO.{stream}"]


def _kv_write(bucket: str) -> list[str]:
    return [*_kv_read(bucket), f"$KV.{bucket}.>"]


def _stream_read(stream: str) -> list[str]:
    return [f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>", f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.STREAM.MSG.GET.{stream}"]


def _follow(stream: str) -> list[str]:
    """An ordered consumer of the role's own (the live feed of run events)."""
    return [f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>",
            f"$JS.API.CONSUMER.DELETE.{stream}.>", f"$JS.FC.{stream}.>"]


def _pull(stream: str, durable: str) -> list[str]:
    return [f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}", f"$JS.ACK.{stream}.{durable}.>",
            f"$JS.API.CONSUMER.INFO.{stream}.{durable}"]


# Every actor binds to the bus at start: one look at the runs stream and each bucket (bus/resources.py `bind`).
_BIND = ["$JS.API.INFO", f"$JS.API.STREAM.INFO.{subjects.RUNS_STREAM}",
         *(f"$JS.API.STREAM.INFO.KV_{bucket}" for bucket in BUCKETS)]


def role_permissions() -> dict[str, Permissions]:
    run_index = [f"{subjects.RUN_INDEX_PREFIX}.>", f"$JS.API.STREAM.PURGE.{subjects.INDEX_STREAM}",
                 *_stream_read(subjects.INDEX_STREAM)]
    gateway = Permissions(
        publish=[
            *_BIND, subjects.RUNS_REQUESTED, subjects.RUNS_CANCEL, subjects.RUNS_RESUME, subjects.AUDIT,
            *_stream_read(subjects.AUDIT_STREAM), *subjects.ENGINE_QUESTIONS,
            *_kv_write(subjects.RUNS_BUCKET), *_kv_read(subjects.STEP_OUTPUTS_BUCKET),
            # Credentials' records (c.<name>), never the key check or the salt: only admin writes those.
            *_kv_write(subjects.IDEMPOTENCY_BUCKET), *_kv_read(subjects.CREDENTIALS_BUCKET),
            f"$KV.{subjects.CREDENTIALS_BUCKET}.{CREDENTIAL_PREFIX}>",
            *_kv_write(subjects.WORKFLOWS_BUCKET), *_kv_write(subjects.HOOK_DEDUPE_BUCKET),
            *_kv_write(subjects.TOKENS_BUCKET), *_kv_write(subjects.SESSIONS_BUCKET),
            *_stream_read(subjects.EVENTS_STREAM), *_follow(subjects.EVENTS_STREAM), *run_index,
            *_follow(subjects.INDEX_STREAM),
            # /readyz looks at the pipeline's streams (their state, not their messages).
            f"$JS.API.STREAM.INFO.{subjects.DISPATCH_STREAM}", f"$JS.API.STREAM.INFO.{subjects.RESULTS_STREAM}",
        ],
        subscribe=[f"{inbox_prefix('gateway')}.>"],
    )
    orchestrator = Permissions(
        publish=[
            *_BIND, subjects.STEPS_DISPATCH, f"{subjects.TIMERS_PREFIX}.>", subjects.STEPS_ABORT,
            # runs.cancel: a cancelled run's child runs (loop items, subworkflows) are cancelled too.
            f"{subjects.RUN_EVENTS_PREFIX}.>", subjects.RUNS_REQUESTED, subjects.RUNS_CANCEL, subjects.AUDIT,
            *_pull(subjects.RUNS_STREAM, subjects.ORCHESTRATOR_RUNS_CONSUMER),
            *_pull(subjects.RESULTS_STREAM, subjects.ORCHESTRATOR_RESULTS_CONSUMER),
            *_pull(subjects.TIMERS_STREAM, subjects.ORCHESTRATOR_TIMERS_CONSUMER),
            *_pull(subjects.GAVE_UP_STREAM, subjects.ORCHESTRATOR_GAVE_UP_CONSUMER),
            f"$JS.API.STREAM.PURGE.{subjects.TIMERS_STREAM}",
            f"$JS.API.STREAM.MSG.GET.{subjects.DISPATCH_STREAM}", f"$JS.API.STREAM.MSG.DELETE.{subjects.DISPATCH_STREAM}",
            *_kv_write(subjects.RUNS_BUCKET), *_kv_write(subjects.STEP_OUTPUTS_BUCKET),
            *_kv_write(subjects.WORKFLOWS_BUCKET), *_stream_read(subjects.EVENTS_STREAM), *run_index,
        ],
        subscribe=[f"{inbox_prefix('orchestrator')}.>"],
    )
    engine_publish = [
        *_BIND, subjects.STEPS_RESULT, *_pull(subjects.DISPATCH_STREAM, subjects.ENGINE_CONSUMER),
        *_kv_get(subjects.CREDENTIALS_BUCKET), *_kv_get(subjects.STEP_OUTPUTS_BUCKET),
    ]
    engine = Permissions(
        publish=engine_publish,
        subscribe=[f"{inbox_prefix('engine')}.>", subjects.STEPS_ABORT, *subjects.ENGINE_QUESTIONS],
        imports=[*(Import(subject, many_answers=subject.startswith("$JS.API.CONSUMER.MSG.NEXT."))
                   for subject in dict.fromkeys(engine_publish)),
                 Import(subjects.STEPS_ABORT, stream=True)],
        exports=list(subjects.ENGINE_QUESTIONS),
    )
    integrations = Permissions(
        publish=[subjects.RUNS_REQUESTED],
        subscribe=[f"{subjects.RUN_EVENTS_PREFIX}.>", f"{inbox_prefix('integrations')}.>"],
        imports=[Import(subjects.RUNS_REQUESTED, app_subject=subjects.runs_external("integrations")),
                 Import(subjects.RUN_EVENTS_ALL, stream=True)],
    )
    return {"gateway": gateway, "orchestrator": orchestrator, "engine": engine, "integrations": integrations}


def auth_config() -> str:
    """The `accounts` block of the server config: the app's account with the actors' users, and one account per
    outside role with only what it imports. Passwords come from the environment."""
    roles = role_permissions()
    lines = ["# Generated by `make nats-auth.conf` from bus/permissions.py: edit that, not this.",
             "# One user per actor role; each password comes from the server's environment, which `automateos up`",
             "# fills from .env. No anonymous access. Roles that hold no master key of the app's, or are handed",
             "# to other systems, live in accounts of their own and reach only what they import.",
             "accounts {", f"  {APP_ACCOUNT}: {{", "    jetstream: enabled", "    users: ["]
    lines.append(f"      {{user: admin, password: ${password_variable('admin')}}}")
    lines += [line for role in ACTOR_ROLES if role not in EXTERNAL_ACCOUNTS
              for line in _user(role, roles[role], "      ")]
    lines += ["    ]", "    exports: ["]
    for role, account in EXTERNAL_ACCOUNTS.items():
        for item in roles[role].imports:
            kind = "stream" if item.stream else "service"
            answers = ", response_type: stream" if item.many_answers else ""
            lines.append(f'      {{{kind}: "{item.exported}"{answers}, accounts: [{account}]}}')
    lines.append("    ]")
    # The other way: services an outside role answers for the app's roles (an engine previewing an expression).
    served = [(account, subject) for role, account in EXTERNAL_ACCOUNTS.items() for subject in roles[role].exports]
    if served:
        lines.append("    imports: [")
        lines += [f'      {{service: {{account: {account}, subject: "{subject}"}}}}' for account, subject in served]
        lines.append("    ]")
    lines.append("  }")
    for role, account in EXTERNAL_ACCOUNTS.items():
        lines += [f"  {account}: {{", "    users: ["]
        lines += _user(role, roles[role], "      ")
        lines += ["    ]", "    imports: ["]
        for item in roles[role].imports:
            source = f'{{account: {APP_ACCOUNT}, subject: "{item.exported}"}}'
            if item.stream:
                lines.append(f"      {{stream: {source}}}")
            else:
                to = f', to: "{item.subject}"' if item.app_subject else ""
                lines.append(f"      {{service: {source}{to}}}")
        lines.append("    ]")
        if roles[role].exports:
            lines.append("    exports: [")
            lines += [f'      {{service: "{subject}", accounts: [{APP_ACCOUNT}]}}' for subject in roles[role].exports]
            lines.append("    ]")
        lines.append("  }")
    lines += ["}", ""]
    return "\n".join(lines)


def _user(role: str, permissions: Permissions, indent: str) -> list[str]:
    return [f"{indent}{{user: {role}, password: ${password_variable(role)}, permissions: {{",
            f"{indent}  publish: {{allow: {_quoted(permissions.publish)}}}",
            f"{indent}  subscribe: {{allow: {_quoted(permissions.subscribe)}}}",
            *([f"{indent}  allow_responses: true"] if permissions.exports else []),
            f"{indent}}}}}"]


def _quoted(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    return "[" + ", ".join(f'"{item}"' for item in unique) + "]"

