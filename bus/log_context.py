"""Which request and which run a log line is about: set by the actors, stamped on every record.

The actors share only `schemas/` and `bus/`, and every actor logs about runs, so the context lives here.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
run_id: ContextVar[str | None] = ContextVar("run_id", default=None)


class ContextFilter(logging.Filter):
    """Appends request_id / run_id to each record passing the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = [f"{name}={value}" for name, value in (("request_id", request_id.get()), ("run_id", run_id.get())) if value]
        if context:
            record.msg = f"{record.msg} [{' '.join(context)}]"
        return True
