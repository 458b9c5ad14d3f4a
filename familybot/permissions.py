"""The Discord permissions and intents FamilyBot needs, each with the reason it is needed.

`familybot check` builds the invite URL from this table, so the bot asks for exactly
what its features use and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bit values from Discord's permission flags.
PERMISSION_BITS: dict[str, int] = {
    "manage_channels": 1 << 4,
    "view_channel": 1 << 10,
    "send_messages": 1 << 11,
    "embed_links": 1 << 14,
    "read_message_history": 1 << 16,
    "manage_roles": 1 << 28,
    "manage_events": 1 << 33,
    "kick_members": 1 << 1,
    "ban_members": 1 << 2,
    "manage_messages": 1 << 13,
    "moderate_members": 1 << 40,
    "mention_everyone": 1 << 17,
    "create_private_threads": 1 << 36,
    "send_messages_in_threads": 1 << 38,
}


@dataclass(frozen=True)
class Need:
    permission: str
    reason: str


NEEDS: tuple[Need, ...] = (
    Need("view_channel", "see the channels it posts reminders and alerts in"),
    Need("send_messages", "post reminders, alerts and mod-log entries"),
    Need("embed_links", "show groups, sessions and resources as tidy cards"),
    Need("read_message_history", "update its own earlier messages (RSVP counts)"),
    Need(
        "manage_roles",
        "let each member (and no one else) see their group's private channel, a permission "
        "set on that channel for them alone; also /mod lock",
    ),
    Need("manage_channels", "create each group's private channel and close it on archive"),
    Need(
        "manage_events",
        "mirror sessions in Discord's Events panel (only with /setup events on)",
    ),
    Need("kick_members", "remove a member with /mod kick"),
    Need(
        "ban_members", "ban and unban with /mod ban and /mod unban (timed bans end by themselves)"
    ),
    Need(
        "manage_messages",
        "remove recent messages with /mod purge, and invite links or mass mentions (automod)",
    ),
    Need("moderate_members", "pause a member with /mod timeout (Discord's own timeout)"),
    Need(
        "create_private_threads",
        "open a private thread between a member and the facilitators (reports and /ask)",
    ),
    Need("send_messages_in_threads", "post in those private threads"),
    Need(
        "mention_everyone",
        "bring the facilitator role into a private thread by mentioning it, even when the role "
        "isn't mentionable (every other ping stays off)",
    ),
)

SCOPES: tuple[str, ...] = ("bot", "applications.commands")


def permissions_value() -> int:
    value = 0
    for need in NEEDS:
        value |= PERMISSION_BITS[need.permission]
    return value


def invite_url(application_id: int) -> str:
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope={'+'.join(SCOPES)}&permissions={permissions_value()}"
    )
