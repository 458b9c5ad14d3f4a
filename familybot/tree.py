"""The command tree's single error handler, and the one wrapper components share with it:
refuse kindly, report errors (kind ephemeral replies, ids-only logs), record the audit."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from familybot import i18n
from familybot.checks import (
    FACILITATOR_MARK,
    NOT_A_FACILITATOR,
    CheckError,
    actor_of,
    member_is_facilitator,
)
from familybot.db.connection import DatabaseUnavailable
from familybot.errors import UserFacingError
from familybot.i18n import _, lazy_gettext, ngettext
from familybot.models.audit import AuditResult, AuditTarget
from familybot.tree_audit import record_action, record_command, result_for

log = logging.getLogger(__name__)

GENERIC_ERROR = lazy_gettext(
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a "
    "moment; if it keeps happening, let a facilitator know. If you need help right now, "
    "`/crisis` always works."
)
DATABASE_ERROR = lazy_gettext(
    "Sorry, I can't reach my records right now, so nothing was changed. Please try again in a "
    "few minutes. If you need help right now, `/crisis` always works."
)
GUILD_ONLY = lazy_gettext("That only works inside the server, not in direct messages.")
# A busy (locked) or full database: the transaction was rolled back, so nothing changed.
DATABASE_BUSY = lazy_gettext(
    "I couldn't save that just now — nothing was changed. Please try again in a minute. "
    "If you need help right now, `/crisis` always works."
)


def _unwrap(error: BaseException) -> BaseException:
    """The exception a command actually raised, out of discord.py's wrappers."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    if isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
        return error.__cause__
    if isinstance(error, CheckError) and error.__cause__ is not None:
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
    if isinstance(error, CheckError) and error.__cause__ is not None:
        error = error.__cause__
    if database_error_kind(error) is not None:
        return str(DATABASE_BUSY), True  # report_error logs its own one line for these
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
        return str(GUILD_ONLY), True
    if isinstance(error, app_commands.CheckFailure):
        text = str(error)
        return (
            text if text and not text.startswith("The check functions") else str(NOT_A_FACILITATOR)
        ), True
    if isinstance(error, app_commands.CommandOnCooldown):
        seconds = round(error.retry_after)
        return ngettext(
            "Please wait {seconds} second before trying that again.",
            "Please wait {seconds} seconds before trying that again.",
            seconds,
        ).format(seconds=seconds), True
    if isinstance(error, app_commands.TransformerError):
        return _("I couldn't understand one of the options. Please pick it from the list."), True
    if isinstance(error, DatabaseUnavailable):
        return str(DATABASE_ERROR), False
    if isinstance(error, discord.Forbidden):
        return (
            _(
                "Discord didn't let me do that: I may be missing a permission. An admin can "
                "check with `/setup show`. Nothing was changed."
            ),
            False,
        )
    return str(GENERIC_ERROR), False


# Discord's "Interaction has already been acknowledged".
ALREADY_ANSWERED = 40060


def answered_elsewhere(
    error: BaseException | None, where: str, interaction_id: int | None = None
) -> bool:
    """True, after one INFO line, when Discord refused an answer as already given (40060):
    another process running this shard answered first (familybot/interaction_gate.py leaves
    the crisis lines and autocomplete unclaimed), so the person has their answer and this is
    no error. The one place that decides it, for commands, autocomplete and discord.py's own
    autocomplete answers."""
    cause = getattr(error, "original", error)
    if not (isinstance(cause, discord.HTTPException) and cause.code == ALREADY_ANSWERED):
        return False
    if interaction_id is None:  # discord.py's log record names no interaction
        log.info("interaction answered elsewhere in %s", where)
    else:
        log.info("interaction answered elsewhere in %s interaction=%d", where, interaction_id)
    return True


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
    if answered_elsewhere(error, where, interaction.id):
        return
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


