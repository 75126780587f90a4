"""agent: the orchestrator drives a model that calls tools; engine workers make each call.

An attempt is a sequence of calls, each recorded in the step (`StepState.calls`) before it is made, with its result
once it comes, so everything the loop has learnt is in the run after every change:

1. its tools are looked up: the saved workflows it names are described by the actor (`change.describe`), and each
   MCP server's tools are listed by a worker (one dispatch of the step each, `l<n>`);
2. the model is called (`m<turn>`, a dispatch carrying the conversation so far);
3. each tool call it asks for (`t<turn>.<n>`) is a child run of a workflow (trigger "agent", its id derived from
   the step, attempt, turn and tool call, so after a crash the same child is found, not started again) or an MCP
   call (a dispatch); they run concurrently, and a tool's failure is the model's to read, not the step's;
4. when every tool call of the turn has its result, back to 2, until the model answers without tools (the step
   succeeds) or has been called `maxIterations` times (it fails, saying so).

A repeated message (a redelivery after a crash) finds its call finished: nothing changes, and what should be on
its way is asked for again (dispatch message ids and child run ids make that harmless), so no call that finished
is made twice. Pure, as every handler: the conversation is rebuilt from the record for each model call.
"""

from __future__ import annotations

import json
from typing import Any

from schemas import RunRecord, StepCall, StepResult
from schemas.node_types import DEFAULT_MAX_ITERATIONS

from ..change import Change, ChildRun, Transition, WorkflowCall, child_run_id, dispatch_for
from .base import ChildOutcome, Described, StepHandler

# More in one turn is refused (each one not made is an error result the model reads): a runaway answer must not
# start hundreds of runs at once.
MAX_TOOL_CALLS_PER_TURN = 16
# A model's text kept in the record when its answer was stored apart (the whole is read back for the next call).
_KEPT_TEXT = 4096
# The model settings a model call carries as drawn (none is templated; system and prompt are, and come rendered).
_MODEL_FIELDS = ("baseUrl", "credentialName", "model", "temperature", "maxTokens", "responseFormat", "jsonSchema",
                 "timeoutMs")


