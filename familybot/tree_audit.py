"""Audit recording for commands and components: what a facilitator or admin action did,
to which target (ids only), and how it ended. Used by the tree's wrapper (familybot.tree)
and the bot's command-completion hook; it runs after the reply, so it adds no wait. That
hook also sends the one-time note about an undelivered DM (dm_failure_notice)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from familybot import i18n
from familybot.checks import FACILITATOR_MARK, CheckError
from familybot.errors import DiscordActionFailed, UserFacingError
from familybot.models.audit import AuditResult, AuditTarget, TargetKind
from familybot.services.audit.service import AuditService

log = logging.getLogger(__name__)

# A command that answers a refusal itself (instead of raising) may set
# interaction.extras[AUDIT_RESULT] = AuditResult.REFUSED (or FAILED) to say so.
AUDIT_RESULT = "familybot_audit_result"
# A command whose option changes what it does may name the action itself, e.g.
# interaction.extras[AUDIT_ACTION] = "group.stats.csv" for the attendance export.
AUDIT_ACTION = "familybot_audit_action"


def dm_failure_notice() -> str:
    """Told privately, the next time someone uses the bot, that a DM did not reach them
    (in their language: the hook runs in the interaction's)."""
    return i18n._(
        "A note just for you: I recently couldn't deliver a private message to you (your direct "
        "messages may be closed for this server). Reminders still appear in your group's "
        "channel. To get them by DM, allow direct messages from server members in this "
        "server's Privacy Settings, or turn DM reminders off with `/my reminders dm:off`."
    )


# Options whose value, when it is a number, is the id of one of our own rows.
_ID_OPTIONS = {"session": TargetKind.SESSION, "resource": TargetKind.RESOURCE}


def command_action(command: Any) -> str | None:
    """'mod.ban' for /mod ban, or None when the command is not a facilitator/admin one."""
    callback = getattr(command, "callback", None)
    if callback is None or getattr(callback, FACILITATOR_MARK, None) is None:
        return None
    return str(command.qualified_name).replace(" ", ".")


def result_for(error: BaseException) -> AuditResult:
    """A check, a rule or bad input saying no is a refusal; anything else (Discord, the
    database, a bug) is a failure."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, DiscordActionFailed | CheckError):
        return AuditResult.FAILED  # CheckError: a check that could not decide (db down, ...)
    refused = (
        UserFacingError,
        app_commands.CheckFailure,
        app_commands.CommandOnCooldown,
        app_commands.TransformerError,
    )
    return AuditResult.REFUSED if isinstance(error, refused) else AuditResult.FAILED


def _object_target(value: Any) -> AuditTarget | None:
    if isinstance(value, discord.Member | discord.User):
        return AuditTarget(value.id, TargetKind.USER)
    if isinstance(value, discord.Role):
        return AuditTarget(value.id, TargetKind.ROLE)
    if isinstance(
        value,
        app_commands.AppCommandChannel | app_commands.AppCommandThread | discord.abc.GuildChannel,
    ):
        return AuditTarget(value.id, TargetKind.CHANNEL)
    return None


async def command_target(interaction: discord.Interaction[Any], command: Any) -> AuditTarget | None:
    """The first person, role or channel option; else a case, session, resource or group.

    Only ids: free text such as reasons is never looked at.
    """
    namespace = interaction.namespace
    values = [
        (p.name, namespace[p.display_name])
        for p in getattr(command, "parameters", [])
        if p.display_name in namespace
    ]
    for _, value in values:
        target = _object_target(value)
        if target is not None:
            return target
    qualified = str(command.qualified_name)
    is_group_command, is_mod_command = qualified.startswith("group "), qualified.startswith("mod ")
    for name, value in values:
        if name == "number" and is_mod_command and isinstance(value, int):
            return AuditTarget(value, TargetKind.CASE)  # /mod case, /mod reason: case number
        kind = _ID_OPTIONS.get(name)
        if kind is not None and str(value).strip().isdigit():
            return AuditTarget(int(str(value).strip()), kind)
        names_group = name == "group" or (is_group_command and name == "name")
        if names_group and isinstance(value, str) and interaction.guild_id is not None:
            audit: AuditService = interaction.client.services.audit
            return await audit.group_target(interaction.guild_id, value)
    return None


async def record_action(
    interaction: discord.Interaction[Any],
    action: str,
    target: AuditTarget | None,
    result: AuditResult,
) -> None:
    """Append an entry for a button, menu or modal. Never raises."""
    services = getattr(interaction.client, "services", None)
    if interaction.guild_id is None or services is None:
        return
    await services.audit.record(interaction.guild_id, interaction.user.id, action, target, result)


async def record_command(
    interaction: discord.Interaction[Any], command: Any, result: AuditResult | None = None
) -> None:
    """Called once per slash command when it ends: completed (result None) or errored."""
    try:
        action = command_action(command)
        if action is None:
            return
        action = str(interaction.extras.get(AUDIT_ACTION, action))
        if result is None:
            result = AuditResult(interaction.extras.get(AUDIT_RESULT, AuditResult.OK))
        target = await command_target(interaction, command)
        await record_action(interaction, action, target, result)
    except Exception as exc:  # the audit must never break or delay a command's reply
        log.error("audit hook failed interaction=%d error=%s", interaction.id, type(exc).__name__)
