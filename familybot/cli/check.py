"""`familybot check`: settings, database, crisis lines and the invite link."""

from __future__ import annotations

import asyncio
import base64
import binascii
from datetime import date

from familybot import __version__
from familybot.cli import EXIT_CONFIG
from familybot.config import Settings
from familybot.errors import ConfigError


def application_id_from_token(token: str) -> int | None:
    """A bot token's first part is its user id in base64; for bots that is the application id."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None


async def _check_database(settings: Settings) -> tuple[bool, list[str]]:
    from familybot.db.connection import Database, DatabaseUnavailable, PostgresDatabase
    from familybot.db.migrate import available_migrations, current_version

    lines: list[str] = []
    exists = settings.database_url is not None or settings.database_path.exists()
    try:
        db = await Database.connect(settings.database_target)
    except DatabaseUnavailable as exc:
        return False, [f"✗ Database: {exc}"]
    postgres: list[str] = []
    try:
        server = await db.server_version()
        pg = db if isinstance(db, PostgresDatabase) else None
        if pg is not None:
            from familybot.cli.check_postgres import backup_tool_line, extension_lines

            integrity = "ok"  # the server keeps its own pages consistent
            postgres = [*await extension_lines(pg), await backup_tool_line(pg)]
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
    lines.extend(postgres)
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
    from familybot.services.crisis.service import (
        STALE_AFTER_MONTHS,
        CrisisDataError,
        CrisisDirectory,
    )

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
