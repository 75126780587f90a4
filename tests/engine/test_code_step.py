"""The code step, run by the step runner in the real sandbox (QuickJS): what the code reads and returns, its logs,
its errors, and the limits that stop it (time, memory, sizes) without stalling the worker's event loop."""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import pytest

from engine.js_sandbox import MAX_LOG_CHARS, MAX_LOG_LINES, JsSandbox
from engine.nodes import NodeContext
from schemas.masking import MASK
from tests.engine.conftest import CODE_CANARY, RecordingCredentials
from tests.support.code_steps import failure_of, output_of, succeed

ORDERS = {
    "get_orders": {"status": "succeeded", "output": {"status": 200, "body": {"orders": [
        {"id": "A-1", "amount": 120, "paid": True},
        {"id": "A-2", "amount": 900, "paid": False},
        {"id": "A-3", "amount": 40, "paid": True},
    ]}}},
}


# --- what the code reads and returns -----------------------------------------------------------------------------


async def test_map_and_filter_over_a_steps_output(code_context: NodeContext) -> None:
    code = """
        const orders = steps.get_orders.output.body.orders;
        const paid = orders.filter(o => o.paid);
        return { ids: paid.map(o => o.id), total: paid.reduce((sum, o) => sum + o.amount, 0) };
    """
    assert await output_of(code_context, code, steps=ORDERS) == {"ids": ["A-1", "A-3"], "total": 160}


async def test_payload_is_the_inputs_payload_and_inputs_are_all_of_them(code_context: NodeContext) -> None:
    inputs = {"payload": {"body": {"n": 21}}, "region": "eu"}
    code = "return { doubled: payload.body.n * 2, region: inputs.region, same: payload === inputs.payload };"
    assert await output_of(code_context, code, inputs=inputs) == {"doubled": 42, "region": "eu", "same": True}
    # The default body reads payload?.body?.n, and works without one.
    assert await output_of(code_context, "return { doubled: (payload?.body?.n ?? 1) * 2 };") == {"doubled": 2}
    assert await output_of(code_context, "return [typeof payload, inputs];") == ["undefined", {}]


async def test_loop_is_the_item_a_loop_body_runs_for_and_null_outside(code_context: NodeContext) -> None:
    loop = {"item": {"sku": "X-9", "qty": 3}, "index": 2, "parent": {"item": "outer", "index": 0, "parent": None}}
    code = "return loop && { line: `${loop.index + 1}: ${loop.item.qty} × ${loop.item.sku}`, outer: loop.parent.item };"
    assert await output_of(code_context, code, loop=loop) == {"line": "3: 3 × X-9", "outer": "outer"}
    assert await output_of(code_context, "return loop;") is None


async def test_what_it_returns_is_the_output_as_json(code_context: NodeContext) -> None:
    assert await output_of(code_context, "return 'text';") == "text"
    assert await output_of(code_context, "return 1.5;") == 1.5
    assert await output_of(code_context, "return [true, null, {a: [1]}];") == [True, None, {"a": [1]}]
    assert await output_of(code_context, "return;") is None, "undefined is null"
    assert await output_of(code_context, "const x = 1;") is None, "no return at all is undefined, so null"
    # JSON's own rules: undefined fields are left out, undefined items are null, Dates are ISO text, NaN is null.
    code = "return { gone: undefined, items: [undefined, 1], when: new Date(0), nan: NaN };"
    assert await output_of(code_context, code) == {"items": [None, 1], "when": "1970-01-01T00:00:00.000Z", "nan": None}
    # Text JavaScript can hold that UTF-8 cannot (a lone surrogate) becomes U+FFFD; NUL travels.
    assert await output_of(code_context, "return { t: 'a\\u0000b\\ud800', [`k\\udc00`]: 1 };") == {
        "t": "a\x00b\ufffd", "k\ufffd": 1}


async def test_async_code_and_promises(code_context: NodeContext) -> None:
    code = """
        const double = async (n) => { await null; return n * 2; };
        const values = await Promise.all([1, 2, 3].map(double));
        return { values, later: await Promise.resolve('ok') };
    """
    assert await output_of(code_context, code) == {"values": [2, 4, 6], "later": "ok"}
    assert await output_of(code_context, "return Promise.resolve({ a: 1 });") == {"a": 1}
    assert await output_of(code_context, "return new Promise(resolve => resolve(7)).then(n => n + 1);") == 8
    rejected = await failure_of(code_context, "return Promise.reject(new TypeError('nope'));")
    assert rejected.message == "TypeError: nope (line 1)"


