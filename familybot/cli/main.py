"""The `familybot` command line: the parser and the dispatch to each command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from familybot import __version__
from familybot.cli import EXIT_CONFIG
from familybot.cli.check import cmd_check
from familybot.cli.copy import cmd_db_copy
from familybot.cli.database import cmd_backup, cmd_migrate, cmd_restore
from familybot.cli.resources import cmd_resources_import
from familybot.cli.run import cmd_run
from familybot.config import load_settings
from familybot.errors import ConfigError


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, text: str
) -> argparse.ArgumentParser:
    """A subcommand whose `--help` explains it (summary in the list, text on its own page)."""
    return sub.add_parser(
        name,
        help=summary,
        description=text,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="familybot",
        description="FamilyBot: a Discord bot for family support groups. "
        "Settings come from .env and the environment (see README, Configuration).",
    )
    parser.add_argument("--version", action="version", version=f"familybot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _command(
        sub,
        "run",
        "run the bot (reads DISCORD_TOKEN from .env)",
        "Run the bot until Ctrl-C or SIGTERM, which stop it cleanly. The database is created\n"
        "or upgraded first. Without a network it says so in one line and tries again after\n"
        "5 s, 10 s, 20 s ... up to every 5 minutes; a token Discord refuses stops it at once.",
    )
    _command(
        sub,
        "check",
        "check configuration and database, print the invite URL",
        "Check the settings, the database (integrity, schema version, file permissions) and\n"
        "the crisis lines, then print the invite link with the permissions the bot needs.\n"
        "Exit 0 when all is well, 1 when something needs attention, 2 without a token.",
    )
    _command(
        sub,
        "migrate",
        "apply database migrations",
        "Create the database if needed and bring its schema up to date (the bot also does\n"
        "this when it starts). Also makes the database and backup files private (0600).",
    )
    resources = _command(
        sub,
        "resources",
        "manage the resource library",
        "Manage the library of vetted resources from the command line.",
    )
    resources_sub = resources.add_subparsers(
        dest="resources_command", required=True, metavar="COMMAND"
    )
    importer = _command(
        resources_sub,
        "import",
        "load vetted resources from a YAML or CSV file (all or nothing)",
        "Load vetted resources (a starter pack) from a YAML or CSV file into one server.\n"
        "Every row is checked first; if any row has a problem, nothing is written.",
    )
    importer.add_argument("file", type=Path, help="a .yaml, .yml or .csv file")
    importer.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
    importer.add_argument("--guild", type=int, help="the server id (default: DEV_GUILD_ID)")
    database = _command(
        sub,
        "db",
        "move the database between SQLite and PostgreSQL",
        "Commands on the database as a whole (see README, Scale-out).",
    )
    database_sub = database.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    copy = _command(
        database_sub,
        "copy",
        "copy this install's database into an empty PostgreSQL database, or back to SQLite",
        "Copy every table of this install's database, in one transaction, into an EMPTY\n"
        "PostgreSQL database (from DATABASE_PATH), or into a NEW SQLite file (from\n"
        "DATABASE_URL). The target is migrated first; row counts are compared table by\n"
        "table; on any failure the target is left empty. The source is never changed.\n"
        "Stop the bot first, so nothing written after the copy is lost.",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="TARGET",
        help="postgresql://user@host:5432/dbname, or sqlite:///path/new.db (or just a path)",
    )
    backup = _command(
        sub,
        "backup",
        "copy the database safely, even while the bot runs (checked, optionally encrypted)",
        "Copy the database safely, even while the bot runs, and check the copy. With\n"
        "BACKUP_KEY set the backup is encrypted; otherwise a checksum file (.sha256) is\n"
        "written beside it, which restore verifies. Files are readable by you only (0600).\n"
        "PATH ending in / (or an existing folder) means a time-stamped file in that folder.",
    )
    backup.add_argument(
        "path",
        nargs="?",
        help="a file, or a folder for a time-stamped file (default: BACKUP_DIR)",
    )
    backup.add_argument(
        "--new-key", action="store_true", help="print a new BACKUP_KEY for .env and exit"
    )
    restore = _command(
        sub,
        "restore",
        "replace the database with a checked backup",
        "Replace the database with a backup after checking it: its checksum (or, encrypted,\n"
        "its key), integrity, that it is a FamilyBot database, and its schema version. The\n"
        "database it replaces is kept beside it under a new name. Stop the bot first.",
    )
    restore.add_argument("path", type=Path, help="the backup file")
    restore.add_argument(
        "--force", action="store_true", help="restore although a -wal file suggests the bot runs"
    )
    restore.add_argument(
        "--unverified",
        action="store_true",
        help="accept a backup made by an older FamilyBot (no checksum file, no FamilyBot mark) "
        "after integrity and schema checks",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "backup" and args.new_key:
        from familybot.backup import new_key

        print(new_key())
        print(
            "Put this line into .env as BACKUP_KEY=<the key above>, and keep a copy somewhere "
            "safe off this server: encrypted backups cannot be restored without it.",
            file=sys.stderr,
        )
        return 0
    try:
        settings = load_settings()
        if args.command == "run":
            return cmd_run(settings)
        if args.command == "check":
            return cmd_check(settings)
        if args.command == "migrate":
            return cmd_migrate(settings)
        if args.command == "backup":
            return cmd_backup(settings, args.path)
        if args.command == "restore":
            return cmd_restore(settings, args.path, args.force, args.unverified)
        if args.command == "db":
            return cmd_db_copy(settings, args.to)
        if args.command == "resources":
            return cmd_resources_import(settings, args.file, args.guild, args.dry_run)
    except ConfigError as exc:
        print(exc.explanation, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return 2  # pragma: no cover - argparse rejects unknown commands
