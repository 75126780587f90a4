"""Ways out of the code step's sandbox, each tried for real and each asserted to end in a specific refusal or an
undefined (docs/CODE-SANDBOX.md has the threat model they come from)."""

from __future__ import annotations

import os
import sys

import pytest

from engine.nodes import NodeContext
from tests.support.code_steps import failure_of, output_of

# Host objects and I/O a script in Node, Deno, Bun, a browser or QuickJS's own shell would reach for.
HOST_GLOBALS = [
    "require", "module", "exports", "process", "Buffer", "global", "__dirname", "__filename", "fetch",
    "XMLHttpRequest", "WebSocket", "EventSource", "Request", "Response", "Headers", "navigator", "location",
    "document", "window", "self", "importScripts", "postMessage", "Worker", "SharedWorker", "setTimeout",
    "setInterval", "setImmediate", "clearTimeout", "Deno", "Bun", "os", "std", "scriptArgs", "print", "load",
    "read", "readFile", "WebAssembly", "gc", "environment", "crypto", "caches", "indexedDB", "localStorage",
    "__automateos_code", "__automateos_input",
]


async def test_no_host_global_exists(code_context: NodeContext) -> None:
    """Every global a script might use to reach the host, the network, files or timers is undefined."""
    code = f"return {HOST_GLOBALS!r}.filter(name => typeof globalThis[name] !== 'undefined');"
    assert await output_of(code_context, code) == []


@pytest.mark.parametrize(("code", "message"), [
    # Module loading, Node style and ECMAScript style.
    ("return require('fs').readFileSync('/etc/passwd', 'utf8');", "ReferenceError: require is not defined (line 1)"),
    ("return await import('fs');", "ReferenceError: could not load module 'fs'"),
    ("const name = 'child_' + 'process'; return (await import(name)).execSync('id');",
     "ReferenceError: could not load module 'child_process'"),
    ("return await import('https://example.com/x.js');", "ReferenceError: could not load module "
     "'https://example.com/x.js'"),
    ("import fs from 'fs';\nreturn fs;", "SyntaxError: Unexpected identifier 'fs' (line 1)"),
    # The process and its environment.
    ("return process.env;", "ReferenceError: process is not defined (line 1)"),
    ("return process.mainModule.require('child_process');", "ReferenceError: process is not defined (line 1)"),
    # Network.
    ("return await fetch('http://127.0.0.1:4222/');", "ReferenceError: fetch is not defined (line 1)"),
    ("const x = new XMLHttpRequest(); x.open('GET', '/'); return 1;",
     "ReferenceError: XMLHttpRequest is not defined (line 1)"),
    ("return new WebSocket('ws://127.0.0.1:8080');", "ReferenceError: WebSocket is not defined (line 1)"),
    ("return navigator.sendBeacon('http://x');", "ReferenceError: navigator is not defined (line 1)"),
    # WebAssembly: not there at all (QuickJS has none), so neither compile nor instantiate exists.
    ("return await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));",
     "ReferenceError: WebAssembly is not defined (line 1)"),
    ("return WebAssembly.instantiate(new Uint8Array(8), {});", "ReferenceError: WebAssembly is not defined (line 1)"),
    # Timers: none, so nothing runs after the code has returned.
    ("setTimeout(() => { throw new Error('later'); }, 0); return 1;",
     "ReferenceError: setTimeout is not defined (line 1)"),
    ("setInterval(() => 1, 1); return 1;", "ReferenceError: setInterval is not defined (line 1)"),
    # Other runtimes' host objects.
    ("return Deno.readTextFile('/etc/passwd');", "ReferenceError: Deno is not defined (line 1)"),
    ("return Bun.file('/etc/passwd').text();", "ReferenceError: Bun is not defined (line 1)"),
    # QuickJS's own shell modules (std, os) are not built into this runtime.
    ("return std.loadFile('/etc/passwd') ?? os.exec(['id']);", "ReferenceError: std is not defined (line 1)"),
    # Credentials never enter the sandbox.
    ("return getCredential('apiToken');", "Error: getCredential is not available in a code step: credentials never "
     "enter the sandbox. Call the API with an HTTP step and its credential, and read that step's output here (line 1)"),
    # Blocking the thread: Atomics.wait is refused on it.
    ("const cell = new Int32Array(new SharedArrayBuffer(4)); return Atomics.wait(cell, 0, 0);",
     "TypeError: cannot block in this thread (line 1)"),
    # The Function constructor and constructor.constructor reach only this sandbox's own global.
    ("return Function('return process')();", "ReferenceError: process is not defined (line 1)"),
    ("return ({}).constructor.constructor('return require')()('fs');", "ReferenceError: require is not defined "
     "(line 1)"),
    ("return (async () => {}).constructor('return await import(\"os\")')();",
     "ReferenceError: could not load module 'os'"),
    # eval of code that tries the same.
    ("return eval('require(\"fs\")');", "ReferenceError: require is not defined (line 1)"),
    # A getter on the object the code returns throws while it is read.
    ("return { get total() { throw new Error('getter ran'); } };", "Error: getter ran (line 1)"),
])
async def test_refused(code_context: NodeContext, code: str, message: str) -> None:
    assert (await failure_of(code_context, code)).message == message


