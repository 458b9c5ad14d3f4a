"""Display names for the attendance export: the cache first, then Discord, a few at a time.

Used only for a facilitator's private CSV; names are never logged or stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import discord

log = logging.getLogger(__name__)

PARALLEL = 4


async def display_names(guild: discord.Guild | None, user_ids: Sequence[int]) -> dict[int, str]:
    """user id -> display name; people no longer on the server are left out."""
    if guild is None:
        return {}
    out: dict[int, str] = {}
    missing: list[int] = []
    for uid in user_ids:
        member = guild.get_member(uid)
        if member is not None:
            out[uid] = member.display_name
        else:
            missing.append(uid)
    gate = asyncio.Semaphore(PARALLEL)

    async def fetch(uid: int) -> None:
        async with gate:
            try:
                out[uid] = (await guild.fetch_member(uid)).display_name
            except discord.NotFound:
                return  # left the server: the row keeps the id, without a name
            except discord.HTTPException as exc:
                log.warning("display name lookup failed guild=%d status=%s", guild.id, exc.status)

    await asyncio.gather(*(fetch(uid) for uid in missing))
    return out
