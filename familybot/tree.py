"""The command tree's single error handler: kind ephemeral replies, ids-only logs."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import discord
from discord import app_commands

from familybot.db.connection import DatabaseUnavailable
from familybot.errors import UserFacingError

log = logging.getLogger(__name__)

GENERIC_ERROR = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a "
    "moment; if it keeps happening, let a facilitator know. If you need help right now, "
    "`/crisis` always works."
)
DATABASE_ERROR = (
    "Sorry, I can't reach my records right now, so nothing was changed. Please try again in a "
    "few minutes. If you need help right now, `/crisis` always works."
)
NOT_A_FACILITATOR = (
    "Only facilitators can do that. If you think you should be able to, ask an admin."
)
NOT_AN_ADMIN = "Only server admins (with the Manage Server permission) can do that."
GUILD_ONLY = "That only works inside the server, not in direct messages."
# A busy (locked) or full database: the transaction was rolled back, so nothing changed.
DATABASE_BUSY = (
    "I couldn't save that just now — nothing was changed. Please try again in a minute. "
    "If you need help right now, `/crisis` always works."
)


def _unwrap(error: BaseException) -> BaseException:
    """The exception a command actually raised, out of discord.py's wrappers."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    if isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        return error.__cause__
    return error


def database_error_kind(error: BaseException) -> str | None:
    """'locked' or 'full' for the database errors a retry later can fix, else None."""
    error = _unwrap(error)
    if isinstance(error, DatabaseUnavailable) and error.kind is not None:
        return "locked" if error.kind == "down" else error.kind  # PostgreSQL's, see db/postgres
    if isinstance(error, DatabaseUnavailable) and isinstance(error.__cause__, sqlite3.Error):
        error = error.__cause__
    if not isinstance(error, sqlite3.OperationalError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    text = str(error).lower()
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in text:
        return "locked"
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return "full"
    return None


def message_for(error: BaseException) -> tuple[str, bool]:
    """The text to show for an error, and whether it was expected (not worth a traceback)."""
    if database_error_kind(error) is not None:
        return DATABASE_BUSY, True  # report_error logs its own one line for these
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else None
        error = (
            error.original
            if isinstance(error, app_commands.CommandInvokeError)
            else (inner or error)
        )
    if isinstance(error, UserFacingError):
        return error.message, True
    if isinstance(error, app_commands.NoPrivateMessage):
        return GUILD_ONLY, True
    if isinstance(error, app_commands.CheckFailure):
        text = str(error)
        return (
            text if text and not text.startswith("The check functions") else NOT_A_FACILITATOR
        ), True
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Please wait {error.retry_after:.0f} seconds before trying that again.", True
    if isinstance(error, app_commands.TransformerError):
        return "I couldn't understand one of the options. Please pick it from the list.", True
    if isinstance(error, DatabaseUnavailable):
        return DATABASE_ERROR, False
    if isinstance(error, discord.Forbidden):
        return (
            "Discord didn't let me do that: I may be missing a permission. An admin can "
            "check with `/setup show`. Nothing was changed.",
            False,
        )
    return GENERIC_ERROR, False


async def send_private(interaction: discord.Interaction[Any], text: str) -> None:
    """Reply ephemerally whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver error reply interaction=%d", interaction.id)


async def report_error(
    interaction: discord.Interaction[Any], error: BaseException, where: str
) -> None:
    text, expected = message_for(error)
    db_kind = database_error_kind(error)
    if db_kind is not None:
        # One line, ids only: the operator needs the kind, not a traceback. No channel id:
        # next to a user id, a group's private channel would say who is in the group.
        log.error(
            "database %s in %s guild=%s user=%d interaction=%d: nothing was saved",
            db_kind,
            where,
            interaction.guild_id,
            interaction.user.id,
            interaction.id,
        )
    elif not expected:
        log.error(
            "unhandled error in %s guild=%s user=%d interaction=%d",
            where,
            interaction.guild_id,
            interaction.user.id,
            interaction.id,
            exc_info=error,
        )
    await send_private(interaction, text)


async def may_see_suggestions(interaction: discord.Interaction[Any]) -> bool:
    """Autocomplete offers only what the command itself would show: a facilitator or admin
    command suggests nothing to someone it would refuse, and nothing outside a server."""
    from familybot.checks import FACILITATOR_MARK, actor_of, member_is_facilitator

    guard = getattr(getattr(interaction.command, "callback", None), FACILITATOR_MARK, None)
    if guard is None:
        return True
    if interaction.guild_id is None:
        return False
    if guard == "admin":
        return actor_of(interaction).is_admin
    return await member_is_facilitator(interaction)


class FamilyTree(app_commands.CommandTree[Any]):
    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Every autocomplete of a guarded command passes through here, so no callback can
        forget the check."""
        if interaction.type is not discord.InteractionType.autocomplete:
            return True
        try:
            if await may_see_suggestions(interaction):
                return True
        except Exception:  # e.g. the database is down: suggest nothing rather than guess
            log.warning("autocomplete check failed interaction=%d", interaction.id)
        try:
            await interaction.response.autocomplete([])
        except discord.HTTPException:
            log.warning("could not answer autocomplete interaction=%d", interaction.id)
        return False

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "unknown"
        await report_error(interaction, error, f"command {command!r}")
        # After the reply, so the audit write adds no wait. Imported here: ui imports us.
        from familybot.ui.audit import record_command, result_for

        await record_command(interaction, interaction.command, result_for(error))
