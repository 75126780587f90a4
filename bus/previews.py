"""Expression previews: a plain NATS request from the gateway, answered by any one engine worker.

Not a stream: a preview is asked while someone types, is worth nothing a few seconds later, and must not queue up
behind steps. Engines answer in one queue group, so any running engine answers and more engines share the load;
they live in their own account, which exports the subject to the app's (bus/permissions.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError

from schemas.preview import ExpressionPreview, PreviewRequest

from . import subjects
from .errors import BusUnavailable, TooLarge

log = logging.getLogger(__name__)


class NoEngine(BusUnavailable):
    """No engine worker answered a preview: none is running, or all were too busy to answer in time."""


async def request_preview(nc: NATS, request: PreviewRequest, timeout: float) -> ExpressionPreview:
    data = request.model_dump_json(exclude_none=True).encode()
    try:
        msg = await nc.request(subjects.EXPRESSIONS_PREVIEW, data, timeout=timeout)
    except nats.errors.NoRespondersError:
        raise NoEngine("no engine is running") from None
    except nats.errors.TimeoutError:
        raise NoEngine(f"no engine answered within {timeout:g} s") from None
    except nats.errors.MaxPayloadError:
        raise TooLarge(f"the preview's data is larger than the bus takes in one message "
                       f"({nc.max_payload // 1024} KiB)") from None
    try:
        return ExpressionPreview.model_validate_json(msg.data)
    except ValidationError:
        # Not an engine's answer (it would be one): say so rather than pass on whatever it is.
        log.warning("an answer on %s is not a preview; ignored", subjects.EXPRESSIONS_PREVIEW)
        return ExpressionPreview(error="the engine's answer could not be read")


async def serve_previews(nc: NATS, answer: Callable[[bytes], Awaitable[ExpressionPreview]]) -> Subscription:
    """Answer every preview request with `answer(request body)`, which must not raise."""

    async def on_request(msg: Msg) -> None:
        reply = await answer(msg.data)
        if not msg.reply:
            return  # a publish, not a request: nobody waits for it
        try:
            await msg.respond(reply.model_dump_json(exclude_unset=True).encode())
        except nats.errors.Error as error:  # reconnecting, or the asker gave up: it sees a timeout
            log.info("could not answer a preview: %s", error)

    return await nc.subscribe(subjects.EXPRESSIONS_PREVIEW, queue=subjects.ENGINE_PREVIEW_QUEUE, cb=on_request)
