"""A process's children, its whole tree and their memory, read from Linux's /proc."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> dict[int, str]:
    """The child processes of `pid` and their command lines (none for a process that has just ended)."""
    found = {}
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return {}
    for task in tasks:
        try:
            listed = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in listed:
            found[int(child)] = command_line(int(child))
    return found


def command_line(pid: int) -> str:
    """The process's command line; empty once it has ended."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


def tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    return [pid, *(below for child in children(pid) for below in tree(child))]


def rss_kib(pid: int) -> int:
    """The process's resident memory (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # a zombie has none


def actor_of(command: str) -> str:
    """`nats-server`, or the `automateos` command a process runs: gateway, orchestrator, engine, stack, up."""
    if "nats-server" in command.split(" ", 1)[0]:
        return "nats-server"
    words = command.split()
    if not words:
        return "?"  # ended, or a zombie
    return next((words[i + 1] for i, word in enumerate(words[:-1])
                 if word == "automateos" or word.endswith("/automateos")), Path(words[0]).name)
