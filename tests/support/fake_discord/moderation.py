"""Moderation routes (bans, kicks, timeouts, bulk delete), with Discord's permission and
role-hierarchy rules. Opt-in: tests install them with ``install(fake)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .common import snowflake_time
from .errors import ApiError, unknown
from .permissions import BAN_MEMBERS, KICK_MEMBERS, MANAGE_MESSAGES, MODERATE_MEMBERS
from .routing import Req
from .server import FakeDiscord

MAX_TIMEOUT = timedelta(days=28, minutes=1)
BULK_DELETE_MAX_AGE = timedelta(days=14)


def install(fake: FakeDiscord) -> None:
    bans: dict[int, set[int]] = {}
    fake.bans = bans  # type: ignore[attr-defined]

    async def put_ban(req: Req) -> None:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        fake.require(gid, BAN_MEMBERS)
        g = fake.guild(gid)
        if uid in g.members:
            fake.require_member_below_bot(gid, uid)
            del g.members[uid]
        bans.setdefault(gid, set()).add(uid)

    async def delete_ban(req: Req) -> None:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        fake.require(gid, BAN_MEMBERS)
        if uid not in bans.get(gid, set()):
            raise unknown("Ban", 10026)
        bans[gid].discard(uid)

    async def kick(req: Req) -> None:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        fake.require(gid, KICK_MEMBERS)
        fake.member(gid, uid)
        fake.require_member_below_bot(gid, uid)
        del fake.guild(gid).members[uid]

    async def edit_member(req: Req) -> Any:
        gid, uid = req.int_param("guild_id"), req.int_param("user_id")
        body = req.body()
        if "communication_disabled_until" in body:
            fake.require(gid, MODERATE_MEMBERS)
            fake.require_member_below_bot(gid, uid)
            until = body["communication_disabled_until"]
            if until is not None:
                when = datetime.fromisoformat(until)
                if when > datetime.now(UTC) + MAX_TIMEOUT:
                    raise ApiError(400, 50035, "Invalid Form Body")
        return await fake._edit_member(req)

    async def bulk_delete(req: Req) -> None:
        cid = req.int_param("channel_id")
        channel = fake.channel(cid)
        fake.require(int(channel["guild_id"]), MANAGE_MESSAGES, cid)
        ids = [int(i) for i in req.body().get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise ApiError(400, 50035, "Invalid Form Body")
        cutoff = datetime.now(UTC) - BULK_DELETE_MAX_AGE
        if any(snowflake_time(i) < cutoff for i in ids):
            raise ApiError(400, 50034, "You can only bulk delete messages under 14 days old")
        wanted = {str(i) for i in ids}
        fake.messages[cid] = [m for m in fake.messages.get(cid, []) if m["id"] not in wanted]

    fake.add_route("PUT", "/guilds/{guild_id}/bans/{user_id}", put_ban)
    fake.add_route("DELETE", "/guilds/{guild_id}/bans/{user_id}", delete_ban)
    fake.add_route("DELETE", "/guilds/{guild_id}/members/{user_id}", kick)
    fake.add_route("PATCH", "/guilds/{guild_id}/members/{user_id}", edit_member)
    fake.add_route("POST", "/channels/{channel_id}/messages/bulk-delete", bulk_delete)
