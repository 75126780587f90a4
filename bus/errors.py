"""The bus's error root: NATS failures translated into messages a user can act on."""

import nats.errors


class BusError(Exception):
    """Something about the broker or its resources is wrong."""


class BusUnavailable(BusError):
    """NATS did not answer in time, or is reconnecting: the caller may retry."""


class RecordDamaged(BusError):
    """A stored record does not parse: something other than AutomateOS wrote it (a stray JetStream ack, a hand
    edit). Callers answer 409 naming it, never a 500, and lists skip or flag it."""


class StaleRevision(BusError):
    """A compare-and-set lost a race too many times in a row."""


class TooLarge(BusError):
    """A message (a run's record, say) is bigger than the server takes in one: retrying cannot help."""


# What an actor's loop may see while NATS is away (a restart, a leader change): retry, do not crash. Defined here so
# that code outside bus/ names no NATS type.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (nats.errors.Error, TimeoutError, OSError, BusUnavailable)
