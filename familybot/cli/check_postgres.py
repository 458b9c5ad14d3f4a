"""`familybot check` on PostgreSQL: the extensions the bot uses, and the backup tools.

Warnings only (the exit code stays 0): search works without pg_trgm (less forgiving of
typos), and the bot runs without pg_dump (only its backups fail, each logged).
"""

from __future__ import annotations

from familybot.db.postgres import EXTENSIONS, PostgresDatabase


async def extension_lines(db: PostgresDatabase) -> list[str]:
    """One line per extension FamilyBot uses: there, or what to do and who may do it."""
    installed = {
        str(r[0]): str(r[1])
        for r in await db.fetchall("SELECT extname, extversion FROM pg_extension")
    }
    rows = await db.fetchall(
        "SELECT e.name, v.trusted, v.superuser FROM pg_available_extensions e "
        "JOIN pg_available_extension_versions v ON v.name = e.name "
        "AND v.version = e.default_version"
    )
    available = {str(r[0]): (bool(r[1]), bool(r[2])) for r in rows}
    me = await db.fetchone(
        "SELECT current_user, current_database(), "
        "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
        "has_database_privilege(current_database(), 'CREATE')"
    )
    assert me is not None
    user, database, superuser, may_create = str(me[0]), str(me[1]), bool(me[2]), bool(me[3])
    lines: list[str] = []
    for name in EXTENSIONS:
        if name in installed:
            lines.append(f"  Extension {name} {installed[name]}: installed.")
            continue
        why = (
            f"  ⚠ PostgreSQL extension {name} is missing: resource search is less forgiving "
            "of typos."
        )
        if name not in available:
            lines.append(
                f"{why} The server does not have it: install the PostgreSQL contrib modules on "
                "the database server (Debian/Ubuntu: the postgresql-contrib package; Red Hat: "
                f"postgresqlNN-contrib), then run `familybot migrate`, which creates {name}."
            )
            continue
        trusted, _ = available[name]  # trusted: a user with CREATE on the database may
        if superuser or (trusted and may_create):
            lines.append(
                f"{why} The server has it and the database user {user} may create it: run "
                f"`familybot migrate` (it does), or CREATE EXTENSION {name}; in {database}."
            )
        else:
            lines.append(
                f"{why} The server has it, but the database user {user} may not create it "
                f"({'it needs the CREATE privilege on the database' if trusted else 'only a superuser may'}). "
                f"Ask the database owner to run CREATE EXTENSION {name}; in {database}."
            )
    return lines


async def backup_tool_line(db: PostgresDatabase) -> str:
    """Whether `familybot backup` (pg_dump) will work with this server from this machine."""
    from familybot.backup_pg import find_tool
    from familybot.backup_seal import BackupError

    major = int(await db.fetchval("SHOW server_version_num")) // 10000
    try:
        tool = await find_tool("pg_dump", major)
    except BackupError as exc:
        return f"  ⚠ Backups: {exc}".removesuffix(" Nothing was changed.")
    return f"  Backups: pg_dump {tool.version} ({tool.path}) can back up this server."