@pytest.mark.parametrize(("code", "expected"), [
    # `this` and globalThis tricks: the global they reach is the sandbox's, which has no host in it.
    ("return Function('return this')() === globalThis && typeof Function('return this')().process;", "undefined"),
    ("return (function () { return this; })() === globalThis;", True),
    ("return (0, eval)('this') === globalThis && typeof (0, eval)('this').require;", "undefined"),
    # constructor.constructor from every kind of function there is.
    ("""return [function () {}, () => {}, async function () {}, function* () {}, async function* () {}]
          .map(f => f.constructor.constructor('return typeof process')());""", ["undefined"] * 5),
    ("""return [function () {}, () => {}, async function () {}, function* () {}]
          .map(f => { const r = f.constructor('return typeof require'); return typeof r; });""", ["function"] * 4),
    # A generator's constructor runs code in the same sandbox.
    ("return Object.getPrototypeOf(function* () {}).constructor('yield typeof process')().next().value;",
     "undefined"),
    # `with` over the global object finds nothing more.
    ("with (globalThis) { return [typeof process, typeof require, typeof fetch]; }", ["undefined"] * 3),
    # Symbols: host hooks (Node's inspect, the well-known ones) do nothing here, and symbol keys are not output.
    ("return { [Symbol.for('nodejs.util.inspect.custom')]: () => 'x', [Symbol.toPrimitive]: () => 1, shown: 1 };",
     {"shown": 1}),
    ("return [Symbol.for('process'), Symbol('require')].map(s => typeof globalThis[s]);", ["undefined"] * 2),
    # Proxies on what is returned: only the traps' JSON answers come out, copied; the Proxy stays inside.
    ("""return new Proxy({}, { ownKeys: () => ['a', 'b'], get: (t, k) => ({ a: 1, b: 'x' })[k],
                               getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }) });""",
     {"a": 1, "b": "x"}),
    # A getter runs once, inside the sandbox, while the output is built.
    ("let n = 0; return { get count() { n += 1; return n; }, again: 'y' };", {"count": 1, "again": "y"}),
    # SharedArrayBuffer exists but shares with nothing: there is no other thread or worker to share with.
    ("const b = new SharedArrayBuffer(8); new Int32Array(b)[0] = 5; return [b.byteLength, typeof Worker];",
     [8, "undefined"]),
    # Patching the harness's tools does not change what it hands over.
    ("""JSON.stringify = () => '{"phase":"fulfilled"}'; Array.prototype.join = () => 'x';
        String.prototype.toWellFormed = () => 'forged'; Reflect.apply = () => 'forged'; return { real: [1, 'a'] };""",
     {"real": [1, "a"]}),
    # The harness's hand-over functions cannot be replaced or deleted.
    ("""'use strict';
        const tries = [];
        try { globalThis.__automateos_collect = () => '{}'; } catch (e) { tries.push(e.name); }
        try { Object.defineProperty(globalThis, '__automateos_output', { value: () => '1' }); }
        catch (e) { tries.push(e.name); }
        try { delete globalThis.__automateos_collect; } catch (e) { tries.push(e.name); }
        return tries;""", ["TypeError", "TypeError", "TypeError"]),
    # A Promise.prototype.then planted by the code does not change how its result is awaited.
    ("Promise.prototype.then = function () { return 'hijacked'; }; return 5;", 5),
    # A "__proto__" key from JSON stays a key: the output is data, not a prototype.
    ("return JSON.parse('{\"__proto__\": {\"polluted\": true}, \"a\": 1}');", {"__proto__": {"polluted": True}, "a": 1}),
    # Text shaped like the hand-over's JSON is just the output text.
    ("return '{\"phase\":\"rejected\",\"error\":null}';", '{"phase":"rejected","error":null}'),
])
async def test_harmless(code_context: NodeContext, code: str, expected: object) -> None:
    assert await output_of(code_context, code) == expected


