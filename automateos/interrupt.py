"""Ctrl-C for the commands that talk to the gateway: one line and exit 130 at every stage, never a traceback.

`interruptible` runs a whole command; on SIGINT it cancels it and says what the interruption may have left
behind: nothing, or a request the gateway may have acted on (`pending`). A stage with its own meaning for Ctrl-C
(following a run, which detaches) asks `interrupted()` when it is cancelled.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TextIO

EXIT_INTERRUPTED = 130  # as a shell reports an interrupted command


@dataclass
class _Interruption:
    pressed: bool = False
    pending: str | None = None  # what the gateway may have done, while its answer is awaited
    changed: bool = False  # a request that changes something was answered


_current: ContextVar[_Interruption | None] = ContextVar("automateos_interruption", default=None)


def interrupted() -> bool:
    """Whether Ctrl-C is what cancelled the running command."""
    state = _current.get()
    return state is not None and state.pressed


@contextmanager
def pending(what: str) -> Iterator[None]:
    """A request that changes something is with the gateway: an interruption now says `what` may have happened.
    An inner `pending` (the generic one of each request) keeps the outer, more telling, sentence."""
    state = _current.get()
    if state is None or state.pending is not None:
        yield
        return
    state.pending = what
    try:
        yield
    except asyncio.CancelledError:
        raise  # pending stays set: it is what the interruption has to report
    except BaseException:
        state.pending = None
        raise
    state.pending = None
    state.changed = True


async def interruptible(command: Coroutine[Any, Any, int], err: TextIO = sys.stderr) -> int:
    """Runs `command`; Ctrl-C cancels it, prints one line to `err` and returns 130."""
    loop = asyncio.get_running_loop()
    me = asyncio.current_task()
    assert me is not None
    state = _Interruption()
    _current.set(state)

    def on_ctrl_c() -> None:
        if not state.pressed:  # a second press while winding down changes nothing
            state.pressed = True
            me.cancel()

    loop.add_signal_handler(signal.SIGINT, on_ctrl_c)
    try:
        return await command
    except asyncio.CancelledError:
        if not state.pressed:
            raise
        me.uncancel()
        if state.pending:
            line = f"interrupted before the gateway answered: {state.pending}"
        elif state.changed:
            line = "interrupted; what was done before stays done"
        else:
            line = "interrupted; nothing was changed"
        print(f"\n✗ {line}", file=err, flush=True)
        return EXIT_INTERRUPTED
    finally:
        loop.remove_signal_handler(signal.SIGINT)
