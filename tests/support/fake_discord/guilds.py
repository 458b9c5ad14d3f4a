"""Guilds (servers): creating one as Discord does (@everyone, the bot's managed role, #general,
owner and bot as members), its payload for GUILD_CREATE and GET /guilds/{id}."""

from __future__ import annotations

from .channels import ChannelsMixin
from .common import JSON
from .members import MembersMixin
from .permissions import DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS
from .roles import role_payload
from .routing import Req, RouteSpec
from .store import FakeGuild


class GuildsMixin(MembersMixin, ChannelsMixin):
    def route_table(self) -> list[RouteSpec]:
        return [*super().route_table(), ("GET", "/guilds/{guild_id}", self._get_guild)]

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
        g.roles[gid] = role_payload(gid, "@everyone", everyone_permissions, 0)
        bot_role = self.add_role(gid, self.users[self.bot_user_id]["username"], bot_permissions, 1)
        g.roles[bot_role]["managed"] = True
        g.roles[bot_role]["tags"] = {"bot_id": str(self.bot_user_id)}
        g.bot_role_id = bot_role
        g.general_channel_id = self.add_text_channel(gid, "general")
        self.add_member(gid, owner)
        self.add_member(gid, self.bot_user_id, roles=[bot_role])
        return gid

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

    # routes -------------------------------------------------------------------------------
    async def _get_guild(self, req: Req) -> JSON:
        g = self.guild(req.int_param("guild_id"))
        data = self.guild_payload(g.id, full=False)
        if req.query.get("with_counts") in ("true", "1", "True"):
            data["approximate_member_count"] = len(g.members)
            data["approximate_presence_count"] = 0
        return data