async def test_a_promise_that_never_settles_fails_at_once_saying_so(code_context: NodeContext) -> None:
    started = time.perf_counter()
    failure = await failure_of(code_context, "await new Promise(() => {});", timeoutMs=5_000)
    assert time.perf_counter() - started < 2, "nothing can settle it, so there is nothing to wait for"
    assert failure.message.startswith("the code's Promise never settled")


# --- logs ----------------------------------------------------------------------------------------------------


async def test_console_writes_the_steps_log_at_three_levels(code_context: NodeContext) -> None:
    code = """
        console.log('found', 3, 'orders', { first: 'A-1' }, [1, 2]);
        console.info('info is INFO too');
        console.warn('careful');
        console.error(new RangeError('bad amount'));
        console.debug(undefined, null, 10n, Symbol('s'), () => 1);
        return 1;
    """
    outcome = await succeed(code_context, code, step_id="transform")
    assert [(entry.level, entry.msg) for entry in outcome.logs] == [
        ("INFO", 'found 3 orders {"first":"A-1"} [1,2]'),
        ("INFO", "info is INFO too"),
        ("WARN", "careful"),
        ("ERROR", "RangeError: bad amount"),
        ("INFO", "undefined null 10n Symbol(s) [function]"),
    ]
    assert {entry.stepId for entry in outcome.logs} == {"transform"}


async def test_logs_are_bounded_in_lines_and_length(code_context: NodeContext) -> None:
    code = "for (let i = 0; i < 250; i++) console.log('line', i); console.warn('x'.repeat(10000)); return 'done';"
    outcome = await succeed(code_context, code)
    assert outcome.output == "done"
    assert len(outcome.logs) == MAX_LOG_LINES + 1
    assert [entry.msg for entry in outcome.logs[:3]] == ["line 0", "line 1", "line 2"]
    assert outcome.logs[MAX_LOG_LINES - 1].msg == "line 99"
    last = outcome.logs[-1]
    assert last.level == "WARN" and last.msg.startswith("log limit reached: 151 more lines not kept")

    long = await succeed(code_context, "console.warn('x'.repeat(10000)); return 1;")
    assert long.logs[0].level == "WARN" and long.logs[0].msg == "x" * MAX_LOG_CHARS + " …"


async def test_logs_written_before_a_failure_are_kept(code_context: NodeContext) -> None:
    thrown = await failure_of(code_context, "console.log('got here'); console.warn('about to fail'); throw new Error('x');")
    assert [(entry.level, entry.msg) for entry in thrown.logs] == [("INFO", "got here"), ("WARN", "about to fail")]
    spun = await failure_of(code_context, "console.log('spinning'); while (true) {}", timeoutMs=200)
    assert spun.message.startswith("timed out") and [entry.msg for entry in spun.logs] == ["spinning"]
    filled = await failure_of(code_context, "console.log('allocating'); const s = 'x'.repeat(1e9);", memoryMb=8)
    assert "memoryMb" in filled.message and [entry.msg for entry in filled.logs] == ["allocating"]


# --- errors --------------------------------------------------------------------------------------------------


async def test_a_thrown_error_fails_the_step_with_its_message_and_line(code_context: NodeContext) -> None:
    failure = await failure_of(code_context, "const a = 1;\n\nthrow new Error('order ' + a + ' has no amount');")
    assert failure.message == "Error: order 1 has no amount (line 3)"
    assert not failure.retryable, "the same code fails the same way again"
    failure = await failure_of(code_context, "const order = null;\nreturn order.amount;")
    assert failure.message == "TypeError: cannot read property 'amount' of null (line 2)"
    failure = await failure_of(code_context, "function check(n) {\n  if (n > 1) throw new RangeError('too big');\n}\ncheck(5);")
    assert failure.message == "RangeError: too big (line 2)", "the line where it was thrown, not where it was called"
    failure = await failure_of(code_context, "return JSON.parse('{oops');")
    assert failure.message.startswith("SyntaxError: ") and failure.message.endswith("(line 1)")


async def test_a_thrown_value_that_is_not_an_error(code_context: NodeContext) -> None:
    assert (await failure_of(code_context, "throw 'plain text';")).message == "the code threw plain text"
    assert (await failure_of(code_context, "throw { code: 42 };")).message == 'the code threw {"code":42}'


async def test_a_syntax_error_names_its_line(code_context: NodeContext) -> None:
    failure = await failure_of(code_context, "const a = 1;\nconst b = ;\nreturn a;")
    assert failure.message.startswith("SyntaxError: ") and failure.message.endswith("(line 2)")


# --- time ----------------------------------------------------------------------------------------------------


