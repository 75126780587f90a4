"""What bench/vs_nodered.py measures and prints: the cells, the plan of them, the per-cell tables and issue 19's table.

Pure: no process is started here (tests/test_bench_vs_nodered.py checks the plan, the order and the table).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from throughput import Result

LAYOUT_TAGS = {"processes": "procs", "one-process": "1-proc"}
PATHS_AT_50 = ("webhook", "ws", "post", "bus")  # what the issue's rows at c=50 need
PATHS_ELSEWHERE = ("webhook",)  # at other concurrencies (c=1: the webhook's p50)


@dataclass(frozen=True)
class System:
    """Node-RED (no layout), or AutomateOS in a layout, driven along a path (bench/throughput.py's --path)."""

    layout: str | None = None
    path: str | None = None

    @property
    def node_red(self) -> bool:
        return self.layout is None

    def label(self, several_layouts: bool) -> str:
        if self.layout is None:
            return "Node-RED"
        return f"AOS {self.path}" + (f" [{LAYOUT_TAGS.get(self.layout, self.layout)}]" if several_layouts else "")


NODE_RED = System()


@dataclass
class Cell:
    """One system's measured batch of runs."""

    runs: int
    seconds: float
    latencies_ms: list[float]
    cpu_ms: float  # the system under test
    failed: int
    load_cpu_ms: float  # this load generator and the mock: not the system under test
    cpu_by_process: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    peak_rss_by_process: dict[str, float] = field(default_factory=dict)
    background_cores: float = 0.0  # CPU that other processes on this machine used meanwhile, in cores

    @classmethod
    def of(cls, result: Result) -> Cell:
        return cls(result.runs, result.seconds, result.latencies_ms, result.cpu_ms, result.failed, result.load_cpu_ms,
                   result.cpu_by_process, result.peak_rss_mb, result.peak_rss_by_process)

    @property
    def runs_per_s(self) -> float:
        return self.runs / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]

    @property
    def cpu_ms_per_run(self) -> float:
        return self.cpu_ms / self.runs

    @property
    def load_cpu_ms_per_run(self) -> float:
        return self.load_cpu_ms / self.runs


