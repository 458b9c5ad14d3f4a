"""Issue 10, item 4: the database, its -wal/-shm, backups and their folders are private.

Modes are read with os.stat, as another user on the machine would meet them, under the
umasks a self-hoster commonly has (0o022 on most systems, 0o002 where users share a group).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from familybot import files
from familybot.backup import create_backup, restore_backup, scheduled_backup
from familybot.db.connection import Database
from familybot.db.migrate import APPLICATION_ID, migrate
from tests.test_cli import familybot

UMASKS = [0o022, 0o002]


@pytest.fixture(params=UMASKS, ids=lambda m: f"umask{m:03o}")
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_database_wal_shm_and_new_folders_are_private(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "new" / "deeper" / "familybot.db"
    db = await Database.open(path)
    try:
        await migrate(db)
        await db.execute("CREATE TABLE scratch (x INTEGER)")
        await db.execute("INSERT INTO scratch VALUES (1)")
        # While a connection is open in WAL mode, SQLite keeps the -wal and -shm beside it
        # (os.stat below fails if they are missing).
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert {p.name: mode(p) for p in (path, wal, shm)} == {
            "familybot.db": 0o600,
            "familybot.db-wal": 0o600,
            "familybot.db-shm": 0o600,
        }
    finally:
        await db.close()
    assert mode(tmp_path / "new") == 0o700
    assert mode(tmp_path / "new" / "deeper") == 0o700
    # Another reader still sees a sound database.
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM scratch").fetchone()[0] == 1
    conn.close()


async def test_existing_folder_of_the_database_is_left_alone(tmp_path: Path, umask: int) -> None:
    shared = tmp_path / "opt"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    db = await Database.open(shared / "familybot.db")
    await db.close()
    assert mode(shared) == 0o755  # the install folder is not ours to change
    assert mode(shared / "familybot.db") == 0o600


def test_backups_checksums_and_their_folders_are_private(tmp_path: Path, umask: int) -> None:
    source = tmp_path / "fb.db"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    made = create_backup(source, tmp_path / "bk" / "inner" / "one.db").path
    assert mode(made) == 0o600 and mode(Path(f"{made}.sha256")) == 0o600
    assert mode(tmp_path / "bk") == 0o700 and mode(tmp_path / "bk" / "inner") == 0o700

    daily = scheduled_backup(source, tmp_path / "daily", None, 3).path
    assert mode(tmp_path / "daily") == 0o700 and mode(daily) == 0o600

    # Restoring into a folder that does not exist yet creates it private too.
    os.chmod(source, 0o600)
    conn = sqlite3.connect(source)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.commit()
    conn.close()
    good = create_backup(source, tmp_path / "good.db").path
    restored = restore_backup(good, tmp_path / "fresh" / "fb.db").db_path
    assert mode(tmp_path / "fresh") == 0o700 and mode(restored) == 0o600


def test_cli_backup_into_new_folder_is_private(tmp_path: Path, umask: int) -> None:
    env = {"DATABASE_PATH": "data/fb.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "fb.db") == 0o600
    result = familybot(tmp_path, "backup", "offsite/", env=env)
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "offsite") == 0o700
    made = sorted((tmp_path / "offsite").iterdir())
    assert len(made) == 2 and all(mode(p) == 0o600 for p in made)


def loose_install(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    """An install from before this fix: everything readable by others."""
    db = tmp_path / "fb.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    wal = Path(f"{db}-wal")
    wal.write_bytes(b"")
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "familybot-20260101-030000.db"
    old.write_bytes(b"old")
    unrelated = backups / "notes.txt"
    unrelated.write_text("mine")
    for path in (db, wal, old, unrelated):
        os.chmod(path, 0o644)
    os.chmod(backups, 0o755)
    return db, backups, [db, wal, backups, old]


def test_check_warns_about_each_loose_file_with_the_fix(tmp_path: Path) -> None:
    db, backups, loose = loose_install(tmp_path)
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=MTEwMDAwMDAwMDAwMDAwMDAwMQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB\n"
        f"DATABASE_PATH={db}\nBACKUP_DIR={backups}\n"
    )
    result = familybot(tmp_path, "check")
    warnings = [line for line in result.stdout.splitlines() if line.startswith("⚠")]
    assert warnings == [
        f"⚠ The file {db} can be read by other users on this machine (mode 0644): "
        f"run `chmod 600 {db}`.",
        f"⚠ The file {db}-wal can be read by other users on this machine (mode 0644): "
        f"run `chmod 600 {db}-wal`.",
        f"⚠ The folder {backups} can be read by other users on this machine (mode 0755): "
        f"run `chmod 700 {backups}`.",
        f"⚠ The file {loose[3]} can be read by other users on this machine (mode 0644): "
        f"run `chmod 600 {loose[3]}`.",
    ]
    # check only reports: it changes nothing.
    assert mode(db) == 0o644 and mode(backups) == 0o755
    for path in loose:
        if path.exists():  # check opened and closed the database: SQLite removed the -wal
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
    again = familybot(tmp_path, "check")
    assert again.returncode == 0, again.stdout
    assert not [line for line in again.stdout.splitlines() if line.startswith("⚠ The ")]


def test_start_tightens_loose_files_it_owns(tmp_path: Path) -> None:
    db, backups, loose = loose_install(tmp_path)
    made = files.tighten_install(db, backups)
    assert sorted(found.path for found in made) == sorted(loose)
    assert [mode(p) for p in loose] == [0o600, 0o600, 0o700, 0o600]
    assert mode(backups / "notes.txt") == 0o644  # not FamilyBot's file: left alone
    assert files.tighten_install(db, backups) == []


def test_start_leaves_files_of_another_owner_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db, backups, _ = loose_install(tmp_path)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(db).st_uid + 1)
    with caplog.at_level(logging.WARNING, logger="familybot.files"):
        assert files.tighten_install(db, backups) == []
    assert mode(db) == 0o644
    assert f"cannot make private path={db} mode=0644: run chmod 600 on it" in caplog.text


def test_cli_migrate_tightens_an_existing_database(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": "fb.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    os.chmod(tmp_path / "fb.db", 0o644)
    result = familybot(tmp_path, "migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert "made fb.db private (mode 0644 -> 0600)" in result.stdout
    assert mode(tmp_path / "fb.db") == 0o600


async def test_bot_start_tightens_an_existing_database(tmp_path: Path) -> None:
    import asyncio
    import signal

    from familybot.cli import run as cli_run
    from familybot.config import load_settings
    from tests.support.fake_discord import FakeDiscord, point_discord_py_at

    db, backups, loose = loose_install(tmp_path)
    fake = FakeDiscord()
    await fake.start()
    undo = point_discord_py_at(fake)
    try:
        fake.add_guild("Family Support")
        settings = load_settings(
            tmp_path / "none.env",
            environ={
                "DISCORD_TOKEN": fake.token,
                "DATABASE_PATH": str(db),
                "BACKUP_DIR": str(backups),
            },
        )
        run = asyncio.create_task(cli_run._run(settings, fake.token))
        try:
            await fake.wait_until_identified(timeout=10)
            # While the bot runs: everything it owns is private, the -wal and -shm included.
            modes = {p.name: mode(p) for p in [*loose, Path(f"{db}-shm")]}
        finally:
            os.kill(os.getpid(), signal.SIGTERM)
            code = await asyncio.wait_for(run, 10)
    finally:
        undo()
        await fake.stop()
    assert modes == {
        "fb.db": 0o600,
        "fb.db-wal": 0o600,
        "fb.db-shm": 0o600,
        "backups": 0o700,
        "familybot-20260101-030000.db": 0o600,
    }
    assert code == 0
