"""Settings: one typed object, read once from the environment (and .env) by the entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from bus import BusSettings, NatsLogin
from bus.permissions import ROLES, password_variable
from engine import OutboundPolicy
from engine.outbound_policy import ALLOW_VARIABLE, BLOCK_PRIVATE_VARIABLE

DAY = 24 * 3600.0

REPO_ROOT = Path(__file__).resolve().parent.parent

# How `automateos up` runs the actors: one process each, or the gateway, the orchestrator and one engine worker in one
# process (`automateos stack`). Either way they are separate actors, each with its own NATS login, talking through NATS.
Layout = Literal["processes", "one-process"]
LAYOUTS: tuple[Layout, ...] = ("processes", "one-process")
DEFAULT_LAYOUT: Layout = "processes"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".automateos")
    nats_url: str | None = None  # None: `automateos up` starts an embedded nats-server
    nats_port: int = 4222
    # `up --cluster N`: N local nats-servers (client ports nats_port…, route ports route_port…); 0: one server.
    cluster_size: int = 0
    route_port: int = 6222
    engine_concurrency: int = 64
    # How long an MCP tools/call waits for its run (AUTOMATEOS_MCP_CALL_TIMEOUT_S) before answering with its id.
    mcp_call_timeout_s: float = 60.0
    # `up --layout` (env AUTOMATEOS_LAYOUT), and `up --engines N`: N engine workers in all (with one-process, the
    # stack's own and N-1 engine processes beside it).
    layout: Layout = DEFAULT_LAYOUT
    engines: int = 1
    bus: BusSettings = field(default_factory=BusSettings)
    log_level: str = "INFO"
    examples_dir: Path = REPO_ROOT / "examples"
    web_dist: Path = REPO_ROOT / "web" / "dist"
    nats_conf: Path = REPO_ROOT / "nats.conf"
    # Secrets: never in repr, so never in a log line that prints the settings.
    master_key: str | None = field(default=None, repr=False)
    master_password: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    # Signs step results (engines) and checks them (the orchestrator): bus/signing.py. `up` generates it.
    results_key: str | None = field(default=None, repr=False)
    # Each role's NATS password (AUTOMATEOS_NATS_<ROLE>_PASSWORD): bus/permissions.py says what each may do.
    # None for a role: connect without a user (a NATS that allows anonymous access, as in the tests).
    nats_passwords: Mapping[str, str] = field(default_factory=dict, repr=False)
    # What `automateos` commands send: AUTOMATEOS_TOKEN (an API token), else the admin token.
    api_token: str | None = field(default=None, repr=False)
    # How late a schedule tick may be and still fire as itself (older ones are missed: see catchUp).
    schedule_grace_s: float = 10.0
    # Where users and webhook senders reach the gateway, when not 127.0.0.1/localhost: its host is accepted too.
    public_url: str | None = None
    # Where HTTP steps may connect: AUTOMATEOS_BLOCK_PRIVATE_NETWORKS and AUTOMATEOS_OUTBOUND_ALLOW.
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)

    @property
    def embedded_nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    def nats_login(self, role: str) -> NatsLogin | None:
        password = self.nats_passwords.get(role)
        return NatsLogin(role, password) if password else None

    @property
    def client_token(self) -> str | None:
        return self.api_token or self.admin_token

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()
        bus = BusSettings(
            step_ack_wait_s=_float(env, "AUTOMATEOS_STEP_ACK_WAIT", BusSettings.step_ack_wait_s),
            duplicate_window_s=_float(env, "AUTOMATEOS_DUPLICATE_WINDOW", BusSettings.duplicate_window_s),
            run_retention_s=_float(env, "AUTOMATEOS_RUN_RETENTION_DAYS", BusSettings.run_retention_s / DAY, "days") * DAY,
            replicas=_int(env, "AUTOMATEOS_REPLICAS", BusSettings.replicas),
            max_graph_nodes=_int(env, "AUTOMATEOS_MAX_GRAPH_NODES", BusSettings.max_graph_nodes),
            max_loop_items=_int(env, "AUTOMATEOS_MAX_LOOP_ITEMS", BusSettings.max_loop_items),
            max_subworkflow_depth=_int(env, "AUTOMATEOS_MAX_SUBWORKFLOW_DEPTH", BusSettings.max_subworkflow_depth),
            session_idle_s=_float(env, "AUTOMATEOS_SESSION_IDLE_HOURS", BusSettings.session_idle_s / 3600, "hours") * 3600,
            sign_in_code_s=_float(env, "AUTOMATEOS_SIGN_IN_CODE_MINUTES", BusSettings.sign_in_code_s / 60, "minutes") * 60,
        )
        return cls(
            host=env.get("AUTOMATEOS_HOST", defaults.host),
            public_url=env.get("AUTOMATEOS_PUBLIC_URL") or None,
            port=_int(env, "AUTOMATEOS_PORT", defaults.port),
            data_dir=Path(env.get("AUTOMATEOS_DATA_DIR", str(defaults.data_dir))),
            nats_url=env.get("NATS_URL") or None,
            nats_port=_int(env, "AUTOMATEOS_NATS_PORT", defaults.nats_port),
            route_port=_int(env, "AUTOMATEOS_NATS_ROUTE_PORT", defaults.route_port),
            engine_concurrency=_int(env, "AUTOMATEOS_ENGINE_CONCURRENCY", defaults.engine_concurrency),
            mcp_call_timeout_s=_float(env, "AUTOMATEOS_MCP_CALL_TIMEOUT_S", defaults.mcp_call_timeout_s),
            layout=_layout(env, defaults.layout),
            bus=bus,
            log_level=env.get("AUTOMATEOS_LOG_LEVEL", defaults.log_level).upper(),
            examples_dir=Path(env.get("AUTOMATEOS_EXAMPLES_DIR", str(defaults.examples_dir))),
            web_dist=Path(env.get("AUTOMATEOS_WEB_DIST", str(defaults.web_dist))),
            master_key=env.get("AUTOMATEOS_MASTER_KEY") or None,
            master_password=env.get("AUTOMATEOS_MASTER_PASSWORD") or None,
            admin_token=env.get("AUTOMATEOS_ADMIN_TOKEN") or None,
            results_key=env.get("AUTOMATEOS_RESULTS_KEY") or None,
            nats_passwords={role: env[password_variable(role)] for role in ROLES if env.get(password_variable(role))},
            api_token=env.get("AUTOMATEOS_TOKEN") or None,
            schedule_grace_s=_float(env, "AUTOMATEOS_SCHEDULE_GRACE", defaults.schedule_grace_s),
            outbound=_outbound(env),
        )


def _outbound(env: Mapping[str, str]) -> OutboundPolicy:
    block_private = _bool(env, BLOCK_PRIVATE_VARIABLE, OutboundPolicy.block_private)
    try:
        return OutboundPolicy.parse(block_private, env.get(ALLOW_VARIABLE, ""))
    except ValueError as error:
        raise SettingsError(f"{ALLOW_VARIABLE}: {error}") from None


def _layout(env: Mapping[str, str], default: Layout) -> Layout:
    text = env.get("AUTOMATEOS_LAYOUT", "").strip()
    if text == "":
        return default
    if text not in LAYOUTS:
        raise SettingsError(f"AUTOMATEOS_LAYOUT must be one of {', '.join(LAYOUTS)}, not {text!r}")
    return text


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    text = env.get(name, "").strip().lower()
    if text == "":
        return default
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {env[name]!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {text!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, unit: str = "seconds") -> float:
    text = env.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of {unit}, not {text!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, not {value}")
    return value