@dataclass
class Group:
    """The cells of one mock delay and concurrency: every system, each repeat."""

    delay: float
    concurrency: int
    runs: int
    systems: list[System]
    cells: dict[System, list[Cell]] = field(default_factory=dict)

    @property
    def warmup(self) -> int:
        return max(self.concurrency, self.runs // 10)


@dataclass
class Memory:
    """Summed VmRSS of one system's processes: idle (after the warm-up settled) and the peak under c=50."""

    idle_mb: float = 0.0
    idle_by_process: dict[str, float] = field(default_factory=dict)
    peak_mb: float = 0.0
    peak_by_process: dict[str, float] = field(default_factory=dict)

    def saw(self, cell: Cell) -> None:
        if cell.peak_rss_mb > self.peak_mb:
            self.peak_mb, self.peak_by_process = cell.peak_rss_mb, cell.peak_rss_by_process


def default_runs(concurrency: int, quick: bool) -> int:
    """Runs per cell: about 5-10 s of AutomateOS work per cell here, a third with --quick."""
    runs = {1: 500, 50: 2000}.get(concurrency, min(2000, max(300, 40 * concurrency)))
    return max(concurrency, runs // 3) if quick else runs


def plan(delays: list[float], concurrencies: list[int], paths: list[str] | None, layouts: list[str],
         runs: int, quick: bool) -> list[Group]:
    """The groups of cells to run, in order. Without `paths`: all four paths at c=50, the webhook elsewhere."""
    groups = []
    for delay in delays:
        for concurrency in concurrencies:
            chosen = paths or list(PATHS_AT_50 if concurrency == 50 else PATHS_ELSEWHERE)
            systems = [NODE_RED, *(System(layout, path) for layout in layouts for path in chosen)]
            groups.append(Group(delay, concurrency, runs or default_runs(concurrency, quick), systems))
    return groups


def turn_order(systems: list[System], turn: int) -> list[System]:
    """The order of one repeat's cells: rotated by one each turn, so each system goes first in turn, and the rest
    reversed every other turn, so no system always follows the same one."""
    shift = turn % len(systems)
    rotated = systems[shift:] + systems[:shift]
    return rotated[:1] + rotated[:0:-1] if turn % 2 else rotated


# -- per-cell tables --------------------------------------------------------------------------------------------------

def median_of(cells: list[Cell], attribute: str) -> float:
    return statistics.median(float(getattr(cell, attribute)) for cell in cells)


def ratio(ours: list[Cell], theirs: list[Cell], attribute: str) -> float:
    return median_of(ours, attribute) / max(median_of(theirs, attribute), 1e-9)


def per_process(cells: list[Cell]) -> dict[str, float]:
    """Median CPU ms per run of each process over the cells."""
    values: dict[str, list[float]] = {}
    for cell in cells:
        for name, ms in cell.cpu_by_process.items():
            values.setdefault(name, []).append(ms / cell.runs)
    return {name: statistics.median(ms) for name, ms in values.items()}


def by_process_text(values: dict[str, float], unit: str = "ms") -> str:
    return ", ".join(f"{name} {value:.2f}" if unit == "ms" else f"{name} {value:.0f}"
                     for name, value in values.items()) + f" {unit}"


def group_table(group: Group, several_layouts: bool) -> list[str]:
    repeats = len(group.cells.get(NODE_RED, []))
    lines = [f"\nmock delay {group.delay:g} ms, concurrency {group.concurrency}: {group.runs} runs per cell "
             f"(+{group.warmup} warm-up), median of {repeats} repeat{'s' if repeats != 1 else ''}",
             f"  {'':<22} {'runs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/run':>11} {'failed':>7} "
             f"{'peak RSS MB':>12}   {'client+mock CPU ms/run':>22} {'other load, cores':>18}"]
    for system in group.systems:
        cells = group.cells[system]
        lines.append(f"  {system.label(several_layouts):<22} {median_of(cells, 'runs_per_s'):>8.1f} "
                     f"{median_of(cells, 'p50_ms'):>8.1f} {median_of(cells, 'p95_ms'):>8.1f} "
                     f"{median_of(cells, 'cpu_ms_per_run'):>11.2f} {sum(c.failed for c in cells):>7} "
                     f"{max(c.peak_rss_mb for c in cells):>12.0f}   {median_of(cells, 'load_cpu_ms_per_run'):>22.2f} "
                     f"{median_of(cells, 'background_cores'):>18.2f}")
    theirs = group.cells[NODE_RED]
    for system in group.systems:
        if system.node_red:
            continue
        ours = group.cells[system]
        lines.append(f"  {system.label(several_layouts)} / Node-RED: throughput ×{ratio(ours, theirs, 'runs_per_s'):.2f}, "
                     f"CPU per run ×{ratio(ours, theirs, 'cpu_ms_per_run'):.2f}, p50 ×{ratio(ours, theirs, 'p50_ms'):.2f}"
                     f"; CPU ms/run by process: {by_process_text(per_process(ours))}")
    return lines


# -- issue 19's table -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    target: str
    measured: str
    goal: str
    met: str


TARGETS = {
    "hook_rate": ("webhook `lastNode`, c=50: throughput, AutomateOS / Node-RED", "≥ 0.7"),
    "hook_cpu": ("webhook `lastNode`, c=50: CPU per run, AutomateOS / Node-RED", "≤ 2.0×"),
    "hook_p50": ("webhook, c=1: p50, AutomateOS / Node-RED", "≤ 2×"),
    "ws_rate": ("`POST /v1/runs` + WebSocket, c=50: throughput / Node-RED", "≥ 0.6"),
    "ws_cpu": ("CPU, POST + following over WebSocket / POST alone", "≤ 1.3×"),
    "bus": ("bus path (`runs.requested` published on NATS), c=50", "≥ 1,000 runs/s, ≤ 1.5 ms CPU per run"),
    "rss": ("whole stack RSS idle / under c=50", "≤ 200 / 300 MB"),
}


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


class IssueTable:
    """Issue 19's rows for one layout, from the groups of one mock delay."""

    def __init__(self, groups: list[Group], memory: dict[str, Memory], layout: str, delay: float) -> None:
        self.groups = {group.concurrency: group for group in groups if group.delay == delay}
        self.memory = memory
        self.layout = layout

    def cells(self, concurrency: int, path: str | None) -> list[Cell] | None:
        group = self.groups.get(concurrency)
        system = NODE_RED if path is None else System(self.layout, path)
        return group.cells.get(system) if group is not None else None

    def rows(self) -> list[Row]:
        return [self._ratio_row("hook_rate", 50, "webhook", "runs_per_s", "runs/s", lambda r: r >= 0.7),
                self._ratio_row("hook_cpu", 50, "webhook", "cpu_ms_per_run", "ms", lambda r: r <= 2.0),
                self._ratio_row("hook_p50", 1, "webhook", "p50_ms", "ms", lambda r: r <= 2.0),
                self._ratio_row("ws_rate", 50, "ws", "runs_per_s", "runs/s", lambda r: r >= 0.6),
                self._ws_over_post(), self._bus(), self._rss()]

    def _row(self, key: str, measured: str, met: str) -> Row:
        target, goal = TARGETS[key]
        return Row(target, measured, goal, met)

    def _missing(self, key: str, what: str) -> Row:
        return self._row(key, f"not measured (needs {what})", "–")

    def _ratio_row(self, key: str, concurrency: int, path: str, attribute: str, unit: str,
                   good: Callable[[float], bool]) -> Row:
        ours, theirs = self.cells(concurrency, path), self.cells(concurrency, None)
        if not ours or not theirs:
            return self._missing(key, f"the {path} path at c={concurrency}")
        value = ratio(ours, theirs, attribute)
        shown = f"{value:.2f}×" if attribute != "runs_per_s" else f"{value:.2f}"
        digits = ".1f" if unit == "runs/s" or attribute == "p50_ms" else ".2f"
        measured = (f"{shown} ({median_of(ours, attribute):{digits}} / {median_of(theirs, attribute):{digits}} {unit}; "
                    f"AutomateOS CPU by process: {by_process_text(per_process(ours))})")
        return self._with_failures(key, measured, _yes(good(value)), [*ours, *theirs])

    def _with_failures(self, key: str, measured: str, met: str, cells: list[Cell]) -> Row:
        failed = sum(cell.failed for cell in cells)
        if failed:
            return self._row(key, f"{measured}; {failed} runs failed", "? (runs failed)")
        return self._row(key, measured, met)

    def _ws_over_post(self) -> Row:
        ws, post = self.cells(50, "ws"), self.cells(50, "post")
        if not ws or not post:
            return self._missing("ws_cpu", "the ws and post paths at c=50")
        value = ratio(ws, post, "cpu_ms_per_run")
        measured = (f"{value:.2f}× ({median_of(ws, 'cpu_ms_per_run'):.2f} / {median_of(post, 'cpu_ms_per_run'):.2f} ms;"
                    f" POST + WebSocket: {by_process_text(per_process(ws))}; POST alone: "
                    f"{by_process_text(per_process(post))})")
        return self._with_failures("ws_cpu", measured, _yes(value <= 1.3), [*ws, *post])

    def _bus(self) -> Row:
        cells = self.cells(50, "bus")
        if not cells:
            return self._missing("bus", "the bus path at c=50")
        rate, cpu = median_of(cells, "runs_per_s"), median_of(cells, "cpu_ms_per_run")
        measured = f"{rate:,.0f} runs/s, {cpu:.2f} ms ({by_process_text(per_process(cells))})"
        met = "yes" if rate >= 1000 and cpu <= 1.5 else f"no (runs/s {_yes(rate >= 1000)}, CPU {_yes(cpu <= 1.5)})"
        return self._with_failures("bus", measured, met, cells)

    def _rss(self) -> Row:
        ours, theirs = self.memory.get(self.layout), self.memory.get(NODE_RED.label(False))
        if ours is None or not ours.peak_mb:
            return self._missing("rss", "cells at c=50")
        measured = (f"{ours.idle_mb:.0f} / {ours.peak_mb:.0f} MB (idle: {by_process_text(ours.idle_by_process, 'MB')}; "
                    f"peak: {by_process_text(ours.peak_by_process, 'MB')})")
        if theirs is not None:
            measured += f"; Node-RED {theirs.idle_mb:.0f} / {theirs.peak_mb:.0f} MB"
        idle_ok, peak_ok = ours.idle_mb <= 200, ours.peak_mb <= 300
        met = "yes" if idle_ok and peak_ok else f"no (idle {_yes(idle_ok)}, under c=50 {_yes(peak_ok)})"
        return self._row("rss", measured, met)


def markdown(rows: list[Row]) -> list[str]:
    lines = ["| target | measured | goal | met? |", "|---|---|---|---|"]
    return lines + [f"| {row.target} | {row.measured} | {row.goal} | {row.met} |" for row in rows]


def other_load(groups: list[Group]) -> tuple[float, float]:
    """Median and largest CPU (in cores) other processes used during the cells."""
    values = [cell.background_cores for group in groups for cells in group.cells.values() for cell in cells]
    return (statistics.median(values), max(values)) if values else (0.0, 0.0)
