"""`familybot backup` / `restore` on PostgreSQL: the real pg_dump and pg_restore, local server."""

from __future__ import annotations

import hashlib
import shutil
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from familybot import backup_pg
from familybot.backup import new_key
from familybot.backup_seal import BackupError
from familybot.db.connection import Database
from tests.support import backends
from tests.test_cli import familybot
from tests.unit import privacy_seed

USER, GUILD = 123_456_789_012_345_678, 987_654_321_098_765_432


async def _pg_ready() -> None:
    if "postgres" not in backends.backends():
        pytest.skip("PostgreSQL variants not selected (FAMILYBOT_TEST_BACKENDS)")
    await backends.SERVER.ensure_template()
    if shutil.which("pg_dump") is None or shutil.which("psql") is None:
        problem = "PostgreSQL backup tests need pg_dump, pg_restore and psql on PATH"
        if backends.require_postgres():
            pytest.fail(f"{problem} (FAMILYBOT_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(problem)


@pytest.fixture
async def seeded_pg() -> AsyncIterator[str]:
    """A migrated FamilyBot database with a row in most tables."""
    await _pg_ready()
    name = await backends.SERVER.fresh_database()
    url = backends.url_for(name)
    db = await Database.connect(url)
    try:
        await privacy_seed.seed_all(db, USER, GUILD)
    finally:
        await db.close()
    try:
        yield url
    finally:
        await backends.SERVER.drop(name)


@pytest.fixture
async def empty_pg() -> AsyncIterator[str]:
    await _pg_ready()
    name = f"{backends.PREFIX}{uuid.uuid4().hex[:16]}"
    await backends._admin(f'CREATE DATABASE "{name}"')
    try:
        yield backends.url_for(name)
    finally:
        await backends.SERVER.drop(name)


async def _rows(url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(url)
    try:
        tables = [
            r[0]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {
            t: sorted(repr(tuple(r)) for r in await conn.fetch(f'SELECT * FROM "{t}"'))
            for t in tables
        }
    finally:
        await conn.close()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_backup_and_restore_through_the_command_line(
    tmp_path: Path, seeded_pg: str, empty_pg: str
) -> None:
    result = familybot(tmp_path, "backup", env={"DATABASE_URL": seeded_pg, "BACKUP_DIR": "bk"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pg_dump custom format" in result.stdout
    backups = sorted((tmp_path / "bk").iterdir())
    dump, sidecar = backups
    assert dump.name.endswith(".dump") and sidecar.name == dump.name + ".sha256"
    assert dump.read_bytes().startswith(b"PGDMP")
    assert _mode(dump) == _mode(sidecar) == 0o600 and _mode(tmp_path / "bk") == 0o700
    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    assert sidecar.read_text() == f"{digest}  {dump.name}\n"  # `sha256sum -c` reads it

    # Into an empty database (a new server, say): the same rows come back.
    env = {"DATABASE_URL": empty_pg, "BACKUP_DIR": "bk"}
    restored = familybot(tmp_path, "restore", str(dump), env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert await _rows(empty_pg) == await _rows(seeded_pg)
    assert "kept as" not in restored.stdout  # there was nothing to keep


async def test_restore_keeps_the_replaced_database_and_refuses_while_the_bot_is_connected(
    tmp_path: Path, seeded_pg: str
) -> None:
    made = await backup_pg.create_pg_backup(seeded_pg, tmp_path)
    original = await _rows(seeded_pg)
    conn = await asyncpg.connect(seeded_pg)  # the bot, still running
    try:
        await conn.execute("INSERT INTO guild_settings (guild_id, updated_at) VALUES (77, 1)")
        changed = await _rows(seeded_pg)
        with pytest.raises(BackupError, match="bot seems to be running"):
            await backup_pg.restore_pg_backup(made.path, seeded_pg, None, tmp_path / "kept")
        assert await _rows(seeded_pg) == changed
    finally:
        await conn.close()
    result = await backup_pg.restore_pg_backup(made.path, seeded_pg, None, tmp_path / "kept")
    assert await _rows(seeded_pg) == original
    assert result.previous is not None and _mode(result.previous) == 0o600
    # The kept copy is a backup of what was replaced: restoring it brings the change back.
    kept = await backup_pg.restore_pg_backup(
        result.previous, seeded_pg, None, tmp_path / "kept", unverified=True
    )
    assert await _rows(seeded_pg) == changed
    assert kept.schema_version == made.schema_version


async def test_a_damaged_or_foreign_backup_is_refused_and_nothing_changes(
    tmp_path: Path, seeded_pg: str
) -> None:
    made = await backup_pg.create_pg_backup(seeded_pg, tmp_path)
    before = await _rows(seeded_pg)
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    made.path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="does not match its checksum"):
        await backup_pg.restore_pg_backup(made.path, seeded_pg, None, tmp_path)
    sqlite_backup = tmp_path / "familybot-20260101-030000.db"
    sqlite_backup.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(BackupError, match=r"is a SQLite backup.*db copy"):
        await backup_pg.restore_pg_backup(sqlite_backup, seeded_pg, None, tmp_path, unverified=True)
    assert await _rows(seeded_pg) == before


async def test_encrypted_backup_round_trip_and_retention(tmp_path: Path, seeded_pg: str) -> None:
    key = new_key()
    folder = tmp_path / "daily"
    folder.mkdir()
    for day in (1, 2, 3):
        await backup_pg.create_pg_backup(
            seeded_pg, folder, key, now=datetime(2026, 1, day, 3, tzinfo=UTC)
        )
    newest = await backup_pg.scheduled_pg_backup(seeded_pg, folder, key, keep=2)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["familybot-20260103-030000.dump.enc", newest.path.name]
    assert not newest.path.read_bytes().startswith(b"PGDMP")  # encrypted
    before = await _rows(seeded_pg)
    with pytest.raises(BackupError, match="BACKUP_KEY does not open"):
        await backup_pg.restore_pg_backup(newest.path, seeded_pg, new_key(), tmp_path, force=True)
    await backup_pg.restore_pg_backup(newest.path, seeded_pg, key, tmp_path / "kept", force=True)
    assert await _rows(seeded_pg) == before


def _fake_tool(folder: Path, name: str, version: str) -> None:
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
    script.chmod(0o755)


async def test_a_missing_or_too_old_pg_dump_says_exactly_what_to_install(
    tmp_path: Path, seeded_pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = await asyncpg.connect(seeded_pg)
    major = int(await conn.fetchval("SHOW server_version_num")) // 10000
    await conn.close()
    monkeypatch.setattr(backup_pg, "SEARCH_DIRS", [])
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(BackupError) as missing:
        await backup_pg.create_pg_backup(seeded_pg, tmp_path)
    text = str(missing.value)
    assert "pg_dump is not installed" in text
    assert f"postgresql-client-{major}" in text and f"postgresql{major}-client" in text
    _fake_tool(tmp_path / "old", "pg_dump", f"{major - 3}.4")
    monkeypatch.setenv("PATH", str(tmp_path / "old"))
    with pytest.raises(BackupError) as old:
        await backup_pg.create_pg_backup(seeded_pg, tmp_path)
    text = str(old.value)
    assert f"pg_dump {major - 3}.4 ({tmp_path / 'old' / 'pg_dump'}) is older" in text
    assert f"sudo apt install postgresql-client-{major}" in text
    assert _files(tmp_path) == []  # nothing written


async def test_the_bot_daily_backup_on_postgresql_writes_prunes_and_logs_no_secret(
    tmp_path: Path, seeded_pg: str, caplog: pytest.LogCaptureFixture
) -> None:
    from types import SimpleNamespace

    from familybot.bot import FamilyBot
    from familybot.config import load_settings

    caplog.set_level("INFO", logger="familybot.backup_daily")
    folder = tmp_path / "bk"
    env = {"DATABASE_URL": seeded_pg, "BACKUP_DIR": str(folder), "BACKUP_KEEP": "1"}
    bot = SimpleNamespace(settings=load_settings(Path("/nonexistent.env"), environ=env))
    folder.mkdir(mode=0o700)
    (folder / "familybot-20000101-000000.dump").write_bytes(b"PGDMP old")
    await FamilyBot.scheduled_backup(bot)  # type: ignore[arg-type]
    names = _files(folder)
    assert len(names) == 2 and names[0].endswith(".dump") and names[1] == names[0] + ".sha256"
    assert names[0] != "familybot-20000101-000000.dump"  # the old one went with retention
    assert "scheduled backup written" in caplog.text

    env["DATABASE_URL"] = "postgresql://fb:hunter2@127.0.0.1:1/nowhere"
    bot = SimpleNamespace(settings=load_settings(Path("/nonexistent.env"), environ=env))
    await FamilyBot.scheduled_backup(bot)  # type: ignore[arg-type]
    assert "scheduled backup failed" in caplog.text and "hunter2" not in caplog.text


async def test_an_older_backup_replaces_everything_in_one_transaction(
    tmp_path: Path, seeded_pg: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await backup_pg.create_pg_backup(seeded_pg, tmp_path)
    original = await _rows(seeded_pg)
    conn = await asyncpg.connect(seeded_pg)
    try:  # what a newer migration would have added since
        await conn.execute("CREATE TABLE zz_newer (id BIGINT PRIMARY KEY)")
        await conn.execute("INSERT INTO zz_newer VALUES (1)")
        await conn.execute("CREATE FUNCTION zz_newer_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        await conn.execute("DELETE FROM guild_settings")
    finally:
        await conn.close()
    changed = await _rows(seeded_pg)

    monkeypatch.setattr(backup_pg, "RESTORE_EPILOGUE", "SELECT 1/0;\n")  # fails at the end
    with pytest.raises(BackupError, match=r"division by zero.*the database is as it was"):
        await backup_pg.restore_pg_backup(made.path, seeded_pg, None, tmp_path / "kept")
    assert await _rows(seeded_pg) == changed

    monkeypatch.setattr(backup_pg, "RESTORE_EPILOGUE", "")
    await backup_pg.restore_pg_backup(made.path, seeded_pg, None, tmp_path / "kept")
    assert await _rows(seeded_pg) == original  # zz_newer is gone too
    conn = await asyncpg.connect(seeded_pg)
    try:
        assert await conn.fetchval("SELECT to_regproc('zz_newer_fn')") is None
        assert await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
    finally:
        await conn.close()
