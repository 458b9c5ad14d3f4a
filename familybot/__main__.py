"""The `familybot` command: run, check, migrate."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from pathlib import Path

from familybot import __version__
from familybot.clock import Clock, SystemClock
from familybot.config import Settings, load_settings
from familybot.errors import ConfigError

log = logging.getLogger("familybot")

EXIT_CONFIG = 2


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is its user id in base64; for bots that is the application id."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


async def _run(
    settings: Settings,
    token: str,
    *,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> int:
    """Run the bot until stopped. Without a network: one line, then retry with backoff.

    clock and sleep are for tests (controlled time); by default the wait between tries
    ends early when SIGINT/SIGTERM asks the bot to stop.
    """
    import discord

    from familybot.bot import FamilyBot
    from familybot.connect_retry import NETWORK_ERRORS, retry_delays, retry_message
    from familybot.db.connection import DatabaseUnavailable
    from familybot.services.crisis import CrisisDataError

    clock = clock or SystemClock()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()
    bot: FamilyBot | None = None

    def request_stop(signame: str) -> None:
        if not stopping.is_set():
            log.info("received %s, shutting down", signame)
            stopping.set()
            if bot is not None:
                task = loop.create_task(bot.close())
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def wait_or_stop(delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)

    pause = sleep or wait_or_stop
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(sig, request_stop, sig.name)
    connected = asyncio.Event()  # reached Discord's gateway in this try

    async def note_connected() -> None:
        connected.set()

    delays = retry_delays()
    attempt = 0
    while not stopping.is_set():
        attempt += 1
        bot = FamilyBot(settings)  # a fresh client each try: a closed one cannot start again
        bot.add_listener(note_connected, "on_ready")
        try:
            async with bot:
                await bot.start(token)
        except discord.LoginFailure:
            print(
                "Discord did not accept the DISCORD_TOKEN in your .env. It may have been reset or "
                "copied incompletely. Open https://discord.com/developers/applications, choose "
                "your application, go to 'Bot', press 'Reset Token', and paste the new token "
                "into .env.",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        except discord.PrivilegedIntentsRequired:
            print(
                "Discord refused an intent FamilyBot asked for (MESSAGE_CONTENT_INTENT or "
                "MEMBERS_INTENT is on in your .env): either turn it off, or enable 'Message "
                "Content Intent' / 'Server Members Intent' on the Bot page of your application "
                "at https://discord.com/developers/applications.",
                file=sys.stderr,
            )
            return EXIT_CONFIG
        except DatabaseUnavailable as exc:
            where = "DATABASE_URL" if settings.database_url else "DATABASE_PATH"
            print(f"{exc} Check {where} in your .env.", file=sys.stderr)
            return EXIT_CONFIG
        except CrisisDataError as exc:
            print(f"The crisis-lines file is malformed: {exc}", file=sys.stderr)
            return EXIT_CONFIG
        except NETWORK_ERRORS as exc:
            if stopping.is_set():
                break
            if connected.is_set():  # it had been connected: a new outage, a new backoff
                connected.clear()
                delays, attempt = retry_delays(), 1
            delay = next(delays)
            log.warning(retry_message(exc, delay, clock.now(), attempt))
            await pause(delay)
            continue
        break
    log.info("stopped cleanly")
    return 0


def cmd_run(settings: Settings) -> int:
    token = settings.require_token()
    from familybot.logging_setup import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    return asyncio.run(_run(settings, token))


async def _check_database(settings: Settings) -> tuple[bool, list[str]]:
    from familybot.db.connection import Database, DatabaseUnavailable, PostgresDatabase
    from familybot.db.migrate import available_migrations, current_version

    lines: list[str] = []
    exists = settings.database_url is not None or settings.database_path.exists()
    try:
        db = await Database.connect(settings.database_target)
    except DatabaseUnavailable as exc:
        return False, [f"✗ Database: {exc}"]
    missing: list[str] = []
    try:
        server = await db.server_version()
        pg = db if isinstance(db, PostgresDatabase) else None
        if pg is not None:
            integrity = "ok"  # the server keeps its own pages consistent
            missing = await pg.missing_extensions()
        else:
            integrity = await db.fetchval("PRAGMA integrity_check")
        version = await current_version(db)
    except DatabaseUnavailable as exc:
        return False, [f"✗ Database: {exc}"]
    finally:
        await db.close()
    latest = available_migrations(db.dialect.name)[-1].number
    ok = integrity == "ok" and version <= latest
    where = db.path if exists else f"{db.path} (new, created now)"
    lines.append(f"{'✓' if integrity == 'ok' else '✗'} Database: {where}, integrity {integrity}")
    lines.append(f"  Backend: {server}.")
    for name in missing:
        lines.append(
            f"  ⚠ PostgreSQL extension {name} is missing: resource search is less forgiving "
            f"of typos. Ask the database owner to run CREATE EXTENSION {name}; in the "
            "FamilyBot database (needs the postgresql-contrib package on the server)."
        )
    if version < latest:
        lines.append(
            f"  Schema version {version} of {latest}: it is upgraded when the bot starts (or run `familybot migrate`)."
        )
    elif version > latest:
        lines.append(f"✗ Schema version {version} is newer than this FamilyBot knows ({latest}).")
    else:
        lines.append(f"  Schema version {version} (current).")
    return ok, lines


def check_crisis_lines(today: date, text: str | None = None) -> tuple[bool, list[str]]:
    """The shipped crisis lines: all well-formed, and a warning for each not verified lately."""
    from familybot.services.crisis import STALE_AFTER_MONTHS, CrisisDataError, CrisisDirectory

    try:
        directory = CrisisDirectory.load(text)
    except CrisisDataError as exc:
        return False, [f"✗ Crisis lines: {exc}"]
    lines = [f"✓ Crisis lines: {len(directory)} loaded"]
    for line in directory.stale(today):
        lines.append(
            f"⚠ Crisis line “{line.name}” ({line.region}) was last verified {line.verified}, "
            f"over {STALE_AFTER_MONTHS} months ago: check it against {line.source_url} and "
            "update the date in familybot/data/crisis_lines.csv."
        )
    return True, lines


def cmd_check(settings: Settings) -> int:
    from familybot.permissions import NEEDS, invite_url

    print(f"FamilyBot {__version__}")
    problems = 0
    try:
        token = settings.require_token()
    except ConfigError as exc:
        print(f"✗ Token: {exc.explanation}")
        return EXIT_CONFIG
    app_id = application_id_from_token(token)
    print("✓ Token: set and well-formed")
    print(f"  Default time zone: {settings.default_timezone}; log level: {settings.log_level}")
    if settings.dev_guild_id:
        print(f"  Commands sync instantly to the development server {settings.dev_guild_id}.")
    else:
        print("  Commands sync globally (they can take a while to appear the first time).")
    from familybot.files import permission_warnings

    # Before opening the database: opening it creates the -wal and -shm.
    loose = permission_warnings(settings.database_path, settings.backup_dir)
    ok, lines = asyncio.run(_check_database(settings))
    print("\n".join(lines + loose))
    problems += 0 if ok else 1
    ok, lines = check_crisis_lines(date.today())
    print("\n".join(lines))
    problems += 0 if ok else 1
    print()
    print("Invite the bot with this link (it asks for exactly these permissions):")
    if app_id is None:
        print("  (could not read the application id from the token; copy the Application ID from")
        print(
            "   the developer portal and use https://discord.com/oauth2/authorize?client_id=ID...)"
        )
        problems += 1
    else:
        print(f"  {invite_url(app_id)}")
    for need in NEEDS:
        print(f"  - {need.permission.replace('_', ' ').title()}: to {need.reason}")
    print()
    print("Gateway intents: FamilyBot needs no privileged intents.")
    wanted = [
        (settings.message_content_intent, "MESSAGE_CONTENT_INTENT", "Message Content Intent"),
        (settings.members_intent, "MEMBERS_INTENT", "Server Members Intent"),
    ]
    for on, setting, portal_name in wanted:
        if on:
            print(
                f"  {setting} is on: enable '{portal_name}' on the Bot page of the developer "
                "portal, or the bot will not start."
            )
    if not any(on for on, _, _ in wanted):
        print(
            "  Leave 'Server Members' and 'Message Content' off on the Bot page unless you "
            "enable optional features."
        )
    return 0 if problems == 0 else 1


def cmd_migrate(settings: Settings) -> int:
    async def go() -> int:
        from familybot.db.connection import Database, DatabaseUnavailable
        from familybot.db.migrate import current_version, migrate
        from familybot.files import tighten_install

        for found in tighten_install(settings.database_path, settings.backup_dir):
            print(f"made {found.path} private (mode {found.mode:04o} -> {found.wanted:04o})")
        try:
            db = await Database.connect(settings.database_target)
        except DatabaseUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        try:
            applied = await migrate(db)
            version = await current_version(db)
        except DatabaseUnavailable as exc:  # another program's database: left untouched
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        finally:
            await db.close()
        for m in applied:
            print(f"applied {m.number:04d}_{m.name}")
        print(f"Database {db.path} is at schema version {version}.")
        return 0

    return asyncio.run(go())


def cmd_resources_import(settings: Settings, path: Path, guild: int | None, dry_run: bool) -> int:
    guild_id = guild or settings.dev_guild_id
    if not guild_id:
        print("Please say which server with --guild ID (the server's id).", file=sys.stderr)
        return EXIT_CONFIG
    if not path.is_file():
        print(f"There is no file at {path}.", file=sys.stderr)
        return EXIT_CONFIG

    async def go() -> int:
        from familybot.clock import SystemClock
        from familybot.db.connection import Database, DatabaseUnavailable
        from familybot.db.migrate import migrate
        from familybot.db.repositories.resources import ResourceRepository
        from familybot.services.resource_import import (
            ImportFileError,
            import_resources,
            read_rows,
        )

        try:
            rows = read_rows(path)
        except ImportFileError as exc:
            print(f"✗ {exc.message}", file=sys.stderr)
            print("Nothing was imported.", file=sys.stderr)
            return 1
        try:
            db = await Database.connect(settings.database_target)
        except DatabaseUnavailable as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_CONFIG
        try:
            await migrate(db)
            report = await import_resources(
                db,
                guild_id,
                rows,
                now=SystemClock().now(),
                dry_run=dry_run,
                allow_http=await ResourceRepository(db).allow_http(guild_id),
            )
        finally:
            await db.close()
        for error in report.errors:
            print(f"✗ {path}, {error}", file=sys.stderr)
        if report.errors:
            print(
                f"Nothing was imported: {len(report.errors)} row(s) need fixing.", file=sys.stderr
            )
            return 1
        if not report.valid:
            print(f"✗ {path}: there are no resources in it. Nothing was imported.", file=sys.stderr)
            return 1
        new = len(report.valid) - report.present
        if dry_run:
            print(
                f"✓ All {len(report.valid)} resources are valid (dry run: nothing written): "
                f"{new} would be added, {report.present} already present."
            )
        else:
            print(f"✓ Server {guild_id}: {report.written} added, {report.present} already present.")
        return 0

    try:
        return asyncio.run(go())
    except Exception as exc:  # one line, never a traceback; the import is one transaction
        print(
            f"✗ Could not import {path} ({type(exc).__name__}). Nothing was imported.",
            file=sys.stderr,
        )
        return 1


def backup_destination(raw: str | None, default_dir: Path) -> tuple[Path, bool]:
    """Where `familybot backup [PATH]` writes, and whether that is a folder.

    No path, a path ending in a slash, or an existing folder mean "a time-stamped file inside
    that folder" (created 0700 when missing); anything else is the backup file itself.
    (argparse's Path would drop the trailing slash, so the raw text is looked at.)
    """
    if raw is None:
        return default_dir, True
    path = Path(raw)
    return path, raw.endswith(("/", os.sep)) or path.is_dir()


def cmd_backup(settings: Settings, raw_path: str | None) -> int:
    from familybot.backup import BackupError, create_backup
    from familybot.files import make_private_dir

    dest, is_folder = backup_destination(raw_path, settings.backup_dir)
    try:
        if is_folder:
            make_private_dir(dest)  # a folder: the file inside is named by the time
        result = create_backup(settings.database_path, dest, settings.backup_key)
    except BackupError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"✗ Could not write the backup to {dest}: {exc.strerror}.", file=sys.stderr)
        return 1
    how = "encrypted with BACKUP_KEY" if result.encrypted else "not encrypted"
    print(
        f"✓ Backed up {settings.database_path} to {result.path} ({result.size} bytes, "
        f"integrity ok, schema version {result.schema_version}, {how})."
    )
    if not result.encrypted:
        print(f"  Its checksum is in {result.path.name}.sha256: keep the two files together.")
    return 0


def cmd_restore(settings: Settings, path: Path, force: bool, unverified: bool = False) -> int:
    from familybot.backup import BackupError, restore_backup

    if not path.is_file():
        print(f"There is no backup file at {path}.", file=sys.stderr)
        return EXIT_CONFIG
    try:
        result = restore_backup(
            path, settings.database_path, settings.backup_key, force=force, unverified=unverified
        )
    except BackupError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"✗ Could not restore {path}: {exc.strerror}. Nothing was changed.", file=sys.stderr)
        return 1
    print(
        f"✓ Restored {path} to {result.db_path} (integrity ok, schema version {result.schema_version})."
    )
    if result.previous is not None:
        print(f"  The database it replaced is kept as {result.previous}.")
    print("  Run `familybot check`, then start the bot.")
    return 0


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
        if args.command == "resources":
            return cmd_resources_import(settings, args.file, args.guild, args.dry_run)
    except ConfigError as exc:
        print(exc.explanation, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
