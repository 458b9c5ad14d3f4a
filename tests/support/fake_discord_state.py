"""In-memory Discord state (users, guilds, roles, channels, members, messages) for the fake.

Payload shapes follow what Discord sends (and what discord.py 2.7 parses).
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
DISCORD_EPOCH_MS = 1420070400000

# Permission bits (subset) ------------------------------------------------------------------
CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
CHANGE_NICKNAME = 1 << 26
MANAGE_ROLES = 1 << 28
MANAGE_WEBHOOKS = 1 << 29
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_EVENTS = 1 << 33
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
CREATE_EVENTS = 1 << 44
ALL_PERMISSIONS = (1 << 51) - 1

#: What Discord gives @everyone in a fresh guild.
DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | MENTION_EVERYONE
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
    | CREATE_EVENTS
)
#: What the bot's managed integration role gets by default.
DEFAULT_BOT_PERMISSIONS = (
    DEFAULT_EVERYONE_PERMISSIONS
    | MANAGE_ROLES
    | MANAGE_CHANNELS
    | MANAGE_MESSAGES
    | MANAGE_EVENTS
    | MANAGE_WEBHOOKS
)

CHANNEL_TEXT = 0
CHANNEL_DM = 1
CHANNEL_VOICE = 2
CHANNEL_CATEGORY = 4


class ApiError(Exception):
    """Raised by REST handlers; rendered as a Discord JSON error."""

    def __init__(self, status: int, code: int, message: str, errors: JSON | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSON:
        out: JSON = {"code": self.code, "message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        return out


def unknown(kind: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {kind}")


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class RecordedFile:
    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class Recorded:
    method: str
    path: str  # relative to /api/v10, e.g. /channels/1/messages
    query: dict[str, str]
    json_body: Any
    files: list[RecordedFile]
    status: int = 0
    route_name: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived (for Retry-After checks)

    def matches(self, method: str, path_regex: str) -> bool:
        return self.method == method.upper() and re.fullmatch(path_regex, self.path) is not None


@dataclass(frozen=True)
class SchemaError:
    method: str
    path: str
    message: str


@dataclass
class FakeGuild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, JSON] = field(default_factory=dict)
    channels: dict[int, JSON] = field(default_factory=dict)
    members: dict[int, JSON] = field(default_factory=dict)
    scheduled_events: dict[int, JSON] = field(default_factory=dict)
    commands: dict[int, JSON] = field(default_factory=dict)
    general_channel_id: int = 0
    bot_role_id: int = 0
    joined_at: str = field(default_factory=now_iso)


class FakeState:
    """State container; REST/gateway/interaction behaviour lives in mixins."""

    SNOWFLAKE_START = 1_100_000_000_000_000_000
    MAX_SCHEDULED_EVENTS = 100

    def __init__(self, *, bot_name: str = "FamilyBot") -> None:
        self._ids = itertools.count(self.SNOWFLAKE_START)
        self.users: dict[int, JSON] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, JSON] = {}  # every channel incl. DMs
        self.messages: dict[int, list[JSON]] = {}  # channel id -> messages in order
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.closed_dm_users: set[int] = set()
        self.global_commands: dict[int, JSON] = {}
        self.application_id = self.next_id()
        self.bot_user_id = self.application_id  # like modern Discord apps
        self.owner_user_id = self.next_id()
        self.token = "fake." + secrets.token_hex(8)
        self.add_user(self.bot_user_id, name=bot_name, bot=True)
        self.add_user(self.owner_user_id, name="app-owner")

    async def dispatch(self, event: str, data: JSON) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    #: When True, new ids are snowflakes of the current wall-clock time (still increasing),
    #: so `history(after=<datetime>)` finds messages the way it does on Discord. The crash
    #: test needs this: the bot looks for an interrupted reminder by time.
    time_based_ids: bool = False

    # ids ----------------------------------------------------------------------------------
    def next_id(self) -> int:
        nid = next(self._ids)
        if self.time_based_ids:
            stamp = (int(datetime.now(UTC).timestamp() * 1000) - DISCORD_EPOCH_MS) << 22
            if stamp > nid:
                self._ids = itertools.count(stamp + 1)
                nid = stamp
        return nid

    # users --------------------------------------------------------------------------------
    def add_user(
        self, user_id: int | None = None, *, name: str | None = None, bot: bool = False
    ) -> int:
        uid = user_id if user_id is not None else self.next_id()
        uname = name or f"user{uid % 100000}"
        self.users[uid] = {
            "id": str(uid),
            "username": uname,
            "discriminator": "0",
            "global_name": uname,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        return uid

    def user_payload(self, user_id: int) -> JSON:
        if user_id not in self.users:
            self.add_user(user_id)
        return dict(self.users[user_id])

    def close_dms(self, user_id: int) -> None:
        """DMs to this user fail with 403 / 50007 from now on."""
        self.closed_dm_users.add(user_id)

    def open_dms(self, user_id: int) -> None:
        self.closed_dm_users.discard(user_id)

    # guilds -------------------------------------------------------------------------------
    def guild(self, guild_id: int) -> FakeGuild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise unknown("Guild", 10004) from None

    def add_guild(
        self,
        name: str = "Family Support",
        owner_id: int | None = None,
        *,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        guild_id: int | None = None,  # e.g. to put the server on a chosen gateway shard
    ) -> int:
        gid = guild_id if guild_id is not None else self.next_id()
        owner = owner_id if owner_id is not None else self.add_user(name="guild-owner")
        if owner not in self.users:
            self.add_user(owner)
        g = FakeGuild(id=gid, name=name, owner_id=owner)
        self.guilds[gid] = g
        g.roles[gid] = self._role_payload(gid, "@everyone", everyone_permissions, 0)
        bot_role = self.add_role(gid, self.users[self.bot_user_id]["username"], bot_permissions, 1)
        g.roles[bot_role]["managed"] = True
        g.roles[bot_role]["tags"] = {"bot_id": str(self.bot_user_id)}
        g.bot_role_id = bot_role
        g.general_channel_id = self.add_text_channel(gid, "general")
        self.add_member(gid, owner)
        self.add_member(gid, self.bot_user_id, roles=[bot_role])
        return gid

    @staticmethod
    def _role_payload(role_id: int, name: str, permissions: int, position: int) -> JSON:
        return {
            "id": str(role_id),
            "name": name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def add_role(
        self,
        guild_id: int,
        name: str,
        permissions: int = 0,
        position: int | None = None,
        **extra: Any,
    ) -> int:
        g = self.guild(guild_id)
        rid = self.next_id()
        if position is None:
            position = max((r["position"] for r in g.roles.values()), default=0) + 1
        g.roles[rid] = {**self._role_payload(rid, name, permissions, position), **extra}
        return rid

    def add_member(
        self,
        guild_id: int,
        user_id: int | None = None,
        *,
        name: str | None = None,
        roles: Iterable[int] = (),
        permissions: int | None = None,
        nick: str | None = None,
        bot: bool = False,
    ) -> int:
        """Adds a member. ``permissions`` creates an extra role carrying those bits."""
        g = self.guild(guild_id)
        uid = user_id if user_id is not None else self.next_id()
        if uid not in self.users or name is not None:
            self.add_user(uid, name=name, bot=bot)
        role_ids = [int(r) for r in roles]
        if permissions is not None:
            role_ids.append(self.add_role(guild_id, f"perms-{uid % 10000}", permissions))
        g.members[uid] = {
            "user": self.user_payload(uid),
            "nick": nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in role_ids],
            "joined_at": now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        return uid

    def member(self, guild_id: int, user_id: int) -> JSON:
        g = self.guild(guild_id)
        try:
            return g.members[int(user_id)]
        except (KeyError, ValueError):
            raise unknown("Member", 10007) from None

    def role(self, guild_id: int, role_id: int) -> JSON:
        g = self.guild(guild_id)
        try:
            return g.roles[int(role_id)]
        except (KeyError, ValueError):
            raise unknown("Role", 10011) from None

    def role_named(self, guild_id: int, name: str) -> JSON | None:
        return next((r for r in self.guild(guild_id).roles.values() if r["name"] == name), None)

    def channel_named(self, guild_id: int, name: str) -> JSON | None:
        return next((c for c in self.guild(guild_id).channels.values() if c["name"] == name), None)

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
        if type in (CHANNEL_TEXT, 5):
            payload.update(
                topic=topic, last_message_id=None, rate_limit_per_user=0, last_pin_timestamp=None
            )
        if type == CHANNEL_VOICE:
            payload.update(bitrate=64000, user_limit=0, rtc_region=None, last_message_id=None)
        g.channels[cid] = payload
        self.channels[cid] = payload
        self.messages.setdefault(cid, [])
        return cid

    def channel(self, channel_id: int | str) -> JSON:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown("Channel", 10003) from None

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

    # permissions --------------------------------------------------------------------------
    def base_permissions(self, guild_id: int, user_id: int) -> int:
        g = self.guild(guild_id)
        if user_id == g.owner_id:
            return ALL_PERMISSIONS
        perms = int(g.roles[guild_id]["permissions"])
        member = g.members.get(user_id)
        for rid in member["roles"] if member else []:
            role = g.roles.get(int(rid))
            if role:
                perms |= int(role["permissions"])
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def permissions_in(self, channel_id: int, user_id: int) -> int:
        ch = self.channel(channel_id)
        if "guild_id" not in ch:
            return DEFAULT_EVERYONE_PERMISSIONS
        gid = int(ch["guild_id"])
        perms = self.base_permissions(gid, user_id)
        if perms & ADMINISTRATOR or perms == ALL_PERMISSIONS:
            return ALL_PERMISSIONS
        member = self.guild(gid).members.get(user_id)
        member_roles = {int(r) for r in member["roles"]} if member else set()
        overwrites = {int(o["id"]): o for o in ch.get("permission_overwrites", [])}
        if gid in overwrites:
            perms = (perms & ~int(overwrites[gid]["deny"])) | int(overwrites[gid]["allow"])
        allow = deny = 0
        for rid in member_roles:
            if rid in overwrites and overwrites[rid]["type"] == 0:
                allow |= int(overwrites[rid]["allow"])
                deny |= int(overwrites[rid]["deny"])
        perms = (perms & ~deny) | allow
        if user_id in overwrites and overwrites[user_id]["type"] == 1:
            perms = (perms & ~int(overwrites[user_id]["deny"])) | int(overwrites[user_id]["allow"])
        return perms

    def top_role_position(self, guild_id: int, user_id: int) -> int:
        g = self.guild(guild_id)
        member = g.members.get(user_id)
        positions = [g.roles[int(r)]["position"] for r in (member or {}).get("roles", [])]
        return max(positions, default=0)

    # payloads -----------------------------------------------------------------------------
    def guild_payload(self, guild_id: int, *, full: bool = True) -> JSON:
        g = self.guild(guild_id)
        data: JSON = {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "description": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [dict(r) for r in g.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(g.general_channel_id) if g.general_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }
        if full:
            data.update(
                joined_at=g.joined_at,
                large=False,
                unavailable=False,
                member_count=len(g.members),
                voice_states=[],
                members=[dict(m) for m in g.members.values()],
                channels=[
                    {k: v for k, v in c.items() if k != "guild_id"} for c in g.channels.values()
                ],
                threads=[],
                presences=[],
                stage_instances=[],
                guild_scheduled_events=[dict(e) for e in g.scheduled_events.values()],
                soundboard_sounds=[],
                embedded_activities=[],
                lazy=True,
            )
        return data

    def message_payload(
        self,
        channel_id: int,
        body: JSON,
        *,
        author_id: int | None = None,
        attachments: list[RecordedFile] | None = None,
        webhook_id: int | None = None,
        extra: JSON | None = None,
    ) -> JSON:
        ch = self.channel(channel_id)
        mid = self.next_id()
        atts: list[JSON] = []
        for i, f in enumerate(attachments or []):
            aid = self.next_id()
            meta: JSON = next(
                (
                    a
                    for a in body.get("attachments") or []
                    if str(a.get("id")) == str(i) or a.get("filename") == f.filename
                ),
                {},
            )
            atts.append(
                {
                    "id": str(aid),
                    "filename": f.filename,
                    "size": len(f.data),
                    "url": f"https://cdn.discordapp.com/attachments/{channel_id}/{aid}/{f.filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/{channel_id}/{aid}/{f.filename}",
                    "content_type": f.content_type,
                    "description": meta.get("description"),
                }
            )
        msg: JSON = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self.user_payload(author_id or self.bot_user_id),
            "content": body.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": atts,
            "embeds": list(body.get("embeds") or []),
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags") or 0),
            "components": list(body.get("components") or []),
        }
        if "guild_id" in ch:
            msg["guild_id"] = ch["guild_id"]
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        if webhook_id is not None:
            msg["webhook_id"] = str(webhook_id)
            msg["application_id"] = str(self.application_id)
        if extra:
            msg.update(extra)
        return msg

    def store_message(self, msg: JSON) -> JSON:
        cid = int(msg["channel_id"])
        self.messages.setdefault(cid, []).append(msg)
        if cid in self.channels:
            self.channels[cid]["last_message_id"] = msg["id"]
        return msg

    def find_message(self, channel_id: int, message_id: int | str) -> JSON:
        for m in self.messages.get(int(channel_id), []):
            if m["id"] == str(message_id):
                return m
        raise unknown("Message", 10008)

    # queries ------------------------------------------------------------------------------
    def messages_in(self, channel_id: int) -> list[JSON]:
        """Non-ephemeral + ephemeral messages posted in a channel, oldest first."""
        return list(self.messages.get(int(channel_id), []))

    def dms_to(self, user_id: int) -> list[JSON]:
        cid = self.dm_channels.get(user_id)
        return [] if cid is None else list(self.messages.get(cid, []))


def normalise_overwrite(o: JSON) -> JSON:
    return {
        "id": str(o["id"]),
        "type": int(o.get("type", 0)),
        "allow": str(o.get("allow", "0")),
        "deny": str(o.get("deny", "0")),
    }
