"""Backups of a PostgreSQL install: pg_dump (custom format), pg_restore and psql.

The same promises as the SQLite backups (familybot/backup.py): files 0600 in folders 0700,
a checksum file beside a plain backup (or BACKUP_KEY's encryption), the newest BACKUP_KEEP
kept by the daily job, a backup checked before it is kept (pg_restore reads it back and it
must be a FamilyBot database), and restore refusing anything it cannot vouch for.

pg_dump can back up servers of its own major version and older only, so the tools are looked
for on PATH and where distributions put each version (/usr/lib/postgresql/N/bin, ...); when
none is new enough, the error says exactly what to install. Passwords go to the tools
through PGPASSWORD, never on their command line (where `ps` would show them).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from familybot.backup import BackupResult, RestoreResult, backup_filename, prune_backups
from familybot.backup_seal import (
    PG_DUMP_MAGIC,
    SQLITE_MAGIC,
    BackupError,
    private_temp,
    read_verified,
    seal_backup,
)
from familybot.db.base import APPLICATION_ID
from familybot.db.postgres import redact
from familybot.files import make_private_dir

# Where distributions install each major version's client tools (PATH is looked at first).
SEARCH_DIRS = [
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # Red Hat, Fedora (PGDG)
    "/opt/homebrew/opt/postgresql@*/bin",  # macOS
    "/usr/local/opt/postgresql@*/bin",
]
DUMP_SUFFIX = ".dump"
_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class PgTool:
    path: str
    major: int
    version: str


@dataclass(frozen=True)
class _Server:
    major: int
    version: str
    schema_version: int | None  # None: not (yet) a FamilyBot database
    has_tables: bool


async def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        out, err = await proc.communicate()
    except BaseException:
        # Cut off (the bot stopping mid-backup): end the tool and wait for it, so its pipes
        # are closed on this loop, not left to a loop already closed.
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(proc.wait())
        raise
    return proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def _tool_at(path: str) -> PgTool | None:
    try:
        code, out, _ = await _run([path, "--version"])
    except OSError:
        return None
    match = _VERSION_RE.search(out)
    if code != 0 or match is None:
        return None
    return PgTool(path, int(match[1]), match[0].split(")")[-1].strip())


def install_help(name: str, server_major: int, found: list[PgTool]) -> str:
    if found:
        best = max(found, key=lambda t: t.major)
        have = (
            f"{name} {best.version} ({best.path}) is older than the PostgreSQL server "
            f"({server_major}), and {name} only works with servers of its own version or older"
        )
    else:
        have = f"{name} is not installed on this machine (FamilyBot uses it on PostgreSQL)"
    n = server_major
    return (
        f"{have}. Install the PostgreSQL {n} client tools, then run the command again: "
        f"Debian/Ubuntu `sudo apt install postgresql-client-{n}` (from the PostgreSQL apt "
        f"repository, apt.postgresql.org, if your release does not have version {n}); "
        f"Fedora/Red Hat `sudo dnf install postgresql{n}`; Alpine `apk add postgresql{n}-client`; "
        f"macOS `brew install postgresql@{n}`. FamilyBot finds them on PATH or in "
        f"/usr/lib/postgresql/{n}/bin. Nothing was changed."
    )


async def find_tool(name: str, server_major: int) -> PgTool:
    """The pg_dump/pg_restore to use with this server: on PATH if new enough, else the newest."""
    paths = [p for p in [shutil.which(name)] if p]
    for pattern in SEARCH_DIRS:
        paths += sorted(glob.glob(os.path.join(pattern, name)))
    found = [tool for p in dict.fromkeys(paths) if (tool := await _tool_at(p)) is not None]
    usable = [t for t in found if t.major >= server_major]
    if not usable:
        raise BackupError(install_help(name, server_major, found))
    return (
        usable[0]
        if usable[0].path == (paths[0] if paths else None)
        else max(usable, key=lambda t: t.major)
    )


def _split(url: str) -> tuple[str, dict[str, str]]:
    """The URL for a tool's --dbname without the password, and the password as PGPASSWORD."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, {}
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    bare = urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))
    return bare, {"PGPASSWORD": parts.password}


