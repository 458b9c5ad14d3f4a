"""Command names and descriptions in the user's Discord language (app_commands.Translator).

Cogs write English; the English text is the msgid and where it sits is the msgctxt
(CONTEXTS below), so a cog needs no change to be translated. Discord shows the
translations in each person's client language; the bot still receives the English names.

`python -m familybot.i18n_discord` extracts every string (pybabel extract, then the real
command tree), merges them into each .po and compiles the .mo files; `... compile` only
compiles, after editing a .po (README "Languages").
"""

from __future__ import annotations

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


async def _offline_tree(folder: str) -> app_commands.CommandTree[Any]:
    """The real tree, with cogs loaded against a throwaway database (no Discord)."""
    from pathlib import Path

    from familybot.bot import COGS, FamilyBot
    from familybot.clock import SystemClock
    from familybot.config import load_settings
    from familybot.db.connection import Database
    from familybot.db.migrate import migrate
    from familybot.services.container import build_services

    tmp = Path(folder)
    settings = load_settings(tmp / "none.env", environ={"DATABASE_PATH": str(tmp / "t.db")})
    bot = FamilyBot(settings, sync_commands=False)
    db = await Database.open(tmp / "t.db")
    await migrate(db)
    bot.services = build_services(db, None, SystemClock(), "UTC")  # type: ignore[arg-type]
    for extension in COGS:
        await bot.load_extension(extension)
    await db.close()
    return bot.tree


def add_to_template(pot_path: str) -> int:
    """Merge the tree's strings into the .pot written by `pybabel extract`."""
    import asyncio
    import tempfile

    from babel.messages.pofile import read_po, write_po

    with tempfile.TemporaryDirectory() as folder:
        tree = asyncio.run(_offline_tree(folder))
    with open(pot_path, "rb") as fh:
        template = read_po(fh)
    added = 0
    for msgctxt, msgid, where in command_messages(tree):
        if (msgid, msgctxt) not in {(m.id, m.context) for m in template}:
            added += 1
        template.add(msgid, context=msgctxt, auto_comments=[where])
    with open(pot_path, "wb") as fh:
        write_po(fh, template, width=100, sort_output=True)
    return added


EXTRACT_ARGS = [
    "pybabel",
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "lazy_gettext",
    "-k",
    "lazy_pgettext:1c,2",
    "-k",
    "locale_str",
    "--no-location",
    "--sort-output",
    "--width",
    "100",
    "--project",
    "FamilyBot",
]


def update_catalogs(root: str = ".") -> None:
    """The whole round: extract `_()` & co., add the command tree, merge into every .po.

    Run from the repository root: `python -m familybot.i18n_discord`. New msgids arrive
    untranslated in es (the catalog test then names them); nothing is ever lost.
    """
    import os

    from babel.messages.frontend import CommandLineInterface

    pot = os.path.join(root, "familybot", "locales", f"{i18n.DOMAIN}.pot")
    cli = CommandLineInterface()
    cli.run([*EXTRACT_ARGS, "-o", pot, "familybot", "cogs"])  # type: ignore[no-untyped-call]
    add_to_template(pot)
    for language in i18n.LANGUAGES:
        po = os.path.join(
            root, "familybot", "locales", language, "LC_MESSAGES", f"{i18n.DOMAIN}.po"
        )
        action = "update" if os.path.exists(po) else "init"
        cli.run(  # type: ignore[no-untyped-call]
            [
                "pybabel",
                action,
                "-i",
                pot,
                "-d",
                os.path.join(root, "familybot", "locales"),
                "-D",
                i18n.DOMAIN,
                "-l",
                language,
                "--width",
                "100",
                *(["--no-fuzzy-matching", "--ignore-obsolete"] if action == "update" else []),
            ]
        )


def compile_catalog(po_path: str) -> bytes:
    """The .mo for a .po (Babel's writer; fuzzy entries left out, as gettext does)."""
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po_path, "rb") as fh:
        catalog = read_po(fh)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def compile_catalogs(root: str = ".") -> None:
    import os

    for language in i18n.LANGUAGES:
        folder = os.path.join(root, "familybot", "locales", language, "LC_MESSAGES")
        data = compile_catalog(os.path.join(folder, f"{i18n.DOMAIN}.po"))
        with open(os.path.join(folder, f"{i18n.DOMAIN}.mo"), "wb") as fh:
            fh.write(data)


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    import sys

    if sys.argv[1:] != ["compile"]:
        update_catalogs()
    compile_catalogs()