async def test_prototype_pollution_stays_in_its_own_run(code_context: NodeContext) -> None:
    """Polluting Object.prototype and Array.prototype, through __proto__ too, changes nothing after the run."""
    polluting = """
        Object.prototype.isAdmin = true;
        ({}).__proto__.viaProto = 'yes';
        Array.prototype.push = function () { return -1; };
        Object.defineProperty(Object.prototype, 'toJSON', { value: function () { return 'planted'; }, writable: true });
        return { admin: ({}).isAdmin };
    """
    assert await output_of(code_context, polluting) == "planted", "toJSON is JSON's own rule, within the same run"
    after = "const a = []; a.push(1); return [({}).isAdmin ?? 'clean', ({}).viaProto ?? 'clean', a, { ok: 1 }];"
    assert await output_of(code_context, after) == ["clean", "clean", [1], {"ok": 1}]
    assert not hasattr(object, "isAdmin") and [].__class__ is list


async def test_pollution_from_the_data_passed_in_does_not_take(code_context: NodeContext) -> None:
    """Data with "__proto__" keys, read as the code's arguments, is parsed as keys, not as prototypes."""
    steps = {"hook": {"status": "succeeded", "output": {"__proto__": {"isAdmin": True}, "constructor": {"x": 1}}}}
    code = "return [({}).isAdmin ?? 'clean', Object.keys(steps.hook.output), Object.getPrototypeOf({}) === Object.prototype];"
    assert await output_of(code_context, code, steps=steps) == ["clean", ["__proto__", "constructor"], True]


@pytest.mark.parametrize(("code", "message_start"), [
    # Using up the worker: memory, the stack, time.
    ("return 'x'.repeat(1e9);", "exceeded its memory limit of 64 MB (memoryMb)"),
    ("return new SharedArrayBuffer(2 ** 30).byteLength;", "exceeded its memory limit of 64 MB (memoryMb)"),
    ("const f = () => f(); return f();", "RangeError: Maximum call stack size exceeded"),
    ("return eval('while (true) {}');", "timed out after 300 ms (timeoutMs)"),
    # A Proxy whose trap never returns, met while the output is built.
    ("return new Proxy({}, { ownKeys() { for (;;) {} } });", "timed out after 300 ms (timeoutMs)"),
    # A toJSON that runs away.
    ("return { toJSON() { while (true) {} } };", "timed out after 300 ms (timeoutMs)"),
    # An array that claims to be huge.
    ("const a = []; a[2 ** 32 - 2] = 1; return a;", "the code's return value cannot be the step's output: it is larger "
     "than 1 MiB"),
    # A revoked Proxy returned.
    ("const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); return proxy;", "TypeError: "),
    # An error whose message getter throws.
    ("throw { get message() { throw new Error('no'); }, stack: '' };", "the code threw"),
])
async def test_exhaustion_and_tricky_values_fail_cleanly(code_context: NodeContext, code: str,
                                                         message_start: str) -> None:
    failure = await failure_of(code_context, code, timeoutMs=300)
    assert failure.message.startswith(message_start), failure.message


async def test_the_host_process_is_untouched(code_context: NodeContext) -> None:
    """After all of the above, the Python host has the same environment, modules and working directory."""
    before = (dict(os.environ), set(sys.modules), os.getcwd())
    code = "try { process.env.PATH = ''; } catch (e) {} globalThis.chdir?.('/'); return typeof require;"
    assert await output_of(code_context, code) == "undefined"
    assert (dict(os.environ), set(sys.modules), os.getcwd()) == before
