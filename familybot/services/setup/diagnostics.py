"""What `/setup show` reports as misconfigured, each problem with a one-line fix.

Pure rules over plain facts: the bot side (familybot/ui/health.py) reads the guild,
channels, roles and gateway state from discord.py into GuildFacts, so these rules are
tested without Discord.
"""

from __future__ import annotations

from collections.abc import Iterable

from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.settings import SettingsRepository
from familybot.models import Group, GuildSettings, WelcomePanel
from familybot.models.diagnostics import GuildFacts, Problem
from familybot.permissions import NEEDS

# The channel permissions each kind of channel needs, in the order we name them.
POSTING = ("view_channel", "send_messages", "embed_links")
GROUP_CHANNEL = ("view_channel", "send_messages", "embed_links", "read_message_history")
# The start-here panel's channel: post it, and read it back to know it still exists.
PANEL_CHANNEL = ("view_channel", "send_messages", "embed_links", "read_message_history")

LABELS: dict[str, str] = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "read_message_history": "Read Message History",
    "manage_roles": "Manage Roles",
    "manage_channels": "Manage Channels",
    "manage_events": "Manage Events",
    "kick_members": "Kick Members",
    "ban_members": "Ban Members",
    "manage_messages": "Manage Messages",
    "moderate_members": "Timeout Members",
}


def label(permission: str) -> str:
    return LABELS.get(permission, permission.replace("_", " ").title())


def _channel_problems(
    facts: GuildFacts, channel_id: int, what: str, needed: Iterable[str], *, private: bool
) -> list[Problem]:
    channel = facts.channels.get(channel_id)
    if channel is None:
        return []  # the caller reports a missing channel in its own words
    out: list[Problem] = []
    missing = [p for p in needed if p not in channel.bot_permissions]
    if missing:
        out.append(
            Problem(
                f"In {what} <#{channel_id}> I'm missing "
                + ", ".join(f"**{label(p)}**" for p in missing)
                + ".",
                "Fix: allow them for FamilyBot in that channel's permissions.",
            )
        )
    if private and channel.everyone_can_view:
        out.append(
            Problem(
                f"{what[0].upper()}{what[1:]} <#{channel_id}> is visible to everyone.",
                "Fix: deny @everyone View Channel there, or choose a private channel.",
            )
        )
    return out


def _private_channel(
    facts: GuildFacts, channel_id: int | None, what: str, command: str, unset: Problem
) -> list[Problem]:
    if channel_id is None:
        return [unset]
    if channel_id not in facts.channels:
        return [
            Problem(
                f"The {what} channel was deleted.",
                f"Fix: choose another with `{command}`.",
            )
        ]
    return _channel_problems(facts, channel_id, f"the {what} channel", POSTING, private=True)


def _group_problems(facts: GuildFacts, group: Group) -> list[Problem]:
    name = f"**{group.name[:60]}**"
    out: list[Problem] = []
    if group.channel_id is None or group.channel_id not in facts.channels:
        out.append(
            Problem(
                f"The channel of group {name} is missing.",
                "Fix: archive the group with `/group archive` and create it again.",
            )
        )
    else:
        out += _channel_problems(
            facts, group.channel_id, f"group {name}'s channel", GROUP_CHANNEL, private=True
        )
    return out


def _intent_problems(facts: GuildFacts) -> list[Problem]:
    if not facts.message_content_wanted:
        return []
    if not facts.message_content_requested:
        return [
            Problem(
                "MESSAGE_CONTENT_INTENT is on, but I didn't ask Discord for message content.",
                "Fix: restart FamilyBot so the setting takes effect.",
            )
        ]
    if not facts.message_content_enabled:
        return [
            Problem(
                "MESSAGE_CONTENT_INTENT is on, but the **Message Content** intent isn't "
                "switched on for this bot.",
                "Fix: turn it on under Bot → Privileged Gateway Intents in the Discord "
                "Developer Portal, or set MESSAGE_CONTENT_INTENT=false.",
            )
        ]
    return []


