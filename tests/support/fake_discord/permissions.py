"""Permission bits and Discord's permission maths (roles, channel overwrites, role hierarchy),
and the checks the fake's routes make on the bot's behalf."""

from __future__ import annotations

from .common import JSON
from .errors import missing_access, missing_permissions
from .store import FakeState

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
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
MODERATE_MEMBERS = 1 << 40
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


def normalise_overwrite(o: JSON) -> JSON:
    return {
        "id": str(o["id"]),
        "type": int(o.get("type", 0)),
        "allow": str(o.get("allow", "0")),
        "deny": str(o.get("deny", "0")),
    }


class PermissionsMixin(FakeState):
    #: When True, role/channel operations check the bot's permissions & role hierarchy.
    enforce_permissions: bool = True

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

    # the bot's checks ---------------------------------------------------------------------
    def require(self, guild_id: int, perm: int, channel_id: int | None = None) -> None:
        """403 unless the bot holds ``perm`` in the server (or, given, in that channel)."""
        if not self.enforce_permissions:
            return
        if channel_id is not None:
            perms = self.permissions_in(channel_id, self.bot_user_id)
            if not perms & VIEW_CHANNEL:
                raise missing_access()
        else:
            perms = self.base_permissions(guild_id, self.bot_user_id)
        if perms & perm != perm:
            raise missing_permissions()

    def require_role_below_bot(self, guild_id: int, role_id: int) -> None:
        if not self.enforce_permissions:
            return
        g = self.guild(guild_id)
        if g.owner_id == self.bot_user_id:
            return
        if self.role(guild_id, role_id)["position"] >= self.top_role_position(
            guild_id, self.bot_user_id
        ):
            raise missing_permissions()

    def require_member_below_bot(self, guild_id: int, user_id: int) -> None:
        """Moderating a member: never the owner, and only below the bot's top role."""
        g = self.guild(guild_id)
        if user_id == g.owner_id or self.top_role_position(
            guild_id, user_id
        ) >= self.top_role_position(guild_id, self.bot_user_id):
            raise missing_permissions()
