"""Logging for every entry point: one line per record, with the actor name and request/run context."""

from __future__ import annotations

import logging
import sys

from bus.log_context import ContextFilter


def setup_logging(actor: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)-7s {actor} %(name)s: %(message)s"))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # A line per HTTP request is noise at 1,000 runs/s; errors are logged by the gateway itself.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("nats").setLevel(logging.WARNING)
