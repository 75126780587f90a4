"""The gateway actor: REST API, run event WebSocket, and the web builder's files."""

from .app import SHUTDOWN_GRACE_S, GatewayConfig, create_app
from .same_origin import public_hosts

__all__ = ["SHUTDOWN_GRACE_S", "GatewayConfig", "create_app", "public_hosts"]
