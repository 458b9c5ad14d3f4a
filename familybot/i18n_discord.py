"""Command names and descriptions in the user's Discord language (app_commands.Translator).

Cogs write English; the English text is the msgid and where it sits is the msgctxt
(CONTEXTS below), so a cog needs no change to be translated. Discord shows the
translations in each person's client language; the bot still receives the English names.

`python -m familybot.i18n_discord` extracts every string (pybabel extract, then the real
command tree), merges them into each .po and compiles the .mo files; `... compile` only
compiles, after editing a .po (README "Languages").
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from familybot import i18n

# Discord locales we translate into, and the catalog each one uses.
LOCALES: dict[discord.Locale, i18n.Language] = {
    discord.Locale.spain_spanish: "es",
    discord.Locale.latin_american_spanish: "es",
}

CONTEXTS: dict[Where, str] = {
    Where.command_name: "command-name",
    Where.group_name: "command-name",
    Where.command_description: "command-description",
    Where.group_description: "command-description",
    Where.parameter_name: "option-name",
    Where.parameter_description: "option-description",
    Where.choice_name: "choice-name",
}


def name_context(command: Any) -> str:
    """A command's name is translated per parent ("command-name:my" for /my schedule,
    "command-name:session" for /session schedule), as one English word may need two
    Spanish ones; top-level names and groups' own names use plain "command-name"."""
    parent = getattr(command, "parent", None)
    return "command-name" if parent is None else f"command-name:{parent.qualified_name}"


def context_for(location: Where, data: Any) -> str | None:
    if location is Where.command_name and isinstance(data, app_commands.ContextMenu):
        return "menu-name"  # context menus may use spaces and capitals
    if location in (Where.command_name, Where.group_name):
        return name_context(data)
    return CONTEXTS.get(location)


class FamilyTranslator(app_commands.Translator):
    """Looks each string up in the catalog of the locale's language; None (Discord then
    shows the English) for every other locale and for anything not translated."""

    async def load(self) -> None:
        i18n.load_catalogs()

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = LOCALES.get(locale)
        if language is None:
            return None
        msgctxt = context_for(context.location, context.data)
        if msgctxt is None:
            return None
        catalog = i18n.load_catalogs()[language]
        found = catalog.messages.get((msgctxt, string.message))
        return found if isinstance(found, str) else None


async def sync_translated(
    tree: app_commands.CommandTree[Any], *, guild: discord.abc.Snowflake | None = None
) -> list[app_commands.AppCommand]:
    """`tree.sync(guild=...)`, with the translated payload built in a worker thread.

    discord.py's sync awaits the translator once per string and per Discord locale (every
    name, description, option and choice, times 30-odd locales): all CPU, with no await
    that yields, so it held the event loop for 10-60 ms at start-up and at each hand-over of
    the leadership (issue 15). The translator only looks strings up in loaded catalogs, so
    the same discord.py code runs on a private loop in a worker; only the upload is here."""
    client = tree.client
    if client.application_id is None:
        raise app_commands.MissingApplicationID
    commands = tree._get_all_commands(guild=guild)
    translator = tree.translator
    if translator is None:
        payload = [command.to_dict(tree) for command in commands]
    else:
        payload = await asyncio.to_thread(_translated_payload, tree, commands, translator)
    http = tree._http
    try:
        if guild is None:
            data = await http.bulk_upsert_global_commands(client.application_id, payload=payload)
        else:
            data = await http.bulk_upsert_guild_commands(
                client.application_id, guild.id, payload=payload
            )
    except discord.HTTPException as exc:
        if exc.status == 400 and exc.code == 50035:
            raise app_commands.CommandSyncFailure(exc, commands) from None
        raise
    return [app_commands.AppCommand(data=d, state=tree._state) for d in data]


def _translated_payload(
    tree: app_commands.CommandTree[Any], commands: list[Any], translator: app_commands.Translator
) -> list[dict[str, Any]]:
    """In a worker thread: discord.py's own payload building, on a loop of this thread."""

    async def build() -> list[dict[str, Any]]:
        return [await command.get_translated_payload(tree, translator) for command in commands]

    return asyncio.run(build())


def command_messages(tree: app_commands.CommandTree[Any]) -> Iterator[tuple[str, str, str]]:
    """(msgctxt, msgid, where) for every name and description in the tree, parents first.
    `where` is the command path, for translators' comments and test failures."""
    for command in tree.get_commands():
        if isinstance(command, app_commands.ContextMenu):
            yield "menu-name", command.name, command.name
        else:
            yield from _walk(command, "")


def _walk(
    command: app_commands.Command[Any, ..., Any] | app_commands.Group, path: str
) -> Iterator[tuple[str, str, str]]:
    here = f"{path} {command.name}".strip()
    yield name_context(command), command.name, f"/{here}"
    yield "command-description", command.description, f"/{here}"
    if isinstance(command, app_commands.Group):
        for sub in command.commands:
            yield from _walk(sub, here)
        return
    for param in command.parameters:
        where = f"/{here} {param.display_name}"
        yield "option-name", param.display_name, where
        yield "option-description", param.description, where
        for choice in param.choices:
            yield "choice-name", choice.name, where
