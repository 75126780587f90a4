"""Engine workers: pull steps from steps.dispatch, execute them, report on steps.result."""

from .worker import Worker

__all__ = ["Worker"]
