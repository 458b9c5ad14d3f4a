"""Backups and restores, and the deployment files (checked statically: no Docker here)."""

from __future__ import annotations

import sqlite3
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from familybot.backup import (
    BackupError,
    create_backup,
    new_key,
    prune_backups,
    restore_backup,
    scheduled_backup,
)
from familybot.config import load_settings
from familybot.db.migrate import APPLICATION_ID, available_migrations
from familybot.errors import ConfigError
from tests.test_cli import familybot

ROOT = Path(__file__).resolve().parent.parent


def make_db(path: Path, rows: int = 10, *, marked: bool = True) -> None:
    """A small database; marked: carrying FamilyBot's application_id, as migrate leaves it."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(rows)])
    conn.execute("PRAGMA user_version = 1")
    if marked:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.commit()
    conn.close()


def count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM notes").fetchone()[0])
    finally:
        conn.close()


def test_backup_of_live_database_while_another_connection_writes(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    make_db(db)
    writer = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            writer.execute("INSERT INTO notes (body) VALUES (?)", ("x" * 500,))

    thread = threading.Thread(target=write)
    thread.start()
    try:
        results = [create_backup(db, tmp_path / f"copy{i}.db") for i in range(5)]
    finally:
        stop.set()
        thread.join()
        writer.close()
    for result in results:
        assert result.schema_version == 1 and not result.encrypted
        conn = sqlite3.connect(result.path)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()
        assert count(result.path) >= 10
        assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".familybot-*"))  # no temp files left behind


def test_backup_into_folder_names_by_time(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    make_db(db)
    folder = tmp_path / "backups"
    folder.mkdir()
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert create_backup(db, folder, now=when).path == folder / "familybot-20260304-050607.db"
    key = new_key()
    enc = create_backup(db, folder, key, now=when)
    assert enc.path.name == "familybot-20260304-050607.db.enc" and enc.encrypted


def test_encrypted_backup_unreadable_without_key_restored_with_key(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    make_db(db, rows=3)
    key = new_key()
    backup = create_backup(db, tmp_path / "b.db.enc", key).path
    raw = backup.read_bytes()
    assert not raw.startswith(b"SQLite") and b"note 1" not in raw
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(backup).execute("SELECT * FROM notes").fetchall()

    target = tmp_path / "restored" / "fb.db"
    with pytest.raises(BackupError, match=r"encrypted.*BACKUP_KEY"):
        restore_backup(backup, target)
    assert not target.exists()
    result = restore_backup(backup, target, key)
    assert result.previous is None and count(target) == 3


def test_wrong_key_is_a_clear_error_and_nothing_is_replaced(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    make_db(db, rows=3)
    backup = create_backup(db, tmp_path / "b.db.enc", new_key()).path
    make_db(other := tmp_path / "live.db", rows=7)
    before = other.read_bytes()
    with pytest.raises(BackupError, match="does not open") as info:
        restore_backup(backup, other, new_key(), force=True)
    assert "Nothing was changed" in str(info.value)
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.db.enc", "fb.db", "live.db"]


def test_restore_keeps_replaced_database_and_removes_stale_wal(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    make_db(db, rows=3)
    backup = create_backup(db, tmp_path / "b.db").path
    live = tmp_path / "live.db"
    make_db(live, rows=7)
    wal = tmp_path / "live.db-wal"
    wal.write_bytes(b"")
    with pytest.raises(BackupError, match="seems to be running"):
        restore_backup(backup, live)
    assert count(live) == 7  # closing the last connection removes the -wal: put it back
    wal.write_bytes(b"")
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = restore_backup(backup, live, force=True, now=when)
    assert count(live) == 3 and not wal.exists()
    assert result.previous == tmp_path / "live.db.before-restore-20260102-030405"
    assert (tmp_path / "live.db.before-restore-20260102-030405-wal").exists()
    assert count(result.previous) == 7


def test_restore_refuses_corrupt_file(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    make_db(live)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    with pytest.raises(BackupError, match=r"not a readable SQLite database|integrity"):
        restore_backup(garbage, live)
    # Damaged pages inside an otherwise valid file.
    good = tmp_path / "good.db"
    make_db(good, rows=2000)
    data = bytearray(good.read_bytes())
    data[4096 * 2 : 4096 * 2 + 200] = b"\xff" * 200
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        restore_backup(damaged, live)
    assert count(live) == 10
    assert not list(tmp_path.glob(".familybot-*"))


def test_restore_refuses_newer_schema(tmp_path: Path) -> None:
    source = tmp_path / "newer-source.db"
    make_db(source)
    conn = sqlite3.connect(source)
    conn.execute(f"PRAGMA user_version = {available_migrations()[-1].number + 1}")
    conn.commit()
    conn.close()
    newer = create_backup(source, tmp_path / "newer.db").path
    live = tmp_path / "live.db"
    make_db(live, rows=4)
    with pytest.raises(BackupError, match="newer than this FamilyBot knows"):
        restore_backup(newer, live)
    assert count(live) == 4


def test_prune_keeps_newest(tmp_path: Path) -> None:
    names = [f"familybot-2026010{d}-030000.db" for d in range(1, 6)]
    names += ["familybot-20260106-030000.db.enc", "notes.txt", "familybot-x.db"]
    for name in names:
        (tmp_path / name).write_text("x")
    removed = prune_backups(tmp_path, 3)
    assert sorted(p.name for p in removed) == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[3:])


def test_scheduled_backup_keeps_n(tmp_path: Path) -> None:
    db = tmp_path / "fb.db"
    make_db(db)
    folder = tmp_path / "backups"
    for d in range(1, 4):
        (folder / "x").mkdir(parents=True, exist_ok=True)
        (folder / f"familybot-2020010{d}-000000.db").write_text("old")
    result = scheduled_backup(db, folder, None, 2)
    kept = sorted(p.name for p in folder.iterdir() if p.is_file())
    # The new backup's checksum file stays with it.
    assert kept == ["familybot-20200103-000000.db", result.path.name, f"{result.path.name}.sha256"]


async def test_bot_daily_backup_writes_prunes_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from types import SimpleNamespace

    from familybot.bot import FamilyBot

    db = tmp_path / "fb.db"
    make_db(db)
    env = {"DATABASE_PATH": str(db), "BACKUP_DIR": str(tmp_path / "bk"), "BACKUP_KEEP": "1"}
    bot = SimpleNamespace(settings=load_settings(Path("/nonexistent.env"), environ=env))
    await FamilyBot.scheduled_backup(bot)  # type: ignore[arg-type]
    (tmp_path / "bk" / "familybot-20000101-000000.db").write_text("old")
    await FamilyBot.scheduled_backup(bot)  # type: ignore[arg-type]
    assert len([p for p in (tmp_path / "bk").iterdir() if p.suffix == ".db"]) == 1

    env["DATABASE_PATH"] = str(tmp_path / "missing.db")
    bot = SimpleNamespace(settings=load_settings(Path("/nonexistent.env"), environ=env))
    await FamilyBot.scheduled_backup(bot)  # type: ignore[arg-type]
    assert "scheduled backup failed" in caplog.text


def test_backup_settings_are_validated() -> None:
    settings = load_settings(Path("/nonexistent.env"), environ={})
    assert (settings.backup_key, settings.backup_keep, settings.backup_hour_utc) == (None, 7, 3)
    key = new_key()
    settings = load_settings(
        Path("/nonexistent.env"),
        environ={"BACKUP_KEY": key, "BACKUP_KEEP": "14", "BACKUP_HOUR_UTC": "23"},
    )
    assert (settings.backup_key, settings.backup_keep, settings.backup_hour_utc) == (key, 14, 23)
    for env, words in [
        ({"BACKUP_KEY": "hunter2"}, "--new-key"),
        ({"BACKUP_KEEP": "0"}, "from 1 to"),
        ({"BACKUP_KEEP": "many"}, "whole number"),
        ({"BACKUP_HOUR_UTC": "24"}, "from 0 to 23"),
    ]:
        with pytest.raises(ConfigError, match=words):
            load_settings(Path("/nonexistent.env"), environ=env)


def test_cli_backup_and_restore(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": "fb.db", "BACKUP_DIR": "bk"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    result = familybot(tmp_path, "backup", env=env)
    assert result.returncode == 0, result.stderr
    assert "integrity ok" in result.stdout and "not encrypted" in result.stdout
    (made,) = (p for p in (tmp_path / "bk").iterdir() if p.suffix == ".db")
    assert made.name.startswith("familybot-") and made.suffix == ".db"

    result = familybot(tmp_path, "backup", "copy.db", env=env)
    assert result.returncode == 0 and (tmp_path / "copy.db").is_file()
    result = familybot(tmp_path, "restore", "copy.db", env=env)
    assert result.returncode == 0, result.stderr
    assert "before-restore" in result.stdout
    assert "Traceback" not in result.stderr

    missing = familybot(tmp_path, "restore", "nope.db", env=env)
    assert missing.returncode == 2 and "no backup file" in missing.stderr
    (tmp_path / "bad.db").write_bytes(b"not a database at all")
    bad = familybot(tmp_path, "restore", "bad.db", env=env)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and "encrypted" in bad.stderr


def test_cli_encrypted_backup_and_new_key(tmp_path: Path) -> None:
    result = familybot(tmp_path, "backup", "--new-key")
    assert result.returncode == 0 and "BACKUP_KEY" in result.stderr
    key = result.stdout.strip()
    env = {"DATABASE_PATH": "fb.db", "BACKUP_KEY": key}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    result = familybot(tmp_path, "backup", "b.enc", env=env)
    assert result.returncode == 0 and "encrypted with BACKUP_KEY" in result.stdout

    wrong = familybot(tmp_path, "restore", "b.enc", env={**env, "BACKUP_KEY": new_key()})
    assert wrong.returncode == 1 and "does not open" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    bad_key = familybot(tmp_path, "restore", "b.enc", env={**env, "BACKUP_KEY": "nope"})
    assert bad_key.returncode == 2 and "--new-key" in bad_key.stderr
    ok = familybot(tmp_path, "restore", "b.enc", env=env)
    assert ok.returncode == 0, ok.stderr


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "FROM python:3.11-slim" in text
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in text and '"familybot", "check"' in text
    assert "DATABASE_PATH=/data/familybot.db" in text and "BACKUP_DIR=/data/backups" in text
    assert 'VOLUME ["/data"]' in text
    assert ".env" in (ROOT / ".dockerignore").read_text().splitlines()


def test_compose_mounts_a_volume_and_restarts() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose["services"]["familybot"]
    assert service["restart"] == "unless-stopped"
    assert service["env_file"] == ".env"
    assert any(v.endswith(":/data") for v in service["volumes"])
    assert service["environment"]["DATABASE_PATH"].startswith("/data/")
    named = service["volumes"][0].split(":")[0]
    assert named in compose["volumes"]


def test_systemd_unit_example() -> None:
    text = (ROOT / "deploy" / "familybot.service").read_text()
    assert "ExecStart=" in text and "familybot run" in text and "User=familybot" in text
    assert "deploy/familybot.service" in (ROOT / "README.md").read_text()


def test_compose_offers_postgresql_as_an_optional_profile() -> None:
    """`docker compose --profile postgres up`: a PostgreSQL service with its own volume and a
    health check the bot waits for; without the profile the bot starts alone, as before."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    bot, pg = compose["services"]["familybot"], compose["services"]["postgres"]
    assert "profiles" not in bot and pg["profiles"] == ["postgres"]
    assert bot["depends_on"]["postgres"] == {"condition": "service_healthy", "required": False}
    assert pg["image"].split(":")[0] == "postgres"
    data = next(v for v in pg["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert data.split(":")[0] in compose["volumes"]
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    env = pg["environment"]
    assert env["POSTGRES_PASSWORD"] == "${POSTGRES_PASSWORD:-}"  # from .env, never written here
    assert "ports" not in pg  # reachable by the bot on the compose network only
    # The URL the comments tell admins to put in .env names this service, user and database.
    text = (ROOT / "docker-compose.yml").read_text()
    url = f"@postgres:5432/{env['POSTGRES_DB']}"
    assert f"DATABASE_URL=postgresql://{env['POSTGRES_USER']}:" in text and url in text
    # The image's pg_dump must be as new as the server it backs up (15 on bookworm).
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim-bookworm" in dockerfile and "postgresql-client" in dockerfile
    assert pg["image"] == "postgres:15"
    unit = (ROOT / "deploy" / "familybot.service").read_text()
    assert "#After=postgresql.service" in unit
