"""JavaScript in a sandbox, for the code step: QuickJS (quickjs-ng), one fresh runtime per execution, on a few threads.

Why QuickJS and not V8 (mini-racer): its memory limit is checked on every allocation, strings and ArrayBuffers
included, so memoryMb is a hard cap; mini-racer checks V8's heap only after a garbage collection and not
ArrayBuffers at all (measured: 2.6 GB resident under a 64 MB cap). A runtime costs about 0.1 ms to make, so every
execution gets its own and nothing survives it; and QuickJS has no I/O of its own: no network, files, timers,
modules or WebAssembly. docs/CODE-SANDBOX.md is the threat model.

How a run is bounded:
- memory: the runtime's limit (memoryMb); the code's input, output and logs count toward it;
- time: QuickJS's interrupt handler stops the code after timeoutMs of CPU time, counted by clock(), the worker
  process's CPU time, so on a busy worker it stops sooner, never later; the worker also stops waiting after
  timeoutMs of wall time (plus a grace), for a process starved of CPU;
- the event loop: QuickJS runs without the GIL on one of THREADS threads, never on the loop;
- the host: only text crosses: JSON in (the step's data), JSON out (built by the harness below from the code's
  return value, checked again here), and the log lines.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import quickjs

from schemas.runs import LogLevel

from .limits import size_in_bytes, too_deep

MIB = 1024 * 1024
MAX_DATA_BYTES = MIB  # inputs, steps and loop, as JSON
MAX_OUTPUT_BYTES = MIB  # the return value, as JSON
MAX_LOG_LINES = 100
MAX_LOG_CHARS = 2_000
MAX_OUTPUT_DEPTH = 64  # as schemas.limits.MAX_VALUE_DEPTH: what a run can keep
MAX_ERROR_CHARS = 2_000
STACK_BYTES = MIB  # QuickJS's own stack limit, well inside a thread's 8 MiB
THREADS = 4
WALL_GRACE_S = 0.5
# What the harness itself may use, above memoryMb, to hand over the logs after the code ran out of memory.
_COLLECT_HEADROOM = MIB
_COLLECT_CPU_S = 0.2

Failure = Literal["error", "timeout", "memory", "output", "input", "internal"]


@dataclass
class JsResult:
    """How an execution ended. `failure` None: `output` is the return value, as JSON data. Otherwise `message`
    says what went wrong, naming the limit (timeoutMs, memoryMb) when one stopped it. `logs`: (level, text)."""

    output: Any = None
    failure: Failure | None = None
    message: str = ""
    logs: list[tuple[LogLevel, str]] = field(default_factory=list)


@dataclass
class _Job:
    code: str
    data: dict[str, Any]
    timeout_ms: int
    memory_mb: int
    abandoned: threading.Event = field(default_factory=threading.Event)
    on_start: Callable[[], None] | None = None  # called in the thread when the job starts


class JsSandbox:
    """Runs code steps' JavaScript, at most `threads` at once (the rest wait their turn, untimed)."""

    def __init__(self, threads: int = THREADS) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                # The binding registers a class id, a static shared by every runtime, when it makes its first one:
                # make that one here, before several threads could race to.
                quickjs.Context()
                self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="js-sandbox")
            return self._pool

    async def run(self, code: str, data: dict[str, Any], timeout_ms: int, memory_mb: int) -> JsResult:
        """Run `code` (a function's body) with `data` ({inputs, steps, loop}) as its arguments."""
        loop = asyncio.get_running_loop()
        started: asyncio.Future[None] = loop.create_future()

        def on_start() -> None:
            try:
                loop.call_soon_threadsafe(_resolve, started)
            except RuntimeError:  # the loop closed while the job waited for a thread: nobody is waiting for it
                pass

        job = _Job(code=code, data=data, timeout_ms=timeout_ms, memory_mb=memory_mb, on_start=on_start)
        done = asyncio.wrap_future(self._executor().submit(_execute, job), loop=loop)
        try:
            either: list[asyncio.Future[Any]] = [started, done]
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            try:
                return await asyncio.wait_for(asyncio.shield(done), timeout_ms / 1000 + WALL_GRACE_S)
            except TimeoutError:
                # QuickJS counts the process's CPU time; a worker starved of CPU gets here first. The thread stops
                # after its next call into QuickJS, at most timeoutMs of CPU time later.
                _abandon(job, done)
                return JsResult(failure="timeout", message=_timed_out(timeout_ms))
        except asyncio.CancelledError:
            _abandon(job, done)
            raise
        finally:
            started.cancel()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