async def test_a_runaway_loop_times_out_without_blocking_the_event_loop(code_context: NodeContext) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    try:
        failure = await failure_of(code_context, "while (true) {}", timeoutMs=600)
    finally:
        ticker.cancel()
    elapsed = time.perf_counter() - started
    assert failure.message == "timed out after 600 ms (timeoutMs): the code ran longer than its timeout"
    assert failure.retryable, "a busy worker counts its other work in the same clock: another attempt may pass"
    # About the timeout: QuickJS counts the process's CPU time, so never much later, and sooner only under load.
    assert 0.25 < elapsed < 0.6 + 1.0, elapsed
    # The event loop went on meanwhile: 10 ms ticks, most of them on time.
    assert ticks >= elapsed / 0.01 * 0.5, (ticks, elapsed)


async def test_other_steps_run_while_code_spins(code_context: NodeContext) -> None:
    """Two runaways and a quick step at once: the quick one finishes long before the runaways stop."""
    spinning = [asyncio.create_task(failure_of(code_context, "while (true) {}", timeoutMs=1_500)) for _ in range(2)]
    started = time.perf_counter()
    assert await output_of(code_context, "return 'quick';") == "quick"
    assert time.perf_counter() - started < 0.5
    for failure in await asyncio.gather(*spinning):
        assert failure.message.startswith("timed out after 1,500 ms")


async def test_regular_expression_backtracking_is_stopped_too(code_context: NodeContext) -> None:
    failure = await failure_of(code_context, "return /^(a+)+$/.test('a'.repeat(40) + 'b');", timeoutMs=300)
    assert failure.message.startswith("timed out after 300 ms (timeoutMs)")


async def test_endless_microtasks_time_out(code_context: NodeContext) -> None:
    failure = await failure_of(code_context, "const again = () => queueMicrotask(again); again(); return 1;",
                               timeoutMs=300)
    assert failure.message.startswith("timed out after 300 ms (timeoutMs)")


# --- memory and sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [
    "const a = []; while (true) a.push(new Array(10000).fill(1.5));",
    "const a = []; while (true) a.push({ n: Math.random(), s: 'item' + a.length });",
    "const buffers = []; while (true) buffers.push(new Uint8Array(1 << 20).fill(7));",
    "return new ArrayBuffer(2 ** 30).byteLength;",
    "return 'x'.repeat(1e9).length;",
    "let s = 'ab'; while (true) { s = s + s; s.indexOf('z'); }",
])
async def test_the_memory_cap_stops_it_and_says_so(code_context: NodeContext, code: str) -> None:
    started = time.perf_counter()
    failure = await failure_of(code_context, code, memoryMb=16, timeoutMs=10_000)
    assert failure.message == ("exceeded its memory limit of 16 MB (memoryMb): the code's values took more memory "
                               "than that")
    assert not failure.retryable
    assert time.perf_counter() - started < 5, "stopped by the memory cap, not the timeout"


async def test_memory_is_enough_for_ordinary_work(code_context: NodeContext) -> None:
    code = "const a = Array.from({ length: 100000 }, (_, i) => ({ i })); return a.length;"
    assert await output_of(code_context, code, memoryMb=64) == 100_000


async def test_deep_recursion_fails_as_a_stack_overflow(code_context: NodeContext) -> None:
    failure = await failure_of(code_context, "function down(n) { return down(n + 1) + 1; }\nreturn down(0);")
    assert failure.message == "RangeError: Maximum call stack size exceeded (line 1)"


async def test_an_output_over_1_mib_fails_clearly(code_context: NodeContext) -> None:
    failure = await failure_of(code_context, "return 'x'.repeat(1100000);", memoryMb=64)
    assert failure.message == ("the code's return value cannot be the step's output: it is larger than 1 MiB as JSON: "
                               "return less, or only the fields the next steps read")
    # Multi-byte text is counted as UTF-8: 600,000 characters of 2 bytes each.
    failure = await failure_of(code_context, "return 'é'.repeat(600000);", memoryMb=64)
    assert failure.message.startswith("the code's return value is larger than 1 MiB as JSON (1,171 KiB)")
    assert len(json.dumps(await output_of(code_context, "return 'x'.repeat(1000000);"))) == 1_000_002


async def test_data_over_1_mib_is_refused_before_the_code_runs(code_context: NodeContext) -> None:
    big = {"big": {"status": "succeeded", "output": {"rows": ["r" * 1000] * 1200}}}
    failure = await failure_of(code_context, "return 1;", steps=big)
    assert failure.message.startswith("the data passed to the code (inputs, steps and loop, as JSON) is 1,")
    assert "over the 1 MiB limit" in failure.message


