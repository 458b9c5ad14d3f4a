"""Who may moderate whom: pure rules over plain data, so every case is testable without Discord.

The cog gathers the numbers (role positions, permission bits) from the interaction and the
guild cache; these functions decide. Refusals are kind sentences safe to show the actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from familybot import i18n


class Action(StrEnum):
    WARN = "warn"
    NOTE = "note"
    TIMEOUT = "timeout"
    UNTIMEOUT = "untimeout"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    PURGE = "purge"
    SLOWMODE = "slowmode"
    LOCK = "lock"
    UNLOCK = "unlock"


# Discord's permission bits (https://discord.com/developers/docs/topics/permissions).
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
MANAGE_MESSAGES = 1 << 13
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_ROLES = 1 << 28  # "Manage Permissions" when it concerns a channel's overwrites
MODERATE_MEMBERS = 1 << 40

# What the bot itself needs before it calls Discord, with a name people recognise.
BOT_NEEDS: dict[Action, tuple[int, str]] = {
    Action.WARN: (0, ""),
    Action.NOTE: (0, ""),
    Action.TIMEOUT: (MODERATE_MEMBERS, "Timeout Members"),
    Action.UNTIMEOUT: (MODERATE_MEMBERS, "Timeout Members"),
    Action.KICK: (KICK_MEMBERS, "Kick Members"),
    Action.BAN: (BAN_MEMBERS, "Ban Members"),
    Action.UNBAN: (BAN_MEMBERS, "Ban Members"),
    Action.PURGE: (
        VIEW_CHANNEL | READ_MESSAGE_HISTORY | MANAGE_MESSAGES,
        "View Channel, Read Message History and Manage Messages",
    ),
    Action.SLOWMODE: (MANAGE_CHANNELS, "Manage Channels"),
    Action.LOCK: (MANAGE_ROLES, "Manage Permissions"),
    Action.UNLOCK: (MANAGE_ROLES, "Manage Permissions"),
}
# The permissions' names as the reader's Discord shows them.
PERMISSION_NAMES: dict[str, i18n.LazyString] = {
    "Timeout Members": i18n.lazy_gettext("Timeout Members"),
    "Kick Members": i18n.lazy_gettext("Kick Members"),
    "Ban Members": i18n.lazy_gettext("Ban Members"),
    "View Channel, Read Message History and Manage Messages": i18n.lazy_gettext(
        "View Channel, Read Message History and Manage Messages"
    ),
    "Manage Channels": i18n.lazy_gettext("Manage Channels"),
    "Manage Permissions": i18n.lazy_gettext("Manage Permissions"),
}
# Actions on a member that Discord itself checks against the bot's highest role.
NEEDS_BOT_ABOVE = frozenset({Action.TIMEOUT, Action.UNTIMEOUT, Action.KICK, Action.BAN})
MEMBER_ACTIONS = frozenset(
    {Action.WARN, Action.NOTE, Action.TIMEOUT, Action.UNTIMEOUT, Action.KICK, Action.BAN}
)

MAX_TIMEOUT = timedelta(days=28)  # Discord's limit for communication_disabled_until
MAX_TEMPBAN = timedelta(days=365)
MAX_SLOWMODE_SECONDS = 21600  # Discord's limit for rate_limit_per_user (6 hours)
BULK_DELETE_MAX_AGE = timedelta(days=14)  # Discord's bulk-delete limit
PURGE_MAX = 100
REASON_MAX = 400


@dataclass(frozen=True)
class Person:
    """A member as far as hierarchy goes. ``top_position`` is their highest role's position
    (0 for @everyone only); ``in_guild`` is False for someone who already left."""

    user_id: int
    top_position: int = 0
    is_owner: bool = False
    is_admin: bool = False
    in_guild: bool = True


@dataclass(frozen=True)
class BotSelf:
    user_id: int
    top_position: int
    permissions: int  # in the guild, or in the channel for channel actions


def has_permissions(bits: int, needed: int) -> bool:
    return bool(bits & ADMINISTRATOR) or bits & needed == needed


def refusal(action: Action, actor: Person, target: Person | None, bot: BotSelf) -> str | None:
    """Why this action must not go ahead, or None. Checked before anything is stored or sent."""
    if target is not None and action in MEMBER_ACTIONS | {Action.UNBAN}:
        if target.user_id == actor.user_id:
            return i18n._("You can't use moderation actions on yourself.")
        if target.user_id == bot.user_id:
            return i18n._("I can't use moderation actions on myself.")
        if target.in_guild and action in MEMBER_ACTIONS:
            if target.is_owner:
                return i18n._("The server owner can't be moderated.")
            if target.is_admin:
                return i18n._(
                    "Server admins can't be moderated with FamilyBot. If something is wrong, "
                    "please speak with the server owner."
                )
            if not actor.is_owner and target.top_position >= actor.top_position:
                return i18n._(
                    "Their highest role is the same as or above yours, so you can't moderate "
                    "them. Another facilitator or an admin can help."
                )
            if action in NEEDS_BOT_ABOVE and target.top_position >= bot.top_position:
                return i18n._(
                    "Their highest role is the same as or above mine, so Discord won't let me "
                    "do that. An admin can move my role higher in Server Settings → Roles."
                )
    needed, names = BOT_NEEDS[action]
    if needed and not has_permissions(bot.permissions, needed):
        return i18n._(
            "I'm missing the {permissions} permission for that, so nothing was done. An admin "
            "can give it to my role (or in this channel's settings)."
        ).format(permissions=PERMISSION_NAMES[names])
    return None


def check_timeout_length(length: timedelta) -> str | None:
    if length > MAX_TIMEOUT:
        return i18n._("Discord allows timeouts of up to 28 days. Please choose 28d or less.")
    return None


def check_tempban_length(length: timedelta) -> str | None:
    if length > MAX_TEMPBAN:
        return i18n._("A timed ban can last up to a year. For longer, leave the length empty.")
    return None