class AutocompleteAnsweredElsewhere(logging.Filter):
    """discord.py logs an autocomplete whose answer failed as an error, with its traceback.
    Refused as already answered (40060), it is one INFO line instead (answered_elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not answered_elsewhere(error, "autocomplete")


ANSWERED_ELSEWHERE = AutocompleteAnsweredElsewhere()


async def may_see_suggestions(interaction: discord.Interaction[Any]) -> bool:
    """Autocomplete offers only what the command itself would show: a facilitator or admin
    command suggests nothing to someone it would refuse, and nothing outside a server."""
    guard = getattr(getattr(interaction.command, "callback", None), FACILITATOR_MARK, None)
    if guard is None:
        return True
    if interaction.guild_id is None:
        return False
    if guard == "admin":
        return actor_of(interaction).is_admin
    return await member_is_facilitator(interaction)


class FamilyTree(app_commands.CommandTree[Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        logging.getLogger("discord.app_commands.tree").addFilter(ANSWERED_ELSEWHERE)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        """Every command and autocomplete passes through here: the reply's language is set
        once (a dict lookup, README "Languages"), and no autocomplete of a guarded command
        can forget the check."""
        # The command's task has its own context, so this holds for this interaction only.
        i18n.activate_for_interaction(interaction)
        if interaction.type is not discord.InteractionType.autocomplete:
            return True
        try:
            if await may_see_suggestions(interaction):
                return True
        except Exception:  # e.g. the database is down: suggest nothing rather than guess
            log.warning("autocomplete check failed interaction=%d", interaction.id)
        try:
            await interaction.response.autocomplete([])
        except discord.HTTPException as error:
            if not answered_elsewhere(error, "autocomplete", interaction.id):
                log.warning("could not answer autocomplete interaction=%d", interaction.id)
        return False

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "unknown"
        await report_error(interaction, error, f"command {command!r}")
        # After the reply, so the audit write adds no wait.
        await record_command(interaction, interaction.command, result_for(error))


@dataclass(frozen=True)
class Audited:
    """How a component's use goes in the audit log: its action name and target (ids)."""

    action: str
    target: AuditTarget | None


Reply = Callable[[], Awaitable[None]]


async def guarded(
    interaction: discord.Interaction[Any],
    where: str,
    work: Callable[[], Awaitable[Reply | None]],
    *,
    audit: Audited | None = None,
    facilitators_only: bool = False,
) -> None:
    """Run a button's, menu's or modal's work the way the tree runs a command.

    A non-facilitator pressing a facilitator-only component is told kindly and privately
    (and the refusal recorded); an error is reported to the person (ids-only log) and
    recorded as refused or failed. `work` calls the service and returns the reply to send,
    or None when it has already answered (e.g. opened a modal; nothing is recorded then).
    The reply runs outside the error report, and the action is recorded as done even if
    Discord loses the reply, since by then it has happened.
    """
    try:
        if facilitators_only and not await member_is_facilitator(interaction):
            await send_private(interaction, str(NOT_A_FACILITATOR))
            await _record(interaction, audit, AuditResult.REFUSED)
            return
        reply = await work()
    except Exception as error:
        await report_error(interaction, error, where)
        await _record(interaction, audit, result_for(error))
        return
    if reply is None:
        return
    try:
        await reply()
    finally:
        await _record(interaction, audit, AuditResult.OK)


async def _record(
    interaction: discord.Interaction[Any], audit: Audited | None, result: AuditResult
) -> None:
    if audit is not None:
        await record_action(interaction, audit.action, audit.target, result)


def submitted_value(data: Any, field: str) -> str:
    """One text input's value from a raw modal submit (any of Discord's layouts).

    Modals are answered from the raw submit, not from a Modal object in memory: discord.py
    only dispatches modals it still holds and drops the rest, e.g. after a restart."""
    for row in data.get("components", []) or []:
        for component in row.get("components", []) or []:
            if component.get("custom_id") == field:
                return str(component.get("value") or "")
        if row.get("custom_id") == field:  # a label-wrapped input (newer layout)
            return str(row.get("value") or "")
        inner = row.get("component")
        if isinstance(inner, dict) and inner.get("custom_id") == field:
            return str(inner.get("value") or "")
    return ""
