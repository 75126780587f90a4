"""Reading what a stream stores, without consuming anything: for tests that check what was kept."""

from __future__ import annotations

from nats.js.errors import NotFoundError

from bus import Bus


async def stored_messages(bus: Bus, stream: str) -> list[bytes]:
    """Every message the stream still holds, its data followed by its headers."""
    info = await bus.js.stream_info(stream)
    stored: list[bytes] = []
    if info.state.messages == 0:
        return stored  # first_seq is then 0, which the server refuses to look up
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            message = await bus.js.get_msg(stream, seq)
        except NotFoundError:
            continue  # acked from a work queue, or purged: nothing is stored
        stored.append((message.data or b"") + repr(message.headers).encode())
    return stored