_default: JsSandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> JsSandbox:
    """The worker process's sandbox, made on first use (nothing happens at import)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JsSandbox()
        return _default


def _abandon(job: _Job, done: asyncio.Future[JsResult]) -> None:
    """Nobody waits for this job any more: it stops at its next call into QuickJS (or never starts), and what it
    ends with is dropped."""
    job.abandoned.set()
    done.cancel()
    done.add_done_callback(lambda future: None if future.cancelled() else future.exception())


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _timed_out(timeout_ms: int) -> str:
    return f"timed out after {timeout_ms:,} ms (timeoutMs): the code ran longer than its timeout"


def _out_of_memory(memory_mb: int) -> str:
    return f"exceeded its memory limit of {memory_mb} MB (memoryMb): the code's values took more memory than that"


# --- in the sandbox's thread -----------------------------------------------------------------------------------


def _execute(job: _Job) -> JsResult:
    if job.on_start is not None:
        job.on_start()
    started = time.process_time()
    try:
        data = _data_text(job.data)
        _check_text(job.code, "the code")
    except _Refused as refused:
        return JsResult(failure=refused.kind, message=refused.message)
    deadline = started + job.timeout_ms / 1000
    context = quickjs.Context()
    context.set_memory_limit(job.memory_mb * MIB)
    context.set_max_stack_size(STACK_BYTES)
    context.set("__automateos_code", job.code)
    context.set("__automateos_input", data)
    stopped: JsResult | None = None
    try:
        _allow(context, deadline)
        context.eval(_HARNESS)
        while not job.abandoned.is_set():
            _allow(context, deadline)
            if not context.execute_pending_job():
                break
    except _OutOfTime:
        stopped = JsResult(failure="timeout", message=_timed_out(job.timeout_ms))
    except quickjs.JSException as error:
        stopped = _stopped(error, job)
    if job.abandoned.is_set():
        return JsResult(failure="timeout", message=_timed_out(job.timeout_ms))
    # The logs are wanted however the code ended: handed over with a little time and memory of the harness's own.
    context.set_memory_limit(job.memory_mb * MIB + _COLLECT_HEADROOM + 4 * MAX_LOG_LINES * MAX_LOG_CHARS)
    context.set_time_limit(_COLLECT_CPU_S)
    try:
        envelope = context.eval("__automateos_collect()")
        output = context.eval("__automateos_output()") if stopped is None else None
    except quickjs.JSException as error:
        if stopped is not None:
            stopped.logs = [("WARN", "the logs could not be read after the code stopped")]
            return stopped
        return JsResult(failure="internal",
                        message=f"the sandbox could not read what the code did: {_first_line(error)}")
    finally:
        del context  # freed here, in the thread that made it (the binding requires it)
    result = stopped or JsResult()
    try:
        _read(envelope, output, job, result)
    except _Refused as refused:
        if stopped is None:
            result.failure, result.message = refused.kind, refused.message
        else:
            result.logs = [("WARN", "the logs could not be read after the code stopped")]
    return result


class _Refused(Exception):
    def __init__(self, message: str, kind: Failure = "output") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class _OutOfTime(Exception):
    pass


def _allow(context: Any, deadline: float) -> None:
    """The next call into QuickJS may run for what is left of the step's CPU time (clock() counts it too)."""
    left = deadline - time.process_time()
    if left <= 0:
        raise _OutOfTime
    context.set_time_limit(left)


