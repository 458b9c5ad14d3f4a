"""What every adapter shares: Discord's error codes, the access overwrites, one refusal."""

from __future__ import annotations

import logging
from typing import Literal

import discord

from familybot.errors import DiscordActionFailed
from familybot.i18n import LazyString, _, for_guild, lazy_gettext, using

log = logging.getLogger(__name__)

# Discord's JSON error codes.
UNKNOWN_CHANNEL = 10003
UNKNOWN_MEMBER = 10007
UNKNOWN_USER = 10013
UNKNOWN_BAN = 10026
MISSING_ACCESS = 50001
CANNOT_DM = 50007
TOO_MANY_ROLES = 30005
TOO_MANY_CHANNELS = 30013
TOO_MANY_EVENTS = 30038

# Who may see a private channel: set per person (or the facilitator role), never @everyone.
MEMBER_ACCESS = discord.PermissionOverwrite(
    view_channel=True, send_messages=True, read_message_history=True
)
READ_ONLY_ACCESS = discord.PermissionOverwrite(
    view_channel=True, read_message_history=True, send_messages=False
)
NO_ACCESS = discord.PermissionOverwrite(view_channel=False)
BOT_ACCESS = discord.PermissionOverwrite(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    read_message_history=True,
    manage_channels=True,
)
MEMBER_OVERWRITE: Literal[1] = 1  # a permission overwrite for one member (0 is for a role)
ROLE_OVERWRITE: Literal[0] = 0

Overwrites = dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]

SERVER_UNSEEN = lazy_gettext("I can't see this server right now. Please try again in a moment.")


def refused(
    what: LazyString,
    error: discord.HTTPException,
    *,
    missing: LazyString,
    outcome: LazyString,
    check: LazyString,
) -> DiscordActionFailed:
    """Discord said no: log the status and code, and tell the member what happened, in the
    language of the moment (the interaction's, set per interaction).

    ``what``: the action, as it follows "Discord didn't let me"; ``missing``: which
    permission may lack; ``outcome``: what became of their request; ``check``: who can look
    into it. The log names the action in English (its msgid), never the member's words."""
    log.warning("discord refused %s status=%s code=%s", what.message, error.status, error.code)
    if isinstance(error, discord.Forbidden):
        return DiscordActionFailed(
            _(
                "Discord didn't let me {what}. I may be missing {missing}. {outcome}; {check}."
            ).format(what=what, missing=missing, outcome=outcome, check=check)
        )
    return DiscordActionFailed(
        _(
            "Discord had a problem when I tried to {what}. {outcome}; please try again in a moment."
        ).format(what=what, outcome=outcome)
    )


def audit_reason(guild_id: int | None, text: LazyString) -> str:
    """A reason for Discord's audit log, which the server's admins read in Server Settings:
    in the server's language."""
    with using(for_guild(guild_id)):
        return str(text)


UNDO = lazy_gettext("FamilyBot: undo")


async def delete_channel(
    client: discord.Client, channel_id: int, what: str, guild_id: int | None = None
) -> None:
    """Undo a channel or thread made a moment ago (the rest of the step failed)."""
    try:
        await client.http.delete_channel(channel_id, reason=audit_reason(guild_id, UNDO))
    except discord.HTTPException as error:
        log.warning("could not remove half-made %s=%d status=%s", what, channel_id, error.status)
