"""The orchestrator actor: compiles runs, keeps their state, dispatches ready steps."""

from .actor import Orchestrator

__all__ = ["Orchestrator"]
