"""The bus's error root: NATS failures translated into messages a user can act on."""


class BusError(Exception):
    """Something about the broker or its resources is wrong."""


class StaleRevision(BusError):
    """A compare-and-set lost a race too many times in a row."""
