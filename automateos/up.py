"""`automateos up`: the embedded nats-server (unless NATS_URL is set) and one process per actor."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from bus import BusError, EmbeddedNats
from schemas.credentials import NewCredential

from .settings import Settings

log = logging.getLogger("automateos.up")

_READY_TIMEOUT_S = 60.0
OFFERED_CREDENTIALS = {"SLACK_WEBHOOK": "slackWebhook", "NOTION_TOKEN": "notionToken"}


class Stack:
    """The child processes of `up`. Each runs `python -m automateos <actor>` against the same NATS."""

    def __init__(self, settings: Settings, engines: int = 1) -> None:
        self.settings = settings
        self.engines = engines
        self.nats: EmbeddedNats | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        nats_url = self.settings.nats_url
        if nats_url is None:
            store = self.settings.data_dir.resolve() / "nats"
            config = self.settings.nats_conf if self.settings.nats_conf.exists() else None
            self.nats = EmbeddedNats(store, port=self.settings.nats_port, config_file=config).start()
            nats_url = self.nats.url
            print(f"✓ nats-server (embedded, JetStream store {store}) on {nats_url}", flush=True)
        env = {**os.environ, "NATS_URL": nats_url}
        # `up` owns the bus: it declares the streams and buckets once, with its settings; the actors only bind.
        subprocess.run([sys.executable, "-m", "automateos", "setup"], env=env, check=True)
        if self.settings.master_key:
            env["AUTOMATEOS_MASTER_KEY"] = self.settings.master_key
        actors = ["orchestrator", *(["engine"] * self.engines), "gateway"]
        # The orchestrator never handles credentials, so it never gets the key; only the gateway checks tokens.
        secrets = ("AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_MASTER_PASSWORD", "AUTOMATEOS_ADMIN_TOKEN")
        without_key = {k: v for k, v in env.items() if k not in secrets}
        engine_env = {k: v for k, v in env.items() if k != "AUTOMATEOS_ADMIN_TOKEN"}
        gateway_env = {**env, "AUTOMATEOS_ADMIN_TOKEN": self.settings.admin_token or ""}
        for index, actor in enumerate(actors):
            args = [sys.executable, "-m", "automateos", actor]
            if actor == "gateway":
                args += ["--host", self.settings.host, "--port", str(self.settings.port)]
            if actor == "engine":
                args += ["--concurrency", str(self.settings.engine_concurrency)]
            # Own session: Ctrl-C reaches only `up`, which then stops the children in order.
            key = f"{actor}-{index}" if actor == "engine" else actor
            child_env = {"orchestrator": without_key, "engine": engine_env}.get(actor, gateway_env)
            self.children[key] = subprocess.Popen(args, env=child_env, start_new_session=True)
        self._wait_for_gateway()
        self._offer_credentials_from_env()

    def _offer_credentials_from_env(self) -> None:
        """SLACK_WEBHOOK and NOTION_TOKEN in the environment become credentials, unless already stored."""
        for variable, name in OFFERED_CREDENTIALS.items():
            value = os.environ.get(variable)
            if not value:
                continue
            base = f"{self.settings.gateway_url}/v1/credentials"
            request = urllib.request.Request(
                base, method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.settings.admin_token}"},
                data=NewCredential(name=name, value=value, description=f"from {variable}").model_dump_json().encode(),
            )
            try:
                with urllib.request.urlopen(request, timeout=10):
                    print(f"✓ credential {name} added from {variable}", flush=True)
            except urllib.error.HTTPError as error:
                if error.code != 409:  # 409: stored already, and a stored value wins over the environment
                    print(f"✗ could not add credential {name} from {variable}: HTTP {error.code}", flush=True)

    def _wait_for_gateway(self) -> None:
        url = f"{self.settings.gateway_url}/readyz"
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            self.check_children()
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise BusError(f"the gateway did not become ready at {url} within {_READY_TIMEOUT_S:.0f} s")

    def check_children(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise BusError(f"{name} exited with code {child.returncode}; see its log above")

    def stop(self) -> None:
        # Gateway first (no new runs), then workers and orchestrator, then the broker they need to drain.
        for name in sorted(self.children, key=lambda n: n != "gateway"):
            child = self.children[name]
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in self.children.items():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in 15 s; killing it", name)
                child.kill()
                child.wait()
        self.children.clear()
        if self.nats is not None:
            self.nats.stop()
            self.nats = None

    def pids(self) -> list[int]:
        pids = [child.pid for child in self.children.values()]
        if self.nats is not None and self.nats.process is not None:
            pids.append(self.nats.process.pid)
        return pids


def up(settings: Settings) -> int:
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings)
    try:
        stack.start()
        print(f"✓ AutomateOS is up: open {settings.gateway_url}/?token={settings.admin_token}  (this link signs you "
              "in as admin; Ctrl-C stops everything)", flush=True)
        while not stop_requested:
            stack.check_children()
            time.sleep(0.2)
        print("Stopping…", flush=True)
        return 0
    except BusError as error:
        print(f"✗ {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()
        print("✓ stopped", flush=True)
