"""What `/setup show` reports as misconfigured, each problem with a one-line fix.

Pure rules over plain facts: the bot side (familybot/ui/health.py) reads the guild,
channels, roles and gateway state from discord.py into GuildFacts, so these rules are
tested without Discord. Written in the current language (the admin's, per interaction).
"""

from __future__ import annotations

from collections.abc import Iterable

from familybot import i18n
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

# Discord's names for the permissions, as the reader's Discord client shows them.
LABELS: dict[str, i18n.LazyString] = {
    "view_channel": i18n.lazy_gettext("View Channel"),
    "send_messages": i18n.lazy_gettext("Send Messages"),
    "embed_links": i18n.lazy_gettext("Embed Links"),
    "read_message_history": i18n.lazy_gettext("Read Message History"),
    "manage_roles": i18n.lazy_gettext("Manage Roles"),
    "manage_channels": i18n.lazy_gettext("Manage Channels"),
    "manage_events": i18n.lazy_gettext("Manage Events"),
    "kick_members": i18n.lazy_gettext("Kick Members"),
    "ban_members": i18n.lazy_gettext("Ban Members"),
    "manage_messages": i18n.lazy_gettext("Manage Messages"),
    "moderate_members": i18n.lazy_gettext("Timeout Members"),
    "mention_everyone": i18n.lazy_gettext("Mention Everyone"),
    "create_private_threads": i18n.lazy_gettext("Create Private Threads"),
    "send_messages_in_threads": i18n.lazy_gettext("Send Messages in Threads"),
}
# Why each permission is needed (familybot/permissions.py NEEDS, whose English is the msgid;
# tests/unit/test_setup_texts.py checks every reason there is listed here).
REASONS: tuple[i18n.LazyString, ...] = (
    i18n.lazy_gettext("see the channels it posts reminders and alerts in"),
    i18n.lazy_gettext("post reminders, alerts and mod-log entries"),
    i18n.lazy_gettext("show groups, sessions and resources as tidy cards"),
    i18n.lazy_gettext("update its own earlier messages (RSVP counts)"),
    i18n.lazy_gettext(
        "let each member (and no one else) see their group's private channel, a permission "
        "set on that channel for them alone; also /mod lock"
    ),
    i18n.lazy_gettext("create each group's private channel and close it on archive"),
    i18n.lazy_gettext("mirror sessions in Discord's Events panel (only with /setup events on)"),
    i18n.lazy_gettext("remove a member with /mod kick"),
    i18n.lazy_gettext("ban and unban with /mod ban and /mod unban (timed bans end by themselves)"),
    i18n.lazy_gettext(
        "remove recent messages with /mod purge, and invite links or mass mentions (automod)"
    ),
    i18n.lazy_gettext("pause a member with /mod timeout (Discord's own timeout)"),
    i18n.lazy_gettext(
        "open a private thread between a member and the facilitators (reports and /ask)"
    ),
    i18n.lazy_gettext("post in those private threads"),
    i18n.lazy_gettext(
        "bring the facilitator role into a private thread by mentioning it, even when the role "
        "isn't mentionable (every other ping stays off)"
    ),
)


def _sentence(text: str) -> str:
    """A sentence that may start with a placeholder ("the alerts channel ..."): capitalised."""
    return text[:1].upper() + text[1:]


def label(permission: str) -> str:
    found = LABELS.get(permission)
    return str(found) if found is not None else permission.replace("_", " ").title()


# Which channel a sentence is about ("In {where} #x I'm missing...").
WHERE: dict[str, i18n.LazyString] = {
    "alerts": i18n.lazy_gettext("the alerts channel"),
    "mod log": i18n.lazy_gettext("the mod log channel"),
    "panel": i18n.lazy_gettext("the start-here panel's channel"),
}


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
                i18n._("In {where} {channel} I'm missing {permissions}.").format(
                    where=what,
                    channel=f"<#{channel_id}>",
                    permissions=", ".join(f"**{label(p)}**" for p in missing),
                ),
                i18n._("Fix: allow them for FamilyBot in that channel's permissions."),
            )
        )
    if private and channel.everyone_can_view:
        out.append(
            Problem(
                _sentence(
                    i18n._("{where} {channel} is visible to everyone.").format(
                        where=what, channel=f"<#{channel_id}>"
                    )
                ),
                i18n._("Fix: deny @everyone View Channel there, or choose a private channel."),
            )
        )
    return out