@pytest.mark.parametrize(("code", "problem"), [
    ("return () => 1;", "output is a function, which JSON cannot hold"),
    ("return { nested: { fn() {} } };", "output.nested.fn is a function, which JSON cannot hold"),
    ("const a = { name: 'a' }; a.self = a; return a;", "output.self contains itself (a cycle), which JSON cannot hold"),
    ("return { big: 10n };", "output.big is a BigInt, which JSON cannot hold: convert it with Number() or String()"),
    ("return [1, Symbol('s')];", "output[1] is a Symbol, which JSON cannot hold"),
    ("return { m: new Map([[1, 2]]) };", "output.m is a Map, which JSON cannot hold: return Object.fromEntries(map)"),
    ("return new Set([1]);", "output is a Set, which JSON cannot hold: return [...set]"),
    ("return { later: Promise.resolve(1) };", "output.later is a Promise: await it before returning it"),
    ("return { 'two words': { toJSON() { return () => 1; } } };",
     'output["two words"] is a function, which JSON cannot hold'),
    ("let v = 1; for (let i = 0; i < 70; i++) v = [v]; return v;",
     "output" + "[0]" * 64 + " nests more than 64 levels deep, more than a run keeps: flatten it"),
])
async def test_a_return_value_json_cannot_hold_fails_naming_where(code_context: NodeContext, code: str,
                                                                  problem: str) -> None:
    failure = await failure_of(code_context, code)
    assert failure.message == f"the code's return value cannot be the step's output: {problem}"


# --- credentials, secrets and a clean start --------------------------------------------------------------------


async def test_no_credential_is_revealed_to_a_code_step(code_context: NodeContext) -> None:
    """`code` is not a template: {{ getCredential(...) }} in it is text, and no credential is fetched."""
    store = code_context.credentials
    assert isinstance(store, RecordingCredentials)
    code = "return `{{ getCredential('apiToken') }}`;"
    assert await output_of(code_context, code) == "{{ getCredential('apiToken') }}"
    failure = await failure_of(code_context, "return getCredential('apiToken');")
    assert failure.message.startswith("Error: getCredential is not available in a code step")
    assert store.asked == [], "the step runner never opened a credential for a code step"


async def test_what_reaches_a_code_step_is_already_scrubbed(code_context: NodeContext) -> None:
    """A step's output is scrubbed when it is reported, before a later step can read it; the code sees only that."""
    upstream = {"call": {"status": "succeeded", "output": {"headers": {"authorization": MASK}, "body": "ok"}}}
    outcome = await succeed(code_context, "console.log(JSON.stringify(steps)); return steps.call.output;",
                            steps=upstream)
    assert CODE_CANARY not in json.dumps([outcome.output, [entry.msg for entry in outcome.logs]])
    assert outcome.output == {"headers": {"authorization": MASK}, "body": "ok"}


async def test_every_run_starts_from_a_clean_context(code_context: NodeContext) -> None:
    polluting = """
        globalThis.leftover = 'from before';
        var declared = 1;
        Object.prototype.polluted = 'yes';
        Array.prototype.map = function () { return 'hijacked'; };
        JSON.stringify = () => 'hijacked';
        console.log = () => {};
        return [1].map(x => x);
    """
    assert await output_of(code_context, polluting) == "hijacked", "the pollution works within its own run"
    reading = """
        return [typeof leftover, typeof declared, ({}).polluted, [1, 2].map(x => x * 2), JSON.stringify({ a: 1 })];
    """
    assert await output_of(code_context, reading) == ["undefined", "undefined", None, [2, 4], '{"a":1}']
    assert {"polluted"}.isdisjoint(dir({})) and [].__class__ is list, "and the host is untouched"


async def test_steps_run_at_once_on_the_sandboxs_threads(code_context: NodeContext) -> None:
    codes = [f"let x = 0; for (let i = 0; i < 200000; i++) x += i % {n}; return {n};" for n in range(2, 14)]
    results = await asyncio.gather(*(output_of(code_context, code) for code in codes))
    assert results == list(range(2, 14))


async def test_the_per_step_overhead_is_about_a_millisecond(code_context: NodeContext) -> None:
    """A trivial body through the whole step runner; the figure is in docs/CODE-SANDBOX.md."""
    await output_of(code_context, "return 1;")
    durations = []
    for _ in range(200):
        started = time.perf_counter()
        await output_of(code_context, "return 1;")
        durations.append(time.perf_counter() - started)
    assert statistics.median(durations) < 0.02, statistics.median(durations)


async def test_a_sandbox_of_its_own_can_be_closed() -> None:
    sandbox = JsSandbox(threads=1)
    result = await sandbox.run("return inputs.a + 1;", {"inputs": {"a": 1}, "steps": {}, "loop": None}, 1000, 16)
    assert (result.failure, result.output) == (None, 2)
    sandbox.close()
    sandbox.close()