def _data_text(data: dict[str, Any]) -> str:
    if size_in_bytes(data, MAX_DATA_BYTES) > MAX_DATA_BYTES:
        raise _Refused(_too_much_data(size_in_bytes(data, 8 * MAX_DATA_BYTES)), "input")
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise _Refused("the data passed to the code holds NaN or Infinity, which JSON cannot", "input") from None
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: JSON's \\u escape carries it, as JavaScript strings can hold one
        text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
        size = len(text)
    if size > MAX_DATA_BYTES:
        raise _Refused(_too_much_data(size), "input")
    return text


def _too_much_data(size: int) -> str:
    shown = f"{size // 1024:,} KiB" if size <= 8 * MAX_DATA_BYTES else "more than 8 MiB"
    return (f"the data passed to the code (inputs, steps and loop, as JSON) is {shown}, over the 1 MiB limit: "
            "connect the code step after fewer or smaller steps, or trim what they output")


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _Refused(f"{what} holds text that is not valid Unicode (a lone surrogate)", "input") from None


def _stopped(error: quickjs.JSException, job: _Job) -> JsResult:
    """An exception out of QuickJS itself: the code's own errors are caught by the harness, so this is a limit."""
    text = str(error)
    if text.startswith("InternalError: interrupted"):
        return JsResult(failure="timeout", message=_timed_out(job.timeout_ms))
    if text.startswith("InternalError: out of memory"):
        return JsResult(failure="memory", message=_out_of_memory(job.memory_mb))
    if isinstance(error, quickjs.StackOverflow):
        return JsResult(failure="error", message="RangeError: Maximum call stack size exceeded (the code recursed "
                        "too deep)")
    return JsResult(failure="internal", message=f"the sandbox stopped the code: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    return str(error).split("\n", 1)[0][:MAX_ERROR_CHARS]


def _read(envelope: Any, output: Any, job: _Job, result: JsResult) -> None:
    """What the harness handed over, checked as untrusted text: the code can change any of the harness's globals."""
    try:
        report = json.loads(envelope) if isinstance(envelope, str) else None
    except (ValueError, RecursionError):
        report = None
    if not isinstance(report, dict):
        raise _Refused("the sandbox could not read what the code did", "internal")
    result.logs = _logs(report.get("logs"), report.get("dropped"))
    if result.failure is not None:
        return
    phase = report.get("phase")
    if phase == "fulfilled":
        result.output = _output(output)
    elif phase == "invalid":
        result.failure = "output"
        result.message = f"the code's return value cannot be the step's output: {_text(report.get('problem'))}"
    elif phase == "rejected":
        _rejected(report.get("error"), job, result)
    else:
        result.failure = "error"
        result.message = ("the code's Promise never settled: it waits for something that never happens (a code step "
                          "has no timers, network or other I/O to wait for)")


def _rejected(error: Any, job: _Job, result: JsResult) -> None:
    error = error if isinstance(error, dict) else {}
    name, message, line = error.get("name"), _text(error.get("message")), error.get("line")
    # Out of memory is an InternalError, or null when memory ran out while QuickJS was making that error.
    if (name == "InternalError" and message == "out of memory") or (name is None and message == "null"):
        result.failure, result.message = "memory", _out_of_memory(job.memory_mb)
        return
    described = f"{_text(name)}: {message}" if isinstance(name, str) else f"the code threw {message}"
    if isinstance(line, int) and not isinstance(line, bool) and line > 0:
        described += f" (line {line})"
    result.failure, result.message = "error", described


def _text(value: Any) -> str:
    return value[:MAX_ERROR_CHARS] if isinstance(value, str) else ""


_LEVELS: dict[Any, LogLevel] = {"INFO": "INFO", "WARN": "WARN", "ERROR": "ERROR"}


def _logs(lines: Any, dropped: Any) -> list[tuple[LogLevel, str]]:
    kept: list[tuple[LogLevel, str]] = []
    for line in lines if isinstance(lines, list) else []:
        if len(kept) >= MAX_LOG_LINES:
            break
        if (isinstance(line, list) and len(line) == 2 and isinstance(line[0], str) and line[0] in _LEVELS
                and isinstance(line[1], str)):
            kept.append((_LEVELS[line[0]], line[1][:MAX_LOG_CHARS + 16]))
    if isinstance(dropped, int) and dropped > 0:
        kept.append(("WARN", f"log limit reached: {dropped:,} more line{'' if dropped == 1 else 's'} not kept (a "
                             f"code step keeps {MAX_LOG_LINES} lines of at most {MAX_LOG_CHARS:,} characters)"))
    return kept


def _output(text: Any) -> Any:
    if not isinstance(text, str):
        raise _Refused("the sandbox could not read the code's return value")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise _Refused("the code's return value holds text that is not valid Unicode") from None
    if size > MAX_OUTPUT_BYTES:
        raise _Refused(_too_big(size))
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise _Refused("the code's return value could not be read as JSON") from None
    if too_deep(value, MAX_OUTPUT_DEPTH):
        raise _Refused(f"the code's return value nests more than {MAX_OUTPUT_DEPTH} levels deep, more than a run "
                       "keeps; flatten it")
    return value


def _too_big(size: int | None) -> str:
    shown = f" ({size // 1024:,} KiB)" if size is not None else ""
    return (f"the code's return value is larger than 1 MiB as JSON{shown}: return less, or only the fields the "
            "next steps read")


# --- the harness ---------------------------------------------------------------------------------------------
#
# Run in each fresh runtime before the code. It takes the code and its data from two globals (and deletes them),
# gives the code console and a getCredential that explains itself, compiles the code as an async function's
# body (the Function constructor parses it as a body, so it cannot close the function and run outside it), calls
# it, and keeps what it returned as JSON it builds itself: only JSON values, read once each (a getter runs once),
# in objects without a prototype (so no toJSON the code planted runs), within the output's size and depth.
#
# It is written out on one line: QuickJS names every source "<input>", and the code's Function source starts two
# lines down (its header), so a stack frame on line 3 or below is the code's, at line - 2. No // comments here.
# Text handed to Python is joined from parts: the binding cannot read QuickJS's rope strings, which `+` can make.
_HARNESS_SOURCE = """
(function (G) {
  'use strict';
  const source = G.__automateos_code;
  const inputText = G.__automateos_input;
  delete G.__automateos_code;
  delete G.__automateos_input;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const apply = Reflect.apply;
  const keysOf = Object.keys;
  const isArray = Array.isArray;
  const createObject = Object.create;
  const setPrototypeOf = Object.setPrototypeOf;
  const defineProperty = Object.defineProperty;
  const getPrototypeOf = Object.getPrototypeOf;
  const hasOwn = Object.prototype.hasOwnProperty;
  const StringOf = String;
  const toWellFormed = String.prototype.toWellFormed;
  const slice = String.prototype.slice;
  const join = Array.prototype.join;
  const exec = RegExp.prototype.exec;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size').get;
  const MAX_OUTPUT = %(max_output)d;
  const MAX_DEPTH = %(max_depth)d;
  const MAX_LINES = %(max_lines)d;
  const MAX_CHARS = %(max_chars)d;
  const HEADER_LINES = 2;
  const CALL_FRAME = /\\(<input>:(\\d+):\\d+\\)/g;
  const ANY_FRAME = /<input>:(\\d+):\\d+/g;
  const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  const SENTINEL = createObject(null);

  const levels = createObject(null);
  const texts = createObject(null);
  let count = 0;
  let dropped = 0;
  let phase = 'pending';
  let problem = null;
  let failure = null;
  let outputText = null;

  function clean(text) {
    return apply(toWellFormed, text, []);
  }
  function cut(text) {
    return text.length > MAX_CHARS ? apply(slice, text, [0, MAX_CHARS]) + ' …' : text;
  }
  function show(value) {
    try {
      if (typeof value === 'string') return value;
      if (value === undefined) return 'undefined';
      if (typeof value === 'function') return '[function]';
      if (typeof value === 'bigint') return StringOf(value) + 'n';
      if (typeof value === 'symbol') return StringOf(value);
      if (value !== null && typeof value === 'object' && typeof value.message === 'string'
          && typeof value.stack === 'string') {
        const error = describe(value, false);
        return error.name === null ? error.message : error.name + ': ' + error.message;
      }
      const text = stringify(value);
      return text === undefined ? StringOf(value) : text;
    } catch (e) {
      try { return StringOf(value); } catch (e2) { return '[a value that cannot be shown]'; }
    }
  }
  function record(level, args) {
    if (count >= MAX_LINES) { dropped += 1; return; }
    let line = '';
    for (let i = 0; i < args.length; i += 1) {
      line += (i === 0 ? '' : ' ') + show(args[i]);
      if (line.length > MAX_CHARS) break;
    }
    levels[count] = level;
    texts[count] = clean(cut(line));
    count += 1;
  }
  G.console = {
    log: function log(...args) { record('INFO', args); },
    info: function info(...args) { record('INFO', args); },
    debug: function debug(...args) { record('INFO', args); },
    warn: function warn(...args) { record('WARN', args); },
    error: function error(...args) { record('ERROR', args); },
  };
  G.getCredential = function getCredential() {
    throw new Error('getCredential is not available in a code step: credentials never enter the sandbox. '
      + 'Call the API with an HTTP step and its credential, and read that step\\'s output here');
  };

  function lineIn(stack, pattern) {
    pattern.lastIndex = 0;
    for (;;) {
      const match = apply(exec, pattern, [stack]);
      if (match === null) return null;
      const line = +match[1];
      if (line > HEADER_LINES) return line - HEADER_LINES;
    }
  }
  function describe(error, compiling) {
    const out = { name: null, message: '', line: null };
    try {
      if (error !== null && typeof error === 'object' && typeof error.message === 'string') {
        const name = error.name;
        out.name = typeof name === 'string' ? clean(cut(name)) : 'Error';
        out.message = clean(cut(error.message));
        const stack = error.stack;
        if (typeof stack === 'string') out.line = lineIn(stack, compiling ? ANY_FRAME : CALL_FRAME);
      } else {
        out.message = clean(cut(show(error)));
      }
    } catch (e) {
      out.message = 'an error that could not be read';
    }
    return out;
  }

  let budget = MAX_OUTPUT;
  const ancestors = createObject(null);
  let depthNow = 0;
  function refuse(path, what) {
    problem = path + ' ' + what;
    throw SENTINEL;
  }
  function charge(size) {
    budget -= size;
    if (budget < 0) {
      problem = 'it is larger than 1 MiB as JSON: return less, or only the fields the next steps read';
      throw SENTINEL;
    }
  }
  function branded(getter, value) {
    try { apply(getter, value, []); return true; } catch (e) { return false; }
  }
  function member(path, key) {
    return apply(exec, IDENTIFIER, [key]) !== null ? path + '.' + key : path + '[' + stringify(key) + ']';
  }
  function plain(value, key, path) {
    if ((value !== null && typeof value === 'object') || typeof value === 'bigint') {
      const toJSON = value.toJSON;
      if (typeof toJSON === 'function') value = apply(toJSON, value, [key]);
    }
    switch (typeof value) {
      case 'string': charge(value.length + 2); return clean(value);
      case 'number': charge(1); return value;
      case 'boolean': charge(4); return value;
      case 'undefined': return undefined;
      case 'bigint': return refuse(path, 'is a BigInt, which JSON cannot hold: convert it with Number() or String()');
      case 'function': return refuse(path, 'is a function, which JSON cannot hold');
      case 'symbol': return refuse(path, 'is a Symbol, which JSON cannot hold');
    }
    if (value === null) { charge(4); return null; }
    if (depthNow >= MAX_DEPTH) {
      return refuse(path, 'nests more than ' + MAX_DEPTH + ' levels deep, more than a run keeps: flatten it');
    }
    for (let i = 0; i < depthNow; i += 1) {
      if (ancestors[i] === value) return refuse(path, 'contains itself (a cycle), which JSON cannot hold');
    }
    if (branded(mapSize, value)) {
      return refuse(path, 'is a Map, which JSON cannot hold: return Object.fromEntries(map)');
    }
    if (branded(setSize, value)) return refuse(path, 'is a Set, which JSON cannot hold: return [...set]');
    if (typeof value.then === 'function') return refuse(path, 'is a Promise: await it before returning it');
    ancestors[depthNow] = value;
    depthNow += 1;
    let copy;
    if (isArray(value)) {
      let length = +value.length;
      length = length >= 0 ? length - (length %% 1) : 0;
      charge(length + 1);
      copy = [];
      setPrototypeOf(copy, null);
      for (let i = 0; i < length; i += 1) {
        const item = plain(value[i], StringOf(i), path + '[' + i + ']');
        copy[i] = item === undefined ? null : item;
      }
    } else {
      copy = createObject(null);
      charge(2);
      const keys = keysOf(value);
      for (let i = 0; i < keys.length; i += 1) {
        const name = keys[i];
        const item = plain(value[name], name, member(path, name));
        if (item !== undefined) {
          charge(name.length + 3);
          copy[clean(name)] = item;
        }
      }
    }
    depthNow -= 1;
    return copy;
  }
  function fulfilled(value) {
    if (phase !== 'pending') return;
    try {
      depthNow = 0;
      budget = MAX_OUTPUT;
      const copy = plain(value, '', 'output');
      const text = copy === undefined ? 'null' : stringify(copy);
      if (text.length > MAX_OUTPUT) charge(MAX_OUTPUT + 1);
      outputText = text;
      phase = 'fulfilled';
    } catch (e) {
      if (e === SENTINEL) {
        phase = 'invalid';
      } else {
        phase = 'rejected';
        failure = describe(e, false);
      }
    }
  }
  function rejected(error, compiling) {
    if (phase !== 'pending') return;
    phase = 'rejected';
    failure = describe(error, compiling);
  }
  function flat(parts) {
    setPrototypeOf(parts, null);
    return apply(join, parts, ['']);
  }
  function collect() {
    const parts = ['{"phase":', stringify(phase), ',"problem":', stringify(problem), ',"error":'];
    let n = parts.length;
    if (failure === null) {
      parts[n] = 'null';
      n += 1;
    } else {
      parts[n] = flat(['{"name":', stringify(failure.name), ',"message":', stringify(failure.message), ',"line":',
        stringify(failure.line), '}']);
      n += 1;
    }
    parts[n] = ',"logs":[';
    n += 1;
    for (let i = 0; i < count; i += 1) {
      parts[n] = flat([i === 0 ? '[' : ',[', stringify(levels[i]), ',', stringify(texts[i]), ']']);
      n += 1;
    }
    parts[n] = flat(['],"dropped":', stringify(dropped), '}']);
    return flat(parts);
  }
  defineProperty(G, '__automateos_collect', { value: collect });
  defineProperty(G, '__automateos_output', {
    value: function () { return outputText === null ? null : flat([outputText]); },
  });

  const data = parse(inputText);
  const inputs = data.inputs;
  const steps = data.steps;
  const loop = data.loop;
  const payload = apply(hasOwn, inputs, ['payload']) ? inputs.payload : undefined;
  const AsyncFunction = getPrototypeOf(async function () {}).constructor;
  let body = null;
  try {
    body = new AsyncFunction('payload', 'inputs', 'steps', 'loop', source);
  } catch (e) {
    rejected(e, true);
  }
  if (body !== null) {
    (async function () {
      let value;
      try {
        value = await apply(body, undefined, [payload, inputs, steps, loop]);
      } catch (e) {
        rejected(e, false);
        return;
      }
      fulfilled(value);
    })();
  }
})(globalThis);
"""
_HARNESS = " ".join(line.strip() for line in (_HARNESS_SOURCE % {
    "max_output": MAX_OUTPUT_BYTES, "max_depth": MAX_OUTPUT_DEPTH, "max_lines": MAX_LOG_LINES,
    "max_chars": MAX_LOG_CHARS,
}).strip().splitlines())
