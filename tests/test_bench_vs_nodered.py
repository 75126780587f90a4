"""bench/vs_nodered.py's pure parts: the plan of cells, their order, issue 19's table, and naming `up`'s processes.
(The benchmark itself runs for minutes against Node-RED: `make bench-nodered`, not `make test`.)"""

from __future__ import annotations

import sys

from automateos.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

from tests.support.process_tree import actor_of  # noqa: E402
from vs_nodered_report import NODE_RED, Cell, Group, IssueTable, Memory, System, plan, turn_order  # noqa: E402


def test_each_system_goes_first_in_turn_and_the_order_alternates() -> None:
    systems = [NODE_RED, System("processes", "webhook"), System("processes", "ws")]
    orders = [turn_order(systems, turn) for turn in range(6)]
    assert all(sorted(order, key=systems.index) == systems for order in orders), "every system in every repeat"
    assert [order[0] for order in orders] == [*systems, *systems]
    assert orders[0] == systems
    assert orders[1] == [System("processes", "webhook"), NODE_RED, System("processes", "ws")], "the rest reversed"
    two = [NODE_RED, System("processes", "ws")]
    assert [turn_order(two, turn) for turn in range(2)] == [two, two[::-1]], "two systems: who goes first alternates"


def test_the_default_plan_holds_every_cell_the_issue_table_needs() -> None:
    groups = plan([0.0], [1, 50], None, ["processes", "one-process"], 0, quick=False)
    at_1, at_50 = groups
    assert at_1.systems == [NODE_RED, System("processes", "webhook"), System("one-process", "webhook")]
    assert {s.path for s in at_50.systems if not s.node_red} == {"webhook", "ws", "post", "bus"}
    assert len(at_50.systems) == 9 and at_50.runs == 2000 and at_50.warmup == 200
    assert plan([0.0], [50], ["ws"], ["processes"], 300, quick=True)[0].runs == 300


def cell(runs_per_s: float, cpu_ms: float, p50_ms: float, failed: int = 0) -> Cell:
    runs = 100
    return Cell(runs, runs / runs_per_s, [p50_ms] * runs, cpu_ms * runs, failed, 0.0,
                {"gateway": cpu_ms * runs / 2, "orchestrator": cpu_ms * runs / 2})


def groups(webhook_failed: int = 0) -> list[Group]:
    layout = "processes"
    at_1 = Group(0.0, 1, 100, [], {NODE_RED: [cell(400, 2, 2.0)], System(layout, "webhook"): [cell(80, 10, 5.0)]})
    at_50 = Group(0.0, 50, 100, [], {
        NODE_RED: [cell(600, 2, 70), cell(640, 2, 75), cell(700, 2, 80)],
        System(layout, "webhook"): [cell(420, 3, 100, webhook_failed)] * 3,
        System(layout, "ws"): [cell(300, 6, 150)] * 3,
        System(layout, "post"): [cell(500, 5, 90)] * 3,
        System(layout, "bus"): [cell(1100, 1.4, 40)] * 3,
    })
    return [at_1, at_50]


def test_the_issue_table_compares_medians_and_says_which_targets_are_met() -> None:
    memory = {"processes": Memory(190, {"up": 60}, 310, {"up": 60}), "Node-RED": Memory(120, {}, 140, {})}
    rows = IssueTable(groups(), memory, "processes", 0.0).rows()
    assert [row.target for row in rows] == [
        "webhook `lastNode`, c=50: throughput, AutomateOS / Node-RED",
        "webhook `lastNode`, c=50: CPU per run, AutomateOS / Node-RED",
        "webhook, c=1: p50, AutomateOS / Node-RED",
        "`POST /v1/runs` + WebSocket, c=50: throughput / Node-RED",
        "CPU, POST + following over WebSocket / POST alone",
        "bus path (`runs.requested` published on NATS), c=50",
        "whole stack RSS idle / under c=50",
    ]
    hook_rate, hook_cpu, hook_p50, ws_rate, ws_cpu, bus, rss = rows
    assert hook_rate.measured.startswith("0.66 (420.0 / 640.0 runs/s; AutomateOS CPU by process: gateway 1.50, "
                                         "orchestrator 1.50 ms)") and hook_rate.met == "no"
    assert hook_cpu.measured.startswith("1.50× (3.00 / 2.00 ms") and hook_cpu.met == "yes"
    assert hook_p50.measured.startswith("2.50× (5.0 / 2.0 ms") and hook_p50.met == "no"
    assert ws_rate.measured.startswith("0.47 (300.0 / 640.0") and ws_rate.met == "no"
    assert ws_cpu.measured.startswith("1.20× (6.00 / 5.00 ms") and ws_cpu.met == "yes"
    assert bus.measured.startswith("1,100 runs/s, 1.40 ms") and bus.met == "yes"
    assert rss.measured.startswith("190 / 310 MB") and "Node-RED 120 / 140 MB" in rss.measured
    assert rss.met == "no (idle yes, under c=50 no)"


def test_failed_runs_leave_a_row_unjudged_and_missing_cells_are_named() -> None:
    rows = IssueTable(groups(webhook_failed=2), {}, "processes", 0.0).rows()
    assert rows[0].met == "? (runs failed)" and "6 runs failed" in rows[0].measured
    assert rows[6].measured.startswith("not measured") and rows[6].met == "–"
    only_ws = IssueTable(groups()[1:], {}, "one-process", 0.0).rows()
    assert all(row.measured.startswith("not measured") for row in only_ws)


def test_up_s_processes_are_named_from_their_command_lines() -> None:
    assert actor_of("/venv/bin/nats-server -c nats.conf") == "nats-server"
    assert actor_of("/venv/bin/python -m automateos up --layout one-process") == "up"
    assert actor_of("/venv/bin/python -m automateos stack --port 8080") == "stack"
    assert actor_of("/venv/bin/python -m automateos engine --concurrency 64") == "engine"
    assert actor_of("node red.js") == "node" and actor_of("") == "?"
