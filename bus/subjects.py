"""Subject and stream names: the whole map of the bus in one file."""

RUNS_REQUESTED = "runs.requested"
RUNS_CANCEL = "runs.cancel"
# A wait step's resume URL was called (the gateway publishes, the orchestrator goes on with the step).
RUNS_RESUME = "runs.resume"
# Run requests from another NATS account (other systems of the user's, as `integrations`): they publish on
# `runs.requested` in their account, and the import maps it to `runs.external.<account user>` here, so the
# orchestrator knows who asked, and JetStream's answer goes back to their account, never into ours.
RUNS_EXTERNAL_PREFIX = "runs.external"
STEPS_DISPATCH = "steps.dispatch"
STEPS_RESULT = "steps.result"
# Plain NATS (no stream): a best-effort broadcast to every worker; the orchestrator ignores late results anyway.
STEPS_ABORT = "steps.abort"
# Plain NATS request/reply (no stream): the gateway asks, one engine worker answers (queue group below) with an
# expression's value, rendered as a step would render it. The engine alone renders user templates.
EXPRESSIONS_PREVIEW = "expressions.preview"
# The builder lists an MCP server's tools through an engine: only an engine holds credentials and connects out.
MCP_TOOLS_LIST = "mcp.tools.list"
# Questions an engine answers at once (bus/engine_questions.py), each in its engines' queue group.
ENGINE_QUESTIONS = (EXPRESSIONS_PREVIEW, MCP_TOOLS_LIST)


def engine_queue(subject: str) -> str:
    return "engine-" + subject.replace(".", "-")
# Timers (delays and the waits before retries): one message per wait, held unacknowledged until due.
TIMERS_PREFIX = "timers"
TIMERS_ALL = f"{TIMERS_PREFIX}.>"
# Who changed what: workflows, credentials, tokens. A LIMITS stream, read backwards by sequence.
AUDIT = "audit.changes"
AUDIT_STREAM = "AUDIT"
RUN_EVENTS_PREFIX = "runs.events"
RUN_EVENTS_ALL = f"{RUN_EVENTS_PREFIX}.>"
# One summary per run, its subject carrying what listing filters on (bus/run_index.py).
RUN_INDEX_PREFIX = "runs.index"
RUN_INDEX_ALL = f"{RUN_INDEX_PREFIX}.>"
INDEX_STREAM = "RUN_INDEX"

RUNS_STREAM = "RUNS"
# JetStream announces a step that reached max_deliver (its workers kept dying) on this subject; a stream
# keeps the notices so none is lost while no orchestrator is up.
STEP_GAVE_UP = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.STEPS_DISPATCH.engine"
GAVE_UP_STREAM = "STEPS_GAVE_UP"
ORCHESTRATOR_GAVE_UP_CONSUMER = "orchestrator-gave-up"
DISPATCH_STREAM = "STEPS_DISPATCH"
RESULTS_STREAM = "STEPS_RESULT"
EVENTS_STREAM = "RUN_EVENTS"
TIMERS_STREAM = "TIMERS"

ORCHESTRATOR_RUNS_CONSUMER = "orchestrator-runs"
ORCHESTRATOR_RESULTS_CONSUMER = "orchestrator-results"
ENGINE_CONSUMER = "engine"
ORCHESTRATOR_TIMERS_CONSUMER = "orchestrator-timers"

RUNS_BUCKET = "runs"
STEP_OUTPUTS_BUCKET = "step_outputs"
IDEMPOTENCY_BUCKET = "idempotency"
CREDENTIALS_BUCKET = "credentials"
WORKFLOWS_BUCKET = "workflows"
HOOK_DEDUPE_BUCKET = "hook_dedupe"
TOKENS_BUCKET = "tokens"
# Browser sessions and one-time sign-in codes, both stored by the hash of what the browser holds.
SESSIONS_BUCKET = "sessions"


def runs_external(user: str) -> str:
    return f"{RUNS_EXTERNAL_PREFIX}.{user}"


def run_events(run_id: str) -> str:
    return f"{RUN_EVENTS_PREFIX}.{run_id}"


def run_index(workflow_id: str, status: str, trigger: str, run_id: str) -> str:
    return f"{RUN_INDEX_PREFIX}.{workflow_id}.{status}.{trigger}.{run_id}"


def timer(run_id: str, step_id: str) -> str:
    return f"{TIMERS_PREFIX}.{run_id}.{step_id}"


def run_timers(run_id: str) -> str:
    return f"{TIMERS_PREFIX}.{run_id}.*"
