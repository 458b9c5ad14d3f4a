"""What every part of the fake Discord shares: the JSON type, timestamps and snowflakes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
DISCORD_EPOCH_MS = 1420070400000


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def snowflake_at(instant: datetime, n: int = 0) -> int:
    """The snowflake Discord would give something made at ``instant`` (``n``: increment)."""
    return ((int(instant.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + n


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)