def _private_channel(
    facts: GuildFacts, channel_id: int | None, what: str, command: str, unset: Problem
) -> list[Problem]:
    if channel_id is None:
        return [unset]
    where = str(WHERE[what])
    if channel_id not in facts.channels:
        return [
            Problem(
                _sentence(i18n._("{where} was deleted.").format(where=where)),
                i18n._("Fix: choose another with `{command}`.").format(command=command),
            )
        ]
    return _channel_problems(facts, channel_id, where, POSTING, private=True)


def _group_problems(facts: GuildFacts, group: Group) -> list[Problem]:
    name = f"**{group.name[:60]}**"
    out: list[Problem] = []
    if group.channel_id is None or group.channel_id not in facts.channels:
        out.append(
            Problem(
                i18n._("The channel of group {group} is missing.").format(group=name),
                i18n._("Fix: archive the group with `/group archive` and create it again."),
            )
        )
    else:
        where = i18n._("group {group}'s channel").format(group=name)
        out += _channel_problems(facts, group.channel_id, where, GROUP_CHANNEL, private=True)
    return out


def _intent_problems(facts: GuildFacts) -> list[Problem]:
    if not facts.message_content_wanted:
        return []
    if not facts.message_content_requested:
        return [
            Problem(
                i18n._(
                    "MESSAGE_CONTENT_INTENT is on, but I didn't ask Discord for message content."
                ),
                i18n._("Fix: restart FamilyBot so the setting takes effect."),
            )
        ]
    if not facts.message_content_enabled:
        return [
            Problem(
                i18n._(
                    "MESSAGE_CONTENT_INTENT is on, but the **Message Content** intent isn't "
                    "switched on for this bot."
                ),
                i18n._(
                    "Fix: turn it on under Bot → Privileged Gateway Intents in the Discord "
                    "Developer Portal, or set MESSAGE_CONTENT_INTENT=false."
                ),
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
    if len(waiting) > 5:
        extra = len(waiting) - 5
        names += " " + i18n.ngettext("and {n} more", "and {n} more", extra).format(n=extra)
    return [
        Problem(
            i18n._(
                "The old role of group {group} still exists, and it shows on its members' profiles."
            ).format(group=names),
            i18n._(
                "Fix: I replace it with access to the group's channel at every start; check I "
                "have **Manage Roles** and that my role is above it, then restart FamilyBot (a "
                "group of more than 96 members and facilitators waits until it is smaller)."
            ),
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
                i18n._("The channel of the start-here panel was deleted."),
                i18n._("Fix: post the panel again with `/setup welcome`."),
            )
        ]
    if panel_found is False:
        return [
            Problem(
                i18n._("The start-here panel in {channel} was deleted.").format(
                    channel=f"<#{panel.channel_id}>"
                ),
                i18n._("Fix: post it again with `/setup welcome`."),
            )
        ]
    where = str(WHERE["panel"])
    return _channel_problems(facts, panel.channel_id, where, PANEL_CHANNEL, private=False)


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
                    i18n._(
                        "Without **Mention Everyone**, reports and `/ask` open a private "
                        "channel instead of a thread (unless the facilitator role is "
                        "mentionable)."
                    ),
                    i18n._(
                        "Optional: give FamilyBot's role that permission to use private threads."
                    ),
                )
            )
            continue
        problems.append(
            Problem(
                i18n._("I'm missing the **{permission}** permission (to {reason}).").format(
                    permission=label(need.permission), reason=i18n._(need.reason)
                ),
                i18n._("Fix: give FamilyBot's role that permission in Server Settings → Roles."),
            )
        )
    role_id = settings.facilitator_role_id
    if role_id is None:
        problems.append(
            Problem(
                i18n._("Set a facilitator role with `/setup facilitator-role`."),
                i18n._("Until then only admins can facilitate."),
            )
        )
    elif role_id not in facts.roles:
        problems.append(
            Problem(
                i18n._("The facilitator role was deleted;"),
                i18n._("set it again with `/setup facilitator-role`."),
            )
        )
    problems += _private_channel(
        facts,
        settings.alerts_channel_id,
        "alerts",
        "/setup alerts",
        Problem(
            i18n._("Set an alerts channel with `/setup alerts`"),
            i18n._("(needed for approval-mode groups and safety alerts)."),
        ),
    )
    problems += _private_channel(
        facts,
        settings.modlog_channel_id,
        "mod log",
        "/setup modlog",
        Problem(
            i18n._("No mod-log channel is set, so moderation cases are stored but not posted."),
            i18n._("Fix: choose one with `/setup modlog`."),
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
