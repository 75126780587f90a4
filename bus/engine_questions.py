"""Questions the gateway asks an engine worker, answered at once: an expression's preview, an MCP server's tools.

Plain NATS requests, not streams: the builder asks while someone types or picks, an answer is worth nothing a few
seconds later, and a question must not queue up behind steps. Only engines may render templates, read credentials
and connect out (through their outbound guard), so these are theirs to answer. Engines answer in one queue group per
subject, so any running engine answers and more engines share the load; they live in their own account, which
exports the subjects to the app's (bus/permissions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import BaseModel, ValidationError

from . import subjects
from .errors import BusUnavailable, TooLarge

log = logging.getLogger(__name__)

Answer = TypeVar("Answer", bound=BaseModel)


class NoEngine(BusUnavailable):
    """No engine worker answered: none is running, or all were too busy to answer in time."""


async def ask_engine(nc: NATS, subject: str, question: BaseModel, answer: type[Answer], timeout: float,
                     unreadable: Answer) -> Answer:
    """Any one engine's answer to `question` on `subject`; `unreadable` when what came back is not an answer."""
    data = question.model_dump_json(exclude_none=True).encode()
    try:
        msg = await nc.request(subject, data, timeout=timeout)
    except nats.errors.NoRespondersError:
        raise NoEngine("no engine is running") from None
    except nats.errors.TimeoutError:
        raise NoEngine(f"no engine answered within {timeout:g} s") from None
    except nats.errors.MaxPayloadError:
        raise TooLarge(f"the question is larger than the bus takes in one message ({nc.max_payload // 1024} KiB)") from None
    try:
        return answer.model_validate_json(msg.data)
    except ValidationError:
        # Not an engine's answer (it would be one): say so rather than pass on whatever it is.
        log.warning("an answer on %s could not be read; ignored", subject)
        return unreadable


async def serve_engine(nc: NATS, subject: str, answer: Callable[[bytes], Awaitable[BaseModel]]) -> Subscription:
    """Answer every request on `subject` with `answer(request body)`, which must not raise."""

    async def on_request(msg: Msg) -> None:
        reply = await answer(msg.data)
        if not msg.reply:
            return  # a publish, not a request: nobody waits for it
        try:
            await msg.respond(reply.model_dump_json(exclude_unset=True).encode())
        except nats.errors.Error as error:  # reconnecting, or the asker gave up: it sees a timeout
            log.info("could not answer on %s: %s", subject, error)

    return await nc.subscribe(subject, queue=subjects.engine_queue(subject), cb=on_request)
