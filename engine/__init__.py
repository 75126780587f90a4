"""Engine workers: pull steps from steps.dispatch, execute them, report on steps.result."""

from .outbound_policy import OutboundPolicy
from .worker import Worker

__all__ = ["OutboundPolicy", "Worker"]