class Agent(StepHandler):
    def begin(self, change: Change, step_id: str, prepared: Any) -> None:
        step = change.step(step_id)
        step.attempt = max(step.attempt, 1)
        step.status = "running"
        step.startedAt = step.startedAt or change.now
        step.finishedAt = None
        config = change.record.dag.step(step_id).config
        calls: list[StepCall] = []
        if config.get("tools"):
            calls.append(StepCall(id="w", kind="tools", name="workflows", startedAt=change.now))
            change.describe.append(step_id)
        for index, server in enumerate(config.get("mcpServers") or []):
            calls.append(StepCall(id=f"l{index}", kind="tools", name=str(server.get("url")), startedAt=change.now))
        step.calls = calls
        change.step_changed(step)
        for call in calls:
            if call.id != "w":
                change.send_to_worker(step_id, call.id)
        if not calls:
            _ask_model(change, step_id)

    def dispatch(self, record: RunRecord, step_id: str,
                 call: str | None = None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
        if call is None:
            return None  # the first dispatch renders the templates, as for any handled type
        step = record.step(step_id)
        entry = _find(step.calls, call)
        config = record.dag.step(step_id).config
        servers = config.get("mcpServers") or []
        if entry is None:
            raise KeyError(f"step {step_id} has no call {call}")
        if entry.kind == "tools":
            server = servers[int(call[1:])]
            return {"kind": "list", "serverUrl": server["url"], "credentialName": server.get("credentialName")}, {}
        if entry.kind == "tool":
            target = entry.target or {}
            server = servers[int(target["server"])]
            return {"kind": "mcp", "serverUrl": server["url"], "credentialName": server.get("credentialName"),
                    "tool": target["tool"], "arguments": entry.arguments if isinstance(entry.arguments, dict) else {},
                    "timeoutMs": config.get("timeoutMs")}, {}
        left: dict[str, dict[str, Any]] = {"~prepared": _left(step.output, step.outputRef)}
        for done in step.calls or []:
            if done.kind == "tools":
                left[f"~{done.id}"] = _left(done.output, done.outputRef)
        model = {name: config[name] for name in _MODEL_FIELDS if config.get(name) is not None}
        return {"kind": "model", **model, "messages": _conversation(step.calls or [], entry.turn, left)}, left

    def worker_result(self, change: Change, step_id: str, result: StepResult, output_ref: str | None) -> None:
        step = change.record.step(step_id)
        entry = _find(step.calls, result.call or "")
        if entry is None or entry.status != "running":
            _resend(change, step_id)  # a repeat: this call's result is recorded; what followed it may not be sent
            return
        ok = result.status == "succeeded"
        finished = entry.model_copy(update={
            "status": "succeeded" if ok else "failed", "finishedAt": change.now, "durationMs": result.durationMs,
            "worker": result.worker or None, "error": None if ok else (result.error or "no reason given")})
        if entry.kind == "model":
            self._answered(change, step_id, finished, result, output_ref)
            return
        if ok:
            finished.output = None if output_ref else result.output
            finished.outputRef = output_ref
        _replace(change, step_id, finished)
        if entry.kind == "tools" and not ok:
            change.fail_attempt(step_id, f"the tools of MCP server {entry.name} could not be listed: {finished.error}",
                                retryable=result.retryable)
        elif entry.kind == "tools":
            _after_lookup(change, step_id)
        else:
            _after_tool(change, step_id, entry.turn)

    def _answered(self, change: Change, step_id: str, finished: StepCall, result: StepResult,
                  output_ref: str | None) -> None:
        if finished.status != "succeeded" or not isinstance(result.output, dict):
            _replace(change, step_id, finished)
            change.fail_attempt(step_id, f"model call {finished.turn}: {finished.error}", retryable=result.retryable)
            return
        answer = result.output
        text = str(answer.get("text") or "")
        asked = [c for c in answer.get("toolCalls") or [] if isinstance(c, dict)]
        finished.text = text[:_KEPT_TEXT] if output_ref else text
        finished.outputRef = output_ref
        finished.usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else None
        finished.toolCalls = [{"id": c.get("id"), "name": c.get("name"), "arguments": c.get("arguments")} for c in asked]
        _replace(change, step_id, finished)
        if not asked:
            _succeed(change, step_id, answer)
            return
        limit = int(change.record.dag.step(step_id).config.get("maxIterations") or DEFAULT_MAX_ITERATIONS)
        if finished.turn >= limit:
            change.fail_attempt(step_id, f"the model still asked for tools after {finished.turn} model calls, the most "
                                         f"this step makes (maxIterations {limit}): raise maxIterations, or ask for "
                                         "an answer sooner in the prompt")
            return
        _call_tools(change, step_id, finished.turn, asked)

    def child_finished(self, change: Change, step_id: str, outcome: ChildOutcome) -> None:
        step = change.record.step(step_id)
        entry = next((c for c in step.calls or [] if c.runId == outcome.run_id), None)
        if step.status != "running" or entry is None or entry.status != "running":
            if step.status == "running" and entry is not None:
                _resend(change, step_id)
            return
        ok = outcome.status == "succeeded"
        _replace(change, step_id, entry.model_copy(update={
            "status": "succeeded" if ok else "failed", "finishedAt": change.now,
            "durationMs": (change.now - (entry.startedAt or change.now)).total_seconds() * 1000,
            "output": outcome.output if ok else None, "outputRef": outcome.output_ref if ok else None,
            "error": None if ok else f"run {outcome.run_id} {outcome.status}: {outcome.error or 'no reason given'}"}))
        _after_tool(change, step_id, entry.turn)

    def child_not_started(self, change: Change, step_id: str, run_id: str, reason: str) -> None:
        """Arguments its schema refuses, a workflow gone: the model reads why, as the tool's error."""
        step = change.record.step(step_id)
        entry = next((c for c in step.calls or [] if c.runId == run_id and run_id), None)
        if step.status != "running" or entry is None or entry.status != "running":
            if step.status == "running":
                _resend(change, step_id)
            return
        _replace(change, step_id, entry.model_copy(update={"status": "failed", "finishedAt": change.now,
                                                           "error": reason, "runId": None}))
        _after_tool(change, step_id, entry.turn)

    def described(self, change: Change, step_id: str, described: Described) -> None:
        step = change.record.step(step_id)
        entry = _find(step.calls, "w")
        if step.status != "running" or entry is None or entry.status != "running":
            if step.status == "running":
                _resend(change, step_id)
            return
        ok = described.error is None
        _replace(change, step_id, entry.model_copy(update={
            "status": "succeeded" if ok else "failed", "finishedAt": change.now, "error": described.error,
            "output": described.output, "outputRef": described.output_ref}))
        if not ok:
            change.fail_attempt(step_id, str(described.error))
            return
        _after_lookup(change, step_id)

    def stop(self, change: Change, step_id: str, why: str) -> bool:
        step = change.record.step(step_id)
        if step.status in ("running", "cancelled"):  # cancelled: told again
            change.cancel_runs.extend(c.runId for c in step.calls or [] if c.runId and c.status == "running")
        return False

    def in_flight(self, record: RunRecord, step_id: str, transition: Transition) -> None:
        step = record.step(step_id)
        if step.status != "running":
            return
        for call in step.calls or []:
            if call.status != "running":
                continue
            if call.id == "w":
                transition.describe.append(step_id)
            elif call.runId is not None:
                transition.children.append(_child(step_id, call))
            else:
                transition.dispatches.append(dispatch_for(record, step, call.id))


AGENT = Agent()


def _find(calls: list[StepCall] | None, call_id: str) -> StepCall | None:
    return next((c for c in calls or [] if c.id == call_id), None)


def _left(output: Any, ref: str | None) -> dict[str, Any]:
    """As a dispatch carries an earlier step's output: a large one as its reference, which the worker reads."""
    return {"outputRef": ref} if ref is not None else {"output": output}


def _replace(change: Change, step_id: str, call: StepCall) -> None:
    step = change.step(step_id)
    step.calls = [call if c.id == call.id else c for c in step.calls or []]
    change.step_changed(step)


def _resend(change: Change, step_id: str) -> None:
    transition = Transition(None)
    AGENT.in_flight(change.record, step_id, transition)
    change.dispatches.extend(transition.dispatches)
    change.children.extend(transition.children)
    change.describe.extend(transition.describe)


def _child(step_id: str, call: StepCall) -> ChildRun:
    target = call.target or {}
    assert call.runId is not None
    version = target.get("version")
    return ChildRun(call.runId, step_id, workflow=WorkflowCall(
        workflow_id=str(target.get("workflowId")), version=version if isinstance(version, int) else None,
        inputs=call.arguments if isinstance(call.arguments, dict) else {}))


def _ask_model(change: Change, step_id: str) -> None:
    step = change.step(step_id)
    turn = 1 + sum(1 for c in step.calls or [] if c.kind == "model")
    step.calls = [*(step.calls or []), StepCall(id=f"m{turn}", kind="model", turn=turn, startedAt=change.now)]
    change.step_changed(step)
    change.send_to_worker(step_id, f"m{turn}")


def _after_lookup(change: Change, step_id: str) -> None:
    if all(c.status == "succeeded" for c in change.record.step(step_id).calls or [] if c.kind == "tools"):
        _ask_model(change, step_id)


def _after_tool(change: Change, step_id: str, turn: int) -> None:
    if all(c.status != "running" for c in change.record.step(step_id).calls or [] if c.kind == "tool" and c.turn == turn):
        _ask_model(change, step_id)


def _call_tools(change: Change, step_id: str, turn: int, asked: list[dict[str, Any]]) -> None:
    record = change.record
    attempt = record.step(step_id).attempt
    made: list[StepCall] = []
    for index, wanted in enumerate(asked):
        target = wanted.get("target") if isinstance(wanted.get("target"), dict) else None
        arguments = wanted.get("arguments")
        call = StepCall(id=f"t{turn}.{index}", kind="tool", turn=turn, name=str(wanted.get("name") or ""),
                        toolCallId=str(wanted.get("id") or ""), arguments=arguments, target=target,
                        startedAt=change.now)
        why = (f"not made: the model asked for more than {MAX_TOOL_CALLS_PER_TURN} tool calls at once"
               if index >= MAX_TOOL_CALLS_PER_TURN else wanted.get("error") if isinstance(wanted.get("error"), str)
               else f"there is no tool named {call.name!r}" if target is None
               else "the arguments must be a JSON object" if not isinstance(arguments, dict) else None)
        if why is not None:
            call = call.model_copy(update={"status": "failed", "error": why, "finishedAt": change.now})
        elif target is not None and "workflowId" in target:
            call.runId = child_run_id(record.id, step_id, f"{attempt}.t{turn}.{index}.{call.toolCallId}")
        made.append(call)
    step = change.step(step_id)
    step.calls = [*(step.calls or []), *made]
    change.step_changed(step)
    for call in made:
        if call.status != "running":
            continue
        if call.runId is not None:
            change.children.append(_child(step_id, call))
        else:
            change.send_to_worker(step_id, call.id)
    _after_tool(change, step_id, turn)


def _conversation(calls: list[StepCall], upto: int, left: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages after the prompt, for model call `upto`: each earlier answer and its tools' results, as
    OpenAI's `assistant` (with tool_calls) and `tool` (with tool_call_id) messages. What was stored apart is named
    (`contentFrom`, a key of `left`) and read in by the worker."""
    messages: list[dict[str, Any]] = []
    for model in (c for c in calls if c.kind == "model" and c.turn < upto):
        said: dict[str, Any] = {"role": "assistant", "content": model.text or None, "tool_calls": [
            {"id": t.get("id"), "type": "function", "function": {
                "name": t.get("name"), "arguments": t["arguments"] if isinstance(t.get("arguments"), str)
                else json.dumps(t.get("arguments") if t.get("arguments") is not None else {})}}
            for t in model.toolCalls or []]}
        if model.outputRef is not None:
            left[f"~{model.id}"] = {"outputRef": model.outputRef}
            said.update(contentFrom=f"~{model.id}", pick="text")
        messages.append(said)
        for tool in (c for c in calls if c.kind == "tool" and c.turn == model.turn):
            answer: dict[str, Any] = {"role": "tool", "tool_call_id": tool.toolCallId}
            if tool.status != "succeeded":
                answer["content"] = json.dumps({"error": tool.error or "failed"})
            elif tool.outputRef is not None:
                left[f"~{tool.id}"] = {"outputRef": tool.outputRef}
                # A child's large output is stored as {runId, status, output}; an MCP call's as itself.
                answer.update(contentFrom=f"~{tool.id}", pick="output" if tool.runId else None)
            else:
                answer["content"] = tool.output if isinstance(tool.output, str) else json.dumps(tool.output)
            messages.append(answer)
    return messages


def _succeed(change: Change, step_id: str, answer: dict[str, Any]) -> None:
    calls = change.record.step(step_id).calls or []
    usage = {"promptTokens": 0, "completionTokens": 0}
    for model in (c for c in calls if c.kind == "model"):
        for name in usage:
            usage[name] += int((model.usage or {}).get(name, 0))
    tool_calls = []
    for tool in (c for c in calls if c.kind == "tool"):
        entry: dict[str, Any] = {"name": tool.name, "arguments": tool.arguments, "status": tool.status,
                                 "output": tool.output}
        if tool.runId is not None:
            entry["runId"] = tool.runId
        if tool.outputRef is not None:
            entry["outputRef"] = tool.outputRef
        if tool.error is not None:
            entry["error"] = tool.error
        tool_calls.append(entry)
    output: dict[str, Any] = {"text": answer.get("text") or "", "toolCalls": tool_calls, "usage": usage}
    if "json" in answer:
        output["json"] = answer["json"]
    change.succeed(step_id, output)
