"""Channels (text, voice, categories, DMs) and their permission overwrites: payloads, Discord's
limits, and the channel routes. Threads add their rules with ``threads.install``."""

from __future__ import annotations

from collections.abc import Iterable

from .common import JSON
from .errors import ApiError, invalid_form, unknown
from .permissions import MANAGE_CHANNELS, MANAGE_ROLES, PermissionsMixin, normalise_overwrite
from .routing import Req, RouteSpec
from .users import UsersMixin

CHANNEL_TEXT = 0
CHANNEL_DM = 1
CHANNEL_VOICE = 2
CHANNEL_CATEGORY = 4
CHANNEL_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
THREAD_TYPES = frozenset({ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD})


class ChannelsMixin(PermissionsMixin, UsersMixin):
    # Discord's limits: channels per server (categories count, threads don't) and
    # permission overwrites per channel.
    MAX_GUILD_CHANNELS = 500
    MAX_CHANNEL_OVERWRITES = 100

    def route_table(self) -> list[RouteSpec]:
        return [
            *super().route_table(),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/guilds/{guild_id}/channels", self._get_channels),
            ("POST", "/guilds/{guild_id}/channels", self._create_channel),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("PATCH", "/channels/{channel_id}", self._edit_channel),
            ("DELETE", "/channels/{channel_id}", self._delete_channel),
            ("PUT", "/channels/{channel_id}/permissions/{overwrite_id}", self._put_overwrite),
            ("DELETE", "/channels/{channel_id}/permissions/{overwrite_id}", self._del_overwrite),
        ]

    def add_text_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = CHANNEL_TEXT,
        parent_id: int | None = None,
        permission_overwrites: Iterable[JSON] = (),
        topic: str | None = None,
        position: int | None = None,
    ) -> int:
        g = self.guild(guild_id)
        cid = self.next_id()
        if position is None:
            position = len(g.channels)
        payload: JSON = {
            "id": str(cid),
            "type": type,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [normalise_overwrite(o) for o in permission_overwrites],
            "parent_id": str(parent_id) if parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if type in (CHANNEL_TEXT, CHANNEL_ANNOUNCEMENT):
            payload.update(
                topic=topic, last_message_id=None, rate_limit_per_user=0, last_pin_timestamp=None
            )
        if type == CHANNEL_VOICE:
            payload.update(bitrate=64000, user_limit=0, rtc_region=None, last_message_id=None)
        g.channels[cid] = payload
        self.channels[cid] = payload
        self.messages.setdefault(cid, [])
        return cid

    def channel_named(self, guild_id: int, name: str) -> JSON | None:
        return next((c for c in self.guild(guild_id).channels.values() if c["name"] == name), None)

    def dm_channel_for(self, user_id: int) -> int:
        if user_id not in self.dm_channels:
            cid = self.next_id()
            self.channels[cid] = {
                "id": str(cid),
                "type": CHANNEL_DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.user_payload(user_id)],
            }
            self.messages[cid] = []
            self.dm_channels[user_id] = cid
        return self.dm_channels[user_id]

    def guild_channel_count(self, guild_id: int) -> int:
        return sum(
            1 for c in self.guild(guild_id).channels.values() if c["type"] not in THREAD_TYPES
        )

    def _check_overwrite_count(self, overwrites: list[JSON]) -> None:
        if len(overwrites) > self.MAX_CHANNEL_OVERWRITES:
            raise invalid_form(
                "permission_overwrites",
                f"Must be {self.MAX_CHANNEL_OVERWRITES} or fewer in length.",
                "BASE_TYPE_MAX_LENGTH",
            )

    def _guild_channel(self, req: Req, perm: int) -> tuple[int, JSON]:
        channel = self.channel(req.int_param("channel_id"))
        if "guild_id" not in channel:
            raise ApiError(403, 50003, "Cannot execute action on a DM channel")
        gid = int(channel["guild_id"])
        self.require(gid, perm)
        return gid, channel

    # routes -------------------------------------------------------------------------------
    async def _create_dm(self, req: Req) -> JSON:
        uid = int(req.body().get("recipient_id", 0))
        if uid not in self.users:
            raise unknown("User", 10013)
        return self.channel(self.dm_channel_for(uid))

    async def _get_channels(self, req: Req) -> list[JSON]:
        return list(self.guild(req.int_param("guild_id")).channels.values())

    async def _create_channel(self, req: Req) -> tuple[int, JSON]:
        gid = req.int_param("guild_id")
        self.require(gid, MANAGE_CHANNELS)
        body = req.body()
        if not body.get("name"):
            raise invalid_form("name", "This field is required", "BASE_TYPE_REQUIRED")
        if self.guild_channel_count(gid) >= self.MAX_GUILD_CHANNELS:
            raise ApiError(
                400, 30013, f"Maximum number of guild channels reached ({self.MAX_GUILD_CHANNELS})"
            )
        self._check_overwrite_count(body.get("permission_overwrites") or [])
        cid = self.add_text_channel(
            gid,
            body["name"],
            type=int(body.get("type") or CHANNEL_TEXT),
            parent_id=int(body["parent_id"]) if body.get("parent_id") else None,
            permission_overwrites=body.get("permission_overwrites") or [],
            topic=body.get("topic"),
            position=body.get("position"),
        )
        channel = self.channels[cid]
        await self.dispatch("CHANNEL_CREATE", dict(channel))
        return 201, channel

    async def _get_channel(self, req: Req) -> JSON:
        return self.channel(req.int_param("channel_id"))

    async def _edit_channel(self, req: Req) -> JSON:
        _, channel = self._guild_channel(req, MANAGE_CHANNELS)
        body = req.body()
        for key in ("name", "topic", "position", "nsfw", "rate_limit_per_user"):
            if key in body:
                channel[key] = body[key]
        if "parent_id" in body:
            channel["parent_id"] = str(body["parent_id"]) if body["parent_id"] else None
        if body.get("permission_overwrites") is not None:
            self._check_overwrite_count(body["permission_overwrites"])
            channel["permission_overwrites"] = [
                normalise_overwrite(o) for o in body["permission_overwrites"]
            ]
        await self.dispatch("CHANNEL_UPDATE", dict(channel))
        return channel

    async def _delete_channel(self, req: Req) -> JSON:
        gid, channel = self._guild_channel(req, MANAGE_CHANNELS)
        cid = int(channel["id"])
        del self.guild(gid).channels[cid]
        del self.channels[cid]
        await self.dispatch("CHANNEL_DELETE", dict(channel))
        return channel

    async def _put_overwrite(self, req: Req) -> None:
        _, channel = self._guild_channel(req, MANAGE_ROLES)
        body = req.body()
        ow = normalise_overwrite({**body, "id": req.params["overwrite_id"]})
        others = [o for o in channel["permission_overwrites"] if o["id"] != ow["id"]]
        self._check_overwrite_count([*others, ow])
        channel["permission_overwrites"] = [*others, ow]
        await self.dispatch("CHANNEL_UPDATE", dict(channel))

    async def _del_overwrite(self, req: Req) -> None:
        _, channel = self._guild_channel(req, MANAGE_ROLES)
        oid = req.params["overwrite_id"]
        channel["permission_overwrites"] = [
            o for o in channel["permission_overwrites"] if o["id"] != oid
        ]
        await self.dispatch("CHANNEL_UPDATE", dict(channel))