def _old_role_problems(facts: GuildFacts, groups: Iterable[Group]) -> list[Problem]:
    """Groups from before per-person channel access whose named role is not yet replaced
    (services/groups/group_access.py does it at every start)."""
    waiting = [g for g in groups if g.role_id is not None and g.role_id in facts.roles]
    if not waiting:
        return []
    names = ", ".join(f"**{g.name[:60]}**" for g in waiting[:5])
    more = f" and {len(waiting) - 5} more" if len(waiting) > 5 else ""
    return [
        Problem(
            f"The old role of group {names}{more} still exists, and it shows on its members' "
            "profiles.",
            "Fix: I replace it with access to the group's channel at every start; check I have "
            "**Manage Roles** and that my role is above it, then restart FamilyBot (a group of "
            "more than 96 members and facilitators waits until it is smaller).",
        )
    ]


def _panel_problems(
    facts: GuildFacts, panel: WelcomePanel | None, panel_found: bool | None
) -> list[Problem]:
    """The start-here panel (`/setup welcome`): optional, so only a lost one is reported.
    ``panel_found``: False when Discord says the message is gone, None when unknown."""
    if panel is None:
        return []
    if panel.channel_id not in facts.channels:
        return [
            Problem(
                "The channel of the start-here panel was deleted.",
                "Fix: post the panel again with `/setup welcome`.",
            )
        ]
    if panel_found is False:
        return [
            Problem(
                f"The start-here panel in <#{panel.channel_id}> was deleted.",
                "Fix: post it again with `/setup welcome`.",
            )
        ]
    return _channel_problems(
        facts, panel.channel_id, "the start-here panel's channel", PANEL_CHANNEL, private=False
    )


def diagnose(
    settings: GuildSettings,
    groups: Iterable[Group],
    facts: GuildFacts,
    old_role_groups: Iterable[Group] = (),
    panel: WelcomePanel | None = None,
    panel_found: bool | None = None,
) -> list[Problem]:
    """Everything misconfigured for this server, most fundamental first."""
    problems: list[Problem] = []
    for need in NEEDS:
        if need.permission in facts.bot_permissions:
            continue
        if need.permission == "manage_events" and not settings.scheduled_events:
            continue  # only /setup events uses it
        if need.permission == "mention_everyone":  # optional: private channels stand in
            problems.append(
                Problem(
                    "Without **Mention Everyone**, reports and `/ask` open a private channel "
                    "instead of a thread (unless the facilitator role is mentionable).",
                    "Optional: give FamilyBot's role that permission to use private threads.",
                )
            )
            continue
        problems.append(
            Problem(
                f"I'm missing the **{label(need.permission)}** permission (to {need.reason}).",
                "Fix: give FamilyBot's role that permission in Server Settings → Roles.",
            )
        )
    role_id = settings.facilitator_role_id
    if role_id is None:
        problems.append(
            Problem(
                "Set a facilitator role with `/setup facilitator-role`.",
                "Until then only admins can facilitate.",
            )
        )
    elif role_id not in facts.roles:
        problems.append(
            Problem(
                "The facilitator role was deleted;",
                "set it again with `/setup facilitator-role`.",
            )
        )
    problems += _private_channel(
        facts,
        settings.alerts_channel_id,
        "alerts",
        "/setup alerts",
        Problem(
            "Set an alerts channel with `/setup alerts`",
            "(needed for approval-mode groups and safety alerts).",
        ),
    )
    problems += _private_channel(
        facts,
        settings.modlog_channel_id,
        "mod log",
        "/setup modlog",
        Problem(
            "No mod-log channel is set, so moderation cases are stored but not posted.",
            "Fix: choose one with `/setup modlog`.",
        ),
    )
    for group in groups:
        if group.is_active:
            problems += _group_problems(facts, group)
    problems += _old_role_problems(facts, old_role_groups)
    problems += _panel_problems(facts, panel, panel_found)
    problems += _intent_problems(facts)
    return problems


class DiagnosticsService:
    """Reads the server's settings and groups and runs the rules above."""

    def __init__(self, settings: SettingsRepository, groups: GroupRepository) -> None:
        self._settings = settings
        self._groups = groups

    async def report(
        self,
        guild_id: int,
        facts: GuildFacts,
        panel: WelcomePanel | None = None,
        panel_found: bool | None = None,
    ) -> list[Problem]:
        settings = await self._settings.get(guild_id)
        return diagnose(
            settings,
            await self._groups.list_active(guild_id),
            facts,
            await self._groups.with_old_role(guild_id),
            panel,
            panel_found,
        )
