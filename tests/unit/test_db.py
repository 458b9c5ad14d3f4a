from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from familybot.db.connection import Database, DatabaseUnavailable
from familybot.db.migrate import available_migrations, current_version, migrate
from familybot.db.repositories.sessions import SessionRepository


@pytest.mark.sqlite_only
async def test_pragmas_are_set(db: Database) -> None:
    assert (await db.fetchval("PRAGMA journal_mode")).lower() == "wal"
    assert await db.fetchval("PRAGMA synchronous") == 2  # FULL
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") == 2000  # within Discord's 3 s window


async def test_migrations_reach_latest_and_are_idempotent(db: Database) -> None:
    latest = available_migrations()[-1].number
    assert await current_version(db) == latest
    assert await migrate(db) == []
    assert await current_version(db) == latest


async def test_migrations_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    first = await Database.open(path)
    await migrate(first)
    await first.execute("INSERT INTO guild_settings (guild_id, updated_at) VALUES (1, 0)")
    await first.close()
    second = await Database.open(path)
    assert await migrate(second) == []
    assert await second.fetchval("SELECT count(*) FROM guild_settings") == 1
    await second.close()


@pytest.mark.sqlite_only
async def test_newer_database_is_refused(db: Database) -> None:
    await db.connection.execute("PRAGMA user_version = 999")
    with pytest.raises(RuntimeError, match="newer than this FamilyBot"):
        await migrate(db)


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.transaction():
            await db.execute("INSERT INTO guild_settings (guild_id, updated_at) VALUES (7, 0)")
            raise ZeroDivisionError
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 0
    # The connection is usable afterwards.
    await db.execute("INSERT INTO guild_settings (guild_id, updated_at) VALUES (8, 0)")
    assert await db.fetchval("SELECT count(*) FROM guild_settings") == 1


async def test_failed_migration_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from familybot.db import migrate as migrate_module
    from familybot.db.migrate import Migration

    good = available_migrations()
    bad = [
        *good,
        Migration(len(good) + 1, "broken", "CREATE TABLE t (x); INSERT INTO nope VALUES (1);"),
    ]
    monkeypatch.setattr(migrate_module, "available_migrations", lambda: bad)
    database = await Database.open(tmp_path / "m.db")
    with pytest.raises(sqlite3.OperationalError):
        await migrate(database)
    assert await current_version(database) == len(good)
    assert await database.fetchval("SELECT count(*) FROM sqlite_master WHERE name = 't'") == 0
    await database.close()


async def test_foreign_keys_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at, "
            "requested_at) VALUES (999, 1, 'member', 1, 0, 0)"
        )


async def test_unopenable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatabaseUnavailable, match="Cannot"):
        await Database.open(blocker / "sub" / "db.sqlite")


async def test_each_install_gets_its_own_id_once(tmp_path: Path) -> None:
    """Calendar UIDs carry it: two installs differ, and one install keeps its id."""
    ids = []
    for name in ("one.db", "two.db", "one.db"):
        db = await Database.open(tmp_path / name)
        await migrate(db)
        ids.append(await SessionRepository(db).install_id())
        await db.close()
    assert ids[0] != ids[1] and ids[0] == ids[2]
    assert len(ids[0]) == 24 and int(ids[0], 16) >= 0
