"""Moderation routes for the fake Discord (bans, kicks, timeouts, bulk delete), with Discord's
permission and role-hierarchy rules. Tests install them with ``install(fake)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .fake_discord import FakeDiscord
from .fake_discord_rest import Req
from .fake_discord_state import (
    BAN_MEMBERS,
    KICK_MEMBERS,
    MANAGE_MESSAGES,
    ApiError,
    unknown,
)

MODERATE_MEMBERS = 1 << 40
DISCORD_EPOCH_MS = 1420070400000


def snowflake_at(instant: datetime, n: int = 0) -> int:
    return ((int(instant.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) + n


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


def install(fake: FakeDiscord) -> None:
    bans: dict[int, set[int]] = {}
    fake.bans = bans  # type: ignore[attr-defined]

    def above_bot(gid: int, uid: int) -> None:
        g = fake.guild(gid)
        if uid == g.owner_id or fake.top_role_position(gid, uid) >= fake.top_role_position(
            gid, fake.bot_user_id
        ):
            raise ApiError(403, 50013, "Missing Permissions")

    async def put_ban(req: Req) -> None:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        fake._require(gid, BAN_MEMBERS)
        g = fake.guild(gid)
        if uid in g.members:
            above_bot(gid, uid)
            del g.members[uid]
        bans.setdefault(gid, set()).add(uid)

    async def delete_ban(req: Req) -> None:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        fake._require(gid, BAN_MEMBERS)
        if uid not in bans.get(gid, set()):
            raise unknown("Ban", 10026)
        bans[gid].discard(uid)

    async def kick(req: Req) -> None:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        fake._require(gid, KICK_MEMBERS)
        fake.member(gid, uid)
        above_bot(gid, uid)
        del fake.guild(gid).members[uid]

    async def edit_member(req: Req) -> Any:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        body = req.body()
        if "communication_disabled_until" in body:
            fake._require(gid, MODERATE_MEMBERS)
            above_bot(gid, uid)
            until = body["communication_disabled_until"]
            if until is not None:
                when = datetime.fromisoformat(until)
                if when > datetime.now(UTC) + timedelta(days=28, minutes=1):
                    raise ApiError(400, 50035, "Invalid Form Body")
        return await fake._edit_member(req)

    async def bulk_delete(req: Req) -> None:
        cid = req.int_param("channel_id")
        channel = fake.channel(cid)
        fake._require(int(channel["guild_id"]), MANAGE_MESSAGES, cid)
        ids = [int(i) for i in req.body().get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise ApiError(400, 50035, "Invalid Form Body")
        cutoff = datetime.now(UTC) - timedelta(days=14)
        if any(snowflake_time(i) < cutoff for i in ids):
            raise ApiError(400, 50034, "You can only bulk delete messages under 14 days old")
        wanted = {str(i) for i in ids}
        fake.messages[cid] = [m for m in fake.messages.get(cid, []) if m["id"] not in wanted]

    fake.add_route("PUT", "/guilds/{guild_id}/bans/{user_id}", put_ban)
    fake.add_route("DELETE", "/guilds/{guild_id}/bans/{user_id}", delete_ban)
    fake.add_route("DELETE", "/guilds/{guild_id}/members/{user_id}", kick)
    fake.add_route("PATCH", "/guilds/{guild_id}/members/{user_id}", edit_member)
    fake.add_route("POST", "/channels/{channel_id}/messages/bulk-delete", bulk_delete)