async def _server(url: str) -> _Server:
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise BackupError(f"Cannot reach the PostgreSQL database at {redact(url)}: {exc}.") from exc
    try:
        num = int(await conn.fetchval("SHOW server_version_num"))
        version = str(await conn.fetchval("SHOW server_version")).split()[0]
        tables = int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            )
        )
        schema: int | None = None
        if await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL"):
            row = await conn.fetchrow(
                "SELECT max(application_id), max(version) FROM schema_version"
            )
            if row is not None and row[0] == APPLICATION_ID:
                schema = int(row[1])
    finally:
        await conn.close()
    return _Server(num // 10000, version, schema, tables > 0)


def _error_lines(err: str) -> str:
    """The tool's own error lines (never CONTEXT lines, which can quote rows)."""
    lines = [ln.strip() for ln in err.splitlines() if "error:" in ln.lower() or "FATAL" in ln]
    return "; ".join(lines[:3]) or err.strip()[:300]


async def _dump_version(path: Path, pg_restore: PgTool) -> int:
    """Read the backup back: its table of contents, and FamilyBot's schema version in it."""
    code, listing, err = await _run([pg_restore.path, "--list", str(path)])
    if code != 0:
        raise BackupError(f"pg_restore cannot read {path.name}: {_error_lines(err)}.")
    if not re.search(r"\bTABLE\b.*\bschema_version\b", listing):
        raise BackupError(
            f"{path.name} is not a FamilyBot database backup (it has no schema_version table)."
        )
    args = [pg_restore.path, "--data-only", "--table=schema_version", "--file=-", str(path)]
    code, data, err = await _run(args)
    rows = re.search(r"^COPY [^\n]*schema_version[^\n]*\n(.*?)^\\\.$", data, re.M | re.S)
    values = rows[1].split() if code == 0 and rows else []
    if len(values) != 2 or not all(v.lstrip("-").isdigit() for v in values):
        raise BackupError(f"{path.name} does not say which FamilyBot schema it holds.")
    if int(values[0]) != APPLICATION_ID:
        raise BackupError(f"{path.name} is another program's database, not FamilyBot's.")
    return int(values[1])


def _destination(dest: Path, encrypted: bool, now: datetime | None) -> Path:
    if dest.is_dir():
        dest = dest / backup_filename(now or datetime.now(UTC), encrypted, DUMP_SUFFIX)
    try:
        make_private_dir(dest.parent)
    except OSError as exc:
        raise BackupError(f"Cannot create the folder {dest.parent}: {exc.strerror}.") from exc
    return dest


def _read_backup(src: Path, key: str | None, unverified: bool) -> bytes:
    if not src.is_file():
        raise BackupError(f"There is no backup file at {src}.")
    data = read_verified(src, key, unverified)
    if data.startswith(SQLITE_MAGIC):
        raise BackupError(
            f"{src} is a SQLite backup, but this install uses PostgreSQL (DATABASE_URL). To "
            "bring it over: restore it with DATABASE_URL empty and DATABASE_PATH set to a new "
            "file, then `familybot db copy --to postgresql://...` into an empty database. "
            "Nothing was changed."
        )
    if not data.startswith(PG_DUMP_MAGIC):
        raise BackupError(f"{src} is not a FamilyBot backup. Nothing was changed.")
    return data


async def create_pg_backup(
    url: str, dest: Path, key: str | None = None, *, now: datetime | None = None
) -> BackupResult:
    """pg_dump the database at url into dest (a file, or a folder for a time-stamped one)."""
    server = await _server(url)
    if server.schema_version is None:
        raise BackupError(
            f"The database at {redact(url)} is not a FamilyBot database yet. Check DATABASE_URL."
        )
    pg_dump = await find_tool("pg_dump", server.major)
    pg_restore = await find_tool("pg_restore", server.major)
    encrypted = bool(key)
    dest = _destination(dest, encrypted, now)
    bare, env = _split(url)
    with private_temp(dest.parent, DUMP_SUFFIX) as plain:
        args = [pg_dump.path, "--format=custom", f"--file={plain}", f"--dbname={bare}"]
        code, _, err = await _run(args, env)
        if code != 0:
            raise BackupError(f"pg_dump could not back up {redact(url)}: {_error_lines(err)}.")
        version = await _dump_version(plain, pg_restore)
        seal_backup(plain, dest, key)
    return BackupResult(dest, encrypted, dest.stat().st_size, version)


async def scheduled_pg_backup(url: str, folder: Path, key: str | None, keep: int) -> BackupResult:
    """The daily job on PostgreSQL: a new backup into folder, then keep only the newest."""
    make_private_dir(folder)
    result = await create_pg_backup(url, folder, key)
    prune_backups(folder, keep)
    return result


# Appended to the restore's transaction (tests put a failing statement here).
RESTORE_EPILOGUE = ""


async def _drop_statements(url: str) -> str:
    """SQL dropping every table and function of the current schema (not extensions' own):
    a restored older backup must not find a newer migration's tables still there."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT format('DROP TABLE IF EXISTS %I.%I CASCADE;', schemaname, tablename) "
            "FROM pg_tables WHERE schemaname = current_schema() UNION ALL "
            "SELECT format('DROP FUNCTION IF EXISTS %I.%I(%s) CASCADE;', n.nspname, p.proname, "
            "pg_get_function_identity_arguments(p.oid)) FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
        )
    finally:
        await conn.close()
    return "\n".join(str(r[0]) for r in rows) + "\n"


async def _replace_database(
    dump: Path, url: str, pg_restore: PgTool, major: int, folder: Path
) -> tuple[int, str]:
    """Everything of FamilyBot's dropped and the dump restored, in ONE transaction (psql -1):
    any error rolls all of it back."""
    psql = await find_tool("psql", major)
    bare, env = _split(url)
    with private_temp(folder, ".sql") as drops, private_temp(folder, ".sql") as script:
        drops.write_text(await _drop_statements(url), encoding="utf-8")
        args = [pg_restore.path, "--clean", "--if-exists", "--no-owner", "--no-privileges"]
        code, _, err = await _run([*args, f"--file={script}", str(dump)])
        if code != 0:
            return code, err
        if RESTORE_EPILOGUE:
            with script.open("a", encoding="utf-8") as handle:
                handle.write(RESTORE_EPILOGUE)
        run = [psql.path, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]
        code, _, err = await _run(
            [*run, "-f", str(drops), "-f", str(script), f"--dbname={bare}"], env
        )
        return code, err


async def _other_sessions(url: str) -> int:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        )
    finally:
        await conn.close()


async def restore_pg_backup(
    src: Path,
    url: str,
    key: str | None,
    backup_dir: Path,
    *,
    force: bool = False,
    unverified: bool = False,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace the database at url with the backup src, after checking it.

    Checked before anything changes: its checksum (or encryption), that pg_restore reads it,
    that it is a FamilyBot database of a schema this FamilyBot knows, and that nothing else
    is connected (the bot) unless force. The current database is first dumped into
    backup_dir as familybot-before-restore-TIMESTAMP.dump; then everything of FamilyBot's is
    dropped and the dump restored in ONE transaction, so a failure leaves it as it was.
    """
    from familybot.db.migrate import available_migrations

    data = _read_backup(src, key, unverified)
    server = await _server(url)
    if server.schema_version is None and server.has_tables:
        raise BackupError(
            f"The database at {redact(url)} holds another program's tables, so FamilyBot "
            "leaves it alone. Nothing was changed."
        )
    pg_dump = await find_tool("pg_dump", server.major)
    pg_restore = await find_tool("pg_restore", server.major)
    make_private_dir(backup_dir)
    bare, env = _split(url)
    with private_temp(backup_dir, DUMP_SUFFIX) as staged:
        staged.write_bytes(data)
        try:
            version = await _dump_version(staged, pg_restore)
        except BackupError as exc:
            raise BackupError(f"{src}: {exc} Nothing was changed.") from exc
        latest = available_migrations("postgresql")[-1].number
        if version > latest:
            raise BackupError(
                f"{src} has schema version {version}, newer than this FamilyBot knows "
                f"({latest}). Upgrade FamilyBot first, then restore. Nothing was changed."
            )
        others = await _other_sessions(url)
        if others and not force:
            raise BackupError(
                f"{others} other connection(s) to the database are open, so the bot seems to "
                "be running. Stop every FamilyBot process first, then try again (add --force "
                "if those connections are not the bot's). Nothing was changed."
            )
        previous: Path | None = None
        if server.has_tables:
            stamp = f"{now or datetime.now(UTC):%Y%m%d-%H%M%S}"
            previous = backup_dir / f"familybot-before-restore-{stamp}{DUMP_SUFFIX}"
            with private_temp(backup_dir, DUMP_SUFFIX) as kept:
                args = [pg_dump.path, "--format=custom", f"--file={kept}", f"--dbname={bare}"]
                code, _, err = await _run(args, env)
                if code != 0:
                    raise BackupError(
                        "Could not keep a copy of the current database first "
                        f"({_error_lines(err)}). Nothing was changed."
                    )
                os.replace(kept, previous)
        code, err = await _replace_database(staged, url, pg_restore, server.major, backup_dir)
        if code != 0:
            raise BackupError(
                f"Could not restore {src}: {_error_lines(err)}. It ran in one transaction, so "
                "the database is as it was."
            )
    after = await _server(url)
    return RestoreResult(redact(url), previous, after.schema_version or 0)
