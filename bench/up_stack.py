"""The stack as a user runs it: a real `automateos up` in a temporary directory, for the benchmarks.

`up` starts its embedded nats-server with nats.conf (accounts and one user per role), runs `automateos setup`, then
each actor as its own role (`--layout one-process`: gateway, orchestrator and one engine in one process), engines
signing their results; it supervises them. The benchmark gives it the secrets it would otherwise generate into .env
(admin token, master key, results key, the roles' NATS passwords) so it can sign in as admin itself. The processes
measured are `up` and every process under it, found from /proc, so the supervisor counts in CPU and RSS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bus import free_port, new_master_key, new_results_key  # noqa: E402
from bus.permissions import ROLES, new_password, password_variable  # noqa: E402
from bus.server import ends_with_parent  # noqa: E402
from tests.support.process_tree import actor_of, command_line, tree  # noqa: E402
from throughput import BENCH_TOKEN, LAYOUTS, MockApi, StackStartError  # noqa: E402

UP_READY = "AutomateOS is up"
_READY_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 60.0

def up_help() -> str:
    """`automateos up --help` as UpStack would run it (from a directory of its own, so the same package answers)."""
    done = subprocess.run([sys.executable, "-m", "automateos", "up", "--help"], capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), check=False)
    return done.stdout


def measured_checkout() -> str:
    """Which automateos package `up` runs (a PYTHONPATH may name another checkout than this one), and its commit."""
    done = subprocess.run([sys.executable, "-c", "import automateos; print(automateos.__file__)"], capture_output=True,
                          text=True, cwd=tempfile.gettempdir(), check=False)
    if done.returncode != 0:
        return "unknown (automateos does not import)"
    root = Path(done.stdout.strip()).parent.parent
    head = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %cs"], capture_output=True, text=True,
                          check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"{root} at {head or 'no commit'}" + (" plus uncommitted changes" if dirty else "")


def up_layout_unavailable(layout: str, help_text: str | None = None) -> str | None:
    """Why `automateos up --layout <layout>` cannot run in this checkout, or None."""
    if layout not in LAYOUTS:
        return f"unknown layout {layout!r} (one of {', '.join(LAYOUTS)})"
    if layout == "processes":
        return None
    if "--layout" not in (up_help() if help_text is None else help_text):
        return ("the one-process layout needs `automateos up --layout one-process`, which this checkout's `automateos "
                "up` does not have yet (`automateos up --help` lists no --layout); the processes layout works")
    return None


class UpStack:
    """`automateos up [--layout L]` with its own ports, data directory and secrets; the shared mock API is given."""

    engines = 1  # `up` starts one engine

    def __init__(self, layout: str, mock: MockApi, engine_concurrency: int = 64) -> None:
        self.layout = layout
        self.mock_port = mock.port
        self.mock: subprocess.Popen[bytes] | None = mock.process
        self.engine_concurrency = engine_concurrency
        self.tmp = tempfile.TemporaryDirectory(prefix="automateos-bench-up-")
        self.directory = Path(self.tmp.name)
        self.log = self.directory / "up.log"
        self.port = free_port()
        self.nats_port = free_port()
        self.passwords = {role: new_password() for role in ROLES}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    def login(self) -> dict[str, str]:
        return {"user": "admin", "password": self.passwords["admin"]}

    def environment(self) -> dict[str, str]:
        """This shell's environment without any AutomateOS setting or NATS_URL, then the stack's own."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("AUTOMATEOS_") and k != "NATS_URL"}
        return {**inherited, "AUTOMATEOS_DATA_DIR": str(self.directory / "data"), "AUTOMATEOS_HOST": "127.0.0.1",
                "AUTOMATEOS_PORT": str(self.port), "AUTOMATEOS_NATS_PORT": str(self.nats_port),
                "AUTOMATEOS_LOG_LEVEL": "WARNING", "AUTOMATEOS_ENGINE_CONCURRENCY": str(self.engine_concurrency),
                "AUTOMATEOS_ADMIN_TOKEN": BENCH_TOKEN, "AUTOMATEOS_MASTER_KEY": new_master_key(),
                "AUTOMATEOS_RESULTS_KEY": new_results_key(),
                **{password_variable(role): password for role, password in self.passwords.items()}}

    def command(self, help_text: str) -> list[str]:
        """`--layout` only where `up` has it: the processes layout runs on a checkout from before it too."""
        layout = ["--layout", self.layout] if "--layout" in help_text else []
        return [sys.executable, "-m", "automateos", "up", *layout]

    def start(self) -> None:
        help_text = up_help()
        reason = up_layout_unavailable(self.layout, help_text)
        if reason:
            raise StackStartError(reason)
        with self.log.open("wb") as out:
            # Own session: a Ctrl-C reaches only the benchmark, which stops `up` (and `up` its children).
            self.process = subprocess.Popen(self.command(help_text), cwd=self.directory, env=self.environment(),
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True, preexec_fn=ends_with_parent())
        self._wait_until_up()
        self._check_layout()

    def _log_tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join("    " + line for line in text.splitlines()[-lines:])

    def _wait_until_up(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if UP_READY in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise StackStartError(f"`automateos up` ({self.layout} layout) exited with code "
                                      f"{self.process.returncode} while starting; the end of its output:\n"
                                      + self._log_tail())
            time.sleep(0.2)
        raise StackStartError(f"`automateos up` ({self.layout} layout) was not up within {_READY_TIMEOUT_S:g} s; "
                              "the end of its output:\n" + self._log_tail())

    def _check_layout(self) -> None:
        """The processes under `up` are the layout asked for (a flag accepted and ignored would mislead)."""
        names = sorted(self.named_pids().values())
        separate = {"gateway", "orchestrator", "engine"} & set(names)
        if self.layout == "one-process" and separate:
            raise StackStartError(f"`automateos up --layout one-process` started separate actor processes: {names}")
        if self.layout == "processes" and separate != {"gateway", "orchestrator", "engine"}:
            raise StackStartError(f"`automateos up` started {names}, not one process per actor")

    def named_pids(self) -> dict[int, str]:
        """`up` and every process under it (the transient `automateos setup` aside), by name."""
        if self.process is None or self.process.poll() is not None:
            return {}
        found = {self.process.pid: "up"}
        for pid in tree(self.process.pid)[1:]:
            name = actor_of(command_line(pid))
            if name != "setup":
                found[pid] = name
        return found

    def pids(self) -> list[int]:
        return list(self.named_pids())

    def processes(self) -> str:
        """`up, nats-server, orchestrator, …`: what this stack is made of, for the printout."""
        return ", ".join(self.named_pids().values())

    def stop(self) -> None:
        """SIGINT to `up`, as a Ctrl-C in its terminal (it stops its children in order); whatever is left after
        a minute is killed, each by its PID."""
        if self.process is not None and self.process.poll() is None:
            left = {pid: _started(pid) for pid in tree(self.process.pid)[1:]}
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print(f"`automateos up` (pid {self.process.pid}) did not stop in {_STOP_TIMEOUT_S:g} s; killing it "
                      "and what it started", file=sys.stderr)
                self.process.kill()
                self.process.wait()
            _kill_left(left)
        self.tmp.cleanup()


def _started(pid: int) -> int | None:
    """The process's start time in clock ticks since boot: with the PID, names one process (PIDs are reused)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _kill_left(pids: dict[int, int | None]) -> None:
    """SIGKILL those of `pids` (PID → start time) still alive: the same processes, not a reused PID."""
    for pid, started in pids.items():
        if started is not None and _started(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
