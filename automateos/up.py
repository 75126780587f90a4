"""`automateos up`: the embedded nats-server (unless NATS_URL is set) and the actors' processes, supervised: one
process per actor, or (`--layout one-process`) one `automateos stack` process hosting the gateway, the orchestrator and
an engine worker, plus any further engine processes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bus import BusError, EmbeddedNats, LocalCluster, MasterKeyError
from bus.server import ends_with_parent
from bus.permissions import ROLES, password_variable
from schemas.credentials import NewCredential
from schemas.host_patterns import fence_of_url

from .master_key import EnvWriteFailed, ensure_master_key, write_key_check
from .settings import Settings
from .sign_in import SignInLinkError, sign_in_link

log = logging.getLogger("automateos.up")

_READY_TIMEOUT_S = 60.0
# Environment variable -> (credential, its fence). A credential that is a URL is fenced to that URL's own host instead
# (a local stand-in for Slack must keep working); the examples suggest the same fences (meta.credentials).
OFFERED_CREDENTIALS = {"SLACK_WEBHOOK": ("slackWebhook", ["hooks.slack.com"]),
                       "NOTION_TOKEN": ("notionToken", ["api.notion.com"])}


_RESTART_FIRST_S = 0.5
_RESTART_MAX_S = 30.0
# A child that ran this long before dying is restarted at once again: its crash is not a crash loop.
_HEALTHY_AFTER_S = 60.0
# Crashes in a row, each within _HEALTHY_AFTER_S of its start, after which `up` stops: it cannot start at all.
_MAX_QUICK_CRASHES = 8


@dataclass
class Child:
    """One supervised actor process: restarted with backoff when it dies (an OOM kill must not stop the stack)."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path | None = None  # None: the child writes where `up` does
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float | None = None

    def start(self) -> None:
        # Own session: Ctrl-C reaches only `up`, which then stops the children in order.
        # And it ends with `up`, even a SIGKILLed one.
        if self.log is None:
            self.process = subprocess.Popen(self.args, env=self.env, start_new_session=True,
                                            preexec_fn=ends_with_parent())
        else:
            with self.log.open("ab") as out:  # the child keeps its own copy of the descriptor
                self.process = subprocess.Popen(self.args, env=self.env, start_new_session=True, stdout=out,
                                                stderr=subprocess.STDOUT, preexec_fn=ends_with_parent())
        self.started_at = time.monotonic()
        self.restart_at = None

    def supervise(self, now: float) -> None:
        """Restart the child if it died and its backoff has passed; raise if it keeps dying at once."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                print(f"↻ restarting {self.name}", flush=True)
                self.start()
            return
        if self.process is None or self.process.poll() is None:
            return
        code = self.process.returncode
        self.quick_crashes = self.quick_crashes + 1 if now - self.started_at < _HEALTHY_AFTER_S else 1
        if self.quick_crashes > _MAX_QUICK_CRASHES:
            raise BusError(f"{self.name} {_ended(code)} {self.quick_crashes} times in a row soon after starting; "
                           "see its log above")
        delay = min(_RESTART_FIRST_S * 2 ** (self.quick_crashes - 1), _RESTART_MAX_S)
        print(f"✗ {self.name} {_ended(code)}; restarting it in {delay:.1f} s", file=sys.stderr, flush=True)
        self.restart_at = now + delay

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Stack:
    """The child processes of `up`. Each runs `python -m automateos <actor>` (or `stack`) against the same NATS."""

    def __init__(self, settings: Settings, engines: int = 1, log: Path | None = None) -> None:
        self.settings = settings
        self.engines = engines
        self.log = log
        self.nats: list[EmbeddedNats] = []
        self.children: dict[str, Child] = {}

    def _start_nats(self) -> str:
        settings = self.settings
        config = settings.nats_conf if settings.nats_conf.exists() else None
        # nats.conf includes nats-auth.conf, whose users' passwords the server reads from its environment.
        server_env = {**os.environ, **{password_variable(role): password
                                       for role, password in settings.nats_passwords.items()}}
        if settings.cluster_size:
            if settings.cluster_size < 3:
                raise BusError("--cluster needs 3 or more nodes (a cluster of 2 loses its quorum with either node)")
            size = settings.cluster_size
            store = settings.data_dir.resolve() / "nats-cluster"
            cluster = LocalCluster(store, [settings.nats_port + i for i in range(size)],
                                   [settings.route_port + i for i in range(size)], config_file=config,
                                   env=server_env, tied_to_parent=True).start()
            self.nats = cluster.nodes
            print(f"✓ {size} nats-servers (a local cluster, stores under {store}) on {cluster.url}", flush=True)
            return cluster.url
        store = settings.data_dir.resolve() / "nats"
        self.nats = [EmbeddedNats(store, port=settings.nats_port, config_file=config, env=server_env,
                                  tied_to_parent=True).start()]
        print(f"✓ nats-server (embedded, JetStream store {store}) on {self.nats[0].url}", flush=True)
        return self.nats[0].url

    def start(self) -> None:
        nats_url = self.settings.nats_url or self._start_nats()
        # Each child gets its own role's NATS password and no other (bus/permissions.py).
        passwords = {password_variable(role) for role in ROLES}
        env = {**{k: v for k, v in os.environ.items() if k not in passwords}, "NATS_URL": nats_url}
        if self.settings.cluster_size:
            # The cluster profile: every stream and bucket on 3 nodes, and no calls into private networks, unless
            # the environment says otherwise.
            env.setdefault("AUTOMATEOS_REPLICAS", "3")
            env.setdefault("AUTOMATEOS_BLOCK_PRIVATE_NETWORKS", "true")
        # `up` owns the bus: it declares the streams and buckets once, with its settings; the actors only bind.
        subprocess.run([sys.executable, "-m", "automateos", "setup"], env=self._as_roles(("admin",), env), check=True,
                       stdout=subprocess.DEVNULL if self.log else None)
        # Only now: whether a new key may be made depends on whether the store already holds a key check.
        self.settings, notice = ensure_master_key(self.settings, nats_url)
        if notice:
            print(f"✓ {notice}", flush=True)
        write_key_check(self.settings, nats_url)  # as admin, before any actor looks for it
        if self.settings.master_key:
            env["AUTOMATEOS_MASTER_KEY"] = self.settings.master_key
        one_process = self.settings.layout == "one-process"
        actors = (["stack", *(["engine"] * (self.engines - 1))] if one_process
                  else ["orchestrator", *(["engine"] * self.engines), "gateway"])
        # The orchestrator never handles credentials, so it never gets the key; only the gateway checks tokens;
        # the results key goes to those who sign results (engines) and check them (the orchestrator), no one else.
        # The stack hosts all three, so it gets what each of them gets (and each actor in it still signs in to NATS as
        # its own role).
        env.pop("AUTOMATEOS_RESULTS_KEY", None)
        signing = {"AUTOMATEOS_RESULTS_KEY": self.settings.results_key} if self.settings.results_key else {}
        secrets = ("AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_MASTER_PASSWORD", "AUTOMATEOS_ADMIN_TOKEN")
        without_key = {**{k: v for k, v in env.items() if k not in secrets}, **signing}
        engine_env = {**{k: v for k, v in env.items() if k != "AUTOMATEOS_ADMIN_TOKEN"}, **signing}
        gateway_env = {**env, "AUTOMATEOS_ADMIN_TOKEN": self.settings.admin_token or ""}
        for index, actor in enumerate(actors):
            args = [sys.executable, "-m", "automateos", actor]
            if actor in ("gateway", "stack"):
                args += ["--host", self.settings.host, "--port", str(self.settings.port)]
            if actor in ("engine", "stack"):
                args += ["--concurrency", str(self.settings.engine_concurrency)]
            key = f"{actor}-{index}" if actor == "engine" else actor
            child_env = {"orchestrator": without_key, "engine": engine_env,
                         "stack": {**gateway_env, **signing}}.get(actor, gateway_env)
            roles = ("gateway", "orchestrator", "engine") if actor == "stack" else (actor,)
            self.children[key] = Child(key, args, self._as_roles(roles, child_env), self.log)
            self.children[key].start()
        self._wait_for_gateway()
        self._offer_credentials_from_env()

    def _as_roles(self, roles: tuple[str, ...], env: dict[str, str]) -> dict[str, str]:
        passwords = self.settings.nats_passwords
        return {**env, **{password_variable(role): passwords[role] for role in roles if passwords.get(role)}}

    def _offer_credentials_from_env(self) -> None:
        """SLACK_WEBHOOK and NOTION_TOKEN in the environment become credentials, unless already stored."""
        for variable, (name, fence) in OFFERED_CREDENTIALS.items():
            value = os.environ.get(variable)
            if not value:
                continue
            allowed_hosts = fence_of_url(value) or fence
            base = f"{self.settings.gateway_url}/v1/credentials"
            request = urllib.request.Request(
                base, method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.settings.admin_token}"},
                data=NewCredential(name=name, value=value, description=f"from {variable}",
                                   allowedHosts=allowed_hosts).model_dump_json().encode(),
            )
            try:
                with urllib.request.urlopen(request, timeout=10):
                    print(f"✓ credential {name} added from {variable}, to be sent only to {', '.join(allowed_hosts)}",
                          flush=True)
            except urllib.error.HTTPError as error:
                if error.code != 409:  # 409: stored already, and a stored value wins over the environment
                    print(f"✗ could not add credential {name} from {variable}: HTTP {error.code}", flush=True)

    def _wait_for_gateway(self) -> None:
        url = f"{self.settings.gateway_url}/readyz"
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            # Before the stack is up, a child that dies cannot start at all (a port in use, a bad setting): say so.
            for child in self.children.values():
                if child.process is not None and child.process.poll() is not None:
                    raise BusError(f"{child.name} {_ended(child.process.returncode)}; see its log above")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise BusError(f"the gateway did not become ready at {url} within {_READY_TIMEOUT_S:.0f} s")

    def check_children(self) -> None:
        """Restart what died: an actor, or a nats-server of ours (same store, same ports)."""
        now = time.monotonic()
        for child in self.children.values():
            child.supervise(now)
        for node in self.nats:
            if node.process is not None and node.process.poll() is not None:
                print(f"✗ nats-server on {node.url} {_ended(node.process.returncode)}; restarting it", file=sys.stderr,
                      flush=True)
                node.process = None
                node.start()

    def stop(self) -> None:
        # Gateway first (no new runs; the stack stops its own gateway first), then workers and orchestrator, then the
        # broker they need to drain.
        running = [c for c in sorted(self.children.values(), key=lambda c: c.name not in ("gateway", "stack"))
                   if c.running]
        for child in running:
            assert child.process is not None
            child.process.send_signal(signal.SIGTERM)
        for child in running:
            assert child.process is not None
            # The stack stops its gateway (5 s of grace at most), then drains its orchestrator and engine.
            timeout = 30 if child.name == "stack" else 15
            try:
                child.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %d s; killing it", child.name, timeout)
                child.process.kill()
                child.process.wait()
        self.children.clear()
        for node in self.nats:
            node.stop()
        self.nats = []

    def pids(self) -> list[int]:
        pids = [child.process.pid for child in self.children.values() if child.process is not None]
        return pids + [node.process.pid for node in self.nats if node.process is not None]


def up(settings: Settings) -> int:
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack(settings, engines=settings.engines)
    try:
        stack.start()
        # A one-time code, not the admin token: this line stays in the terminal and the link in the browser's history.
        link = sign_in_link(settings.gateway_url, settings.admin_token)
        minutes = settings.bus.sign_in_code_s / 60
        print(f"✓ AutomateOS is up: open {link}  (this link signs you in as admin, once, within {minutes:g} minutes; "
              "`automateos sign-in-link` prints a new one; a process that dies is restarted; Ctrl-C stops everything)",
              flush=True)
        while not stop_requested:
            stack.check_children()
            time.sleep(0.2)
        print("Stopping…", flush=True)
        return 0
    except (BusError, SignInLinkError, MasterKeyError, EnvWriteFailed) as error:
        print(f"✗ {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()
        print("✓ stopped", flush=True)
