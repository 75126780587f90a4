"""The one pull loop every actor uses, and the one place a handler's outcome becomes ack/nak/term."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext

log = logging.getLogger(__name__)

Handler = Callable[[Msg], Awaitable[None]]


class Retry(Exception):
    """Raise from a handler to have the message redelivered after `delay` seconds."""

    def __init__(self, reason: str, delay: float = 1.0) -> None:
        super().__init__(reason)
        self.delay = delay


class Defer(Exception):
    """Raise from a handler for a message that is not due yet: handed back, unlogged, for `delay` seconds."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"not due for {delay:.1f} s")
        self.delay = delay


class Reject(Exception):
    """Raise from a handler for a message that can never succeed: it is terminated, with the reason logged."""


class PullLoop:
    """Fetches from a durable pull consumer and runs `handler` on up to `concurrency` messages at once.

    A handler that returns normally gets its message acked; Retry naks it with a delay; Reject
    terminates it; any other exception is logged and the message naked for redelivery (the
    consumer's max_deliver bounds a poison message). With `heartbeat_s`, long handlers keep
    their message with in-progress acks so JetStream does not redeliver it to another worker.
    """

    def __init__(
        self,
        psub: JetStreamContext.PullSubscription,
        handler: Handler,
        *,
        name: str,
        concurrency: int = 64,
        batch: int = 256,
        heartbeat_s: float | None = None,
    ) -> None:
        self.psub = psub
        self.handler = handler
        self.name = name
        self.concurrency = concurrency
        self.batch = batch
        self.heartbeat_s = heartbeat_s
        self.tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            free = self.concurrency - len(self.tasks)
            if free <= 0:
                await asyncio.wait(self.tasks, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                msgs = await self.psub.fetch(min(free, self.batch), timeout=1.0)
            except TimeoutError:
                continue  # nothing yet: an empty fetch raises
            except (nats.errors.ConnectionClosedError, nats.errors.ConnectionDrainingError):
                if self._stopping.is_set():
                    break
                raise
            except nats.errors.Error as error:
                log.warning("%s: fetch failed (%s); retrying in %.1f s", self.name, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            if self._stopping.is_set():
                # Fetched while stopping: hand them straight back rather than start work we would abandon.
                for msg in msgs:
                    await _settle(msg.nak())
                break
            for msg in msgs:
                task = asyncio.create_task(self._handle(msg))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    def stop(self) -> None:
        self._stopping.set()

    async def drain(self, timeout: float) -> None:
        """Stop fetching and wait up to `timeout` for handlers in flight; cancel the rest (they are redelivered)."""
        self.stop()
        if not self.tasks:
            return
        _, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("%s: %d handlers still running after %.0f s; left for redelivery", self.name, len(pending), timeout)
            await asyncio.gather(*pending, return_exceptions=True)

    async def _handle(self, msg: Msg) -> None:
        heartbeat = asyncio.create_task(self._heartbeat(msg)) if self.heartbeat_s else None
        try:
            await self.handler(msg)
        except Defer as defer:
            await _settle(msg.nak(delay=defer.delay))
        except Retry as retry:
            log.info("%s: will retry message on %s in %.1f s: %s", self.name, msg.subject, retry.delay, retry)
            await _settle(msg.nak(delay=retry.delay))
        except Reject as reject:
            log.warning("%s: dropped message on %s: %s", self.name, msg.subject, reject)
            await _settle(msg.term())
        except asyncio.CancelledError:
            raise  # not acked: JetStream redelivers it
        except Exception:
            log.exception("%s: handler failed on %s; message will be redelivered", self.name, msg.subject)
            await _settle(msg.nak(delay=1.0))
        else:
            await _settle(msg.ack())
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat

    async def _heartbeat(self, msg: Msg) -> None:
        assert self.heartbeat_s is not None
        while True:
            await asyncio.sleep(self.heartbeat_s)
            await _settle(msg.in_progress())


async def _settle(ack: Awaitable[None]) -> None:
    try:
        await ack
    except nats.errors.Error as error:
        # The connection dropped: the server will redeliver after ack_wait, which is the safe outcome.
        log.warning("could not acknowledge a message (%s); it will be redelivered", error)
