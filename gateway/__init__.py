"""The gateway actor: REST API, run event WebSocket, and the web builder's files."""

from .app import GatewayConfig, create_app

__all__ = ["GatewayConfig", "create_app"]
