"""The base every contract model shares: tolerant of unknown fields, UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Inputs may carry fields a newer producer added; we ignore them rather than fail."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def utc_now() -> datetime:
    return datetime.now(UTC)
