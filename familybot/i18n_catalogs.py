"""The maintainer's catalog tool: `python -m familybot.i18n_catalogs` extracts `_()` & co.
and every command, option and choice string of the real tree into the template, merges it
into each language's .po, and compiles the .mo files (`... compile` only compiles).

Kept apart from `familybot.i18n_discord` (the translator the bot runs), because it builds
the whole bot offline: the running bot never imports it.
"""

from __future__ import annotations

from typing import Any

from discord import app_commands

from familybot import i18n
from familybot.i18n_discord import command_messages


async def _offline_tree(folder: str) -> app_commands.CommandTree[Any]:
    """The real tree, with cogs loaded against a throwaway database (no Discord)."""
    from pathlib import Path

    from familybot.bot import COGS, FamilyBot
    from familybot.clock import SystemClock
    from familybot.config import load_settings
    from familybot.db.connection import Database
    from familybot.db.migrate import migrate
    from familybot.wiring import build_services

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

    Run from the repository root: `python -m familybot.i18n_catalogs`. New msgids arrive
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
