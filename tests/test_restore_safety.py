"""Issue 10, item 5: restore never loses data.

- A database is FamilyBot's when its header carries application_id 0x46424F54 ("FBOT"),
  read here straight from the file's bytes (offset 68 of the SQLite header), not via SQLite.
- Anything else is refused with one kind line, and the current database is left as it was.
- Two restores in one second keep both replaced databases.
- A plain backup's checksum file is in `sha256sum` format, checked here with coreutils'
  own `sha256sum -c`; a flipped byte is refused before anything changes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import struct
import subprocess
from pathlib import Path

import pytest
import time_machine

from familybot.backup import BackupError, create_backup, new_key, prune_backups, restore_backup
from familybot.cli import main as cli_main
from familybot.db.migrate import APPLICATION_ID
from tests.test_backup import count, make_db
from tests.test_cli import familybot

FBOT = 0x46424F54


def header_application_id(path: Path) -> int:
    """The application_id field of the SQLite header: 4 big-endian bytes at offset 68."""
    with path.open("rb") as handle:
        header = handle.read(100)
    assert header.startswith(b"SQLite format 3\x00")
    return int(struct.unpack(">I", header[68:72])[0])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def unrelated_database(path: Path) -> None:
    """Someone else's SQLite file: another app's photos, user_version 0, no FamilyBot mark."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, caption TEXT)")
    conn.execute("INSERT INTO photos (caption) VALUES ('beach')")
    conn.commit()
    conn.close()


def add_faq(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO faq (guild_id, question, question_key, answer, created_by, created_at) "
        "VALUES (1, 'Parking?', 'parking?', 'Behind the building.', 2, 0)"
    )


def sha256sum_file(path: Path) -> None:
    """A checksum file made by coreutils, as a careful admin might for any file."""
    out = subprocess.run(
        ["sha256sum", path.name], cwd=path.parent, capture_output=True, text=True, check=True
    ).stdout
    Path(f"{path}.sha256").write_text(out)


def test_migrated_database_carries_familybots_application_id(tmp_path: Path) -> None:
    assert APPLICATION_ID == FBOT
    result = familybot(tmp_path, "migrate", env={"DATABASE_PATH": "fb.db"})
    assert result.returncode == 0, result.stderr
    assert header_application_id(tmp_path / "fb.db") == FBOT


def test_existing_install_is_marked_at_its_next_migrate(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": "fb.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    conn = sqlite3.connect(tmp_path / "fb.db")
    conn.execute("PRAGMA application_id = 0")  # as every install made before the mark
    add_faq(conn)
    conn.commit()
    conn.close()
    assert header_application_id(tmp_path / "fb.db") == 0
    result = familybot(tmp_path, "migrate", env=env)
    assert result.returncode == 0, result.stderr
    assert header_application_id(tmp_path / "fb.db") == FBOT
    conn = sqlite3.connect(tmp_path / "fb.db")
    assert conn.execute("SELECT question FROM faq").fetchall() == [("Parking?",)]
    conn.close()


def test_migrate_refuses_another_programs_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    unrelated_database(other)
    conn = sqlite3.connect(other)
    conn.execute("PRAGMA application_id = 305419896")  # 0x12345678: some other program
    conn.commit()
    conn.close()
    before = other.read_bytes()
    result = familybot(tmp_path, "migrate", env={"DATABASE_PATH": "other.db"})
    assert result.returncode == 2
    assert "belongs to another program" in result.stderr and "Traceback" not in result.stderr
    assert other.read_bytes() == before


def test_unrelated_database_is_refused_and_current_data_intact(tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    make_db(live, rows=7)
    other = tmp_path / "photos.db"
    unrelated_database(other)
    before = snapshot(tmp_path)

    # No checksum beside it: refused for that first.
    with pytest.raises(BackupError, match="no checksum file"):
        restore_backup(other, live)
    # Even with a correct checksum, or when told to skip checks for old backups: not ours.
    sha256sum_file(other)
    before = snapshot(tmp_path)
    for unverified in (False, True):
        with pytest.raises(BackupError, match="is not a FamilyBot database") as info:
            restore_backup(other, live, unverified=unverified)
        assert "Nothing was changed" in str(info.value) and "\n" not in str(info.value)
        assert snapshot(tmp_path) == before
    assert count(live) == 7


def test_cli_refuses_unrelated_database_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": "fb.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    conn = sqlite3.connect(tmp_path / "fb.db")
    add_faq(conn)
    conn.commit()
    conn.close()
    unrelated_database(tmp_path / "photos.db")
    sha256sum_file(tmp_path / "photos.db")
    before = snapshot(tmp_path)
    for extra in ([], ["--unverified"], ["--force"]):
        result = familybot(tmp_path, "restore", "photos.db", *extra, env=env)
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "is not a FamilyBot database" in result.stderr
        assert snapshot(tmp_path) == before
    conn = sqlite3.connect(tmp_path / "fb.db")
    assert conn.execute("SELECT question FROM faq").fetchall() == [("Parking?",)]
    conn.close()


def test_two_restores_in_the_same_second_keep_both_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_PATH", "BACKUP_DIR", "BACKUP_KEY", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_PATH", "live.db")
    make_db(tmp_path / "source.db", rows=3)
    backup = create_backup(tmp_path / "source.db", tmp_path / "b.db").path
    make_db(tmp_path / "live.db", rows=7)
    with time_machine.travel("2026-03-04 05:06:07.250 +0000", tick=False):
        assert cli_main.main(["restore", str(backup)]) == 0
        # Someone adds data to the restored database, then restores again in the same second.
        conn = sqlite3.connect(tmp_path / "live.db")
        conn.execute("INSERT INTO notes (body) VALUES ('written after the first restore')")
        conn.commit()
        conn.close()
        assert cli_main.main(["restore", str(backup)]) == 0
    out = capsys.readouterr().out
    first = tmp_path / "live.db.before-restore-20260304-050607"
    second = tmp_path / "live.db.before-restore-20260304-050607-2"
    assert f"kept as {first.name}." in out and f"kept as {second.name}." in out
    assert count(first) == 7 and count(second) == 4 and count(tmp_path / "live.db") == 3


def test_kept_copy_name_skips_one_whose_wal_is_still_there(tmp_path: Path) -> None:
    make_db(tmp_path / "source.db", rows=3)
    backup = create_backup(tmp_path / "source.db", tmp_path / "b.db").path
    make_db(live := tmp_path / "live.db", rows=5)
    stray = tmp_path / "live.db.before-restore-20260304-050607-wal"
    stray.write_bytes(b"someone's -wal")
    from datetime import UTC, datetime

    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    result = restore_backup(backup, live, now=when)
    assert result.previous == tmp_path / "live.db.before-restore-20260304-050607-2"
    assert stray.read_bytes() == b"someone's -wal" and count(result.previous) == 5


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_byte_in_plain_backup_is_refused(tmp_path: Path) -> None:
    make_db(tmp_path / "source.db", rows=20)
    backup = create_backup(tmp_path / "source.db", tmp_path / "bk" / "b.db").path
    # The checksum file is one that coreutils itself verifies.
    ok = subprocess.run(
        ["sha256sum", "-c", "b.db.sha256"], cwd=backup.parent, capture_output=True, text=True
    )
    assert ok.returncode == 0 and "b.db: OK" in ok.stdout
    # Flip one bit inside a row's text: SQLite's integrity_check cannot see this.
    offset = backup.read_bytes().index(b"note 13")
    flip(backup, offset + 5)
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    bad = subprocess.run(["sha256sum", "-c", "b.db.sha256"], cwd=backup.parent, capture_output=True)
    assert bad.returncode != 0

    make_db(live := tmp_path / "live.db", rows=7)
    before = snapshot(tmp_path)
    for unverified in (False, True):  # --unverified never overrides a wrong checksum
        with pytest.raises(BackupError, match="does not match its checksum") as info:
            restore_backup(backup, live, unverified=unverified)
        assert "damaged" in str(info.value) and "Nothing was changed" in str(info.value)
    assert snapshot(tmp_path) == before and count(live) == 7
    # A flipped byte in the header (which would make it look encrypted) is caught the same way.
    flip(backup, offset + 5)
    flip(backup, 3)
    with pytest.raises(BackupError, match="does not match its checksum"):
        restore_backup(backup, live)


def test_cli_flipped_byte_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": "fb.db", "BACKUP_DIR": "bk"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    made = familybot(tmp_path, "backup", "b.db", env=env)
    assert made.returncode == 0 and "b.db.sha256" in made.stdout
    flip(tmp_path / "b.db", 5000)
    before = (tmp_path / "fb.db").read_bytes()
    result = familybot(tmp_path, "restore", "b.db", env=env)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "does not match its checksum" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "fb.db").read_bytes() == before
    assert not list(tmp_path.glob("fb.db.before-restore-*"))


def test_damaged_checksum_file_is_refused(tmp_path: Path) -> None:
    make_db(tmp_path / "source.db", rows=3)
    backup = create_backup(tmp_path / "source.db", tmp_path / "b.db").path
    Path(f"{backup}.sha256").write_text("not a checksum\n")
    make_db(live := tmp_path / "live.db", rows=7)
    with pytest.raises(BackupError, match=r"checksum file .* is damaged"):
        restore_backup(backup, live)
    assert count(live) == 7


def old_familybot_backup(tmp_path: Path) -> Path:
    """A plain backup as FamilyBot made them before marks and checksums."""
    env = {"DATABASE_PATH": "old.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    old = tmp_path / "familybot-20250101-030000.db"
    src = sqlite3.connect(tmp_path / "old.db")
    dst = sqlite3.connect(old)
    src.backup(dst)
    dst.execute("PRAGMA application_id = 0")
    dst.execute("PRAGMA journal_mode = DELETE")
    dst.commit()
    dst.close()
    src.close()
    (tmp_path / "old.db").unlink()
    return old


def test_old_backup_needs_unverified_then_is_restored_and_marked(tmp_path: Path) -> None:
    old = old_familybot_backup(tmp_path)
    env = {"DATABASE_PATH": "fb.db"}
    assert familybot(tmp_path, "migrate", env=env).returncode == 0
    before = (tmp_path / "fb.db").read_bytes()
    refused = familybot(tmp_path, "restore", old.name, env=env)
    assert refused.returncode == 1 and "--unverified" in refused.stderr
    assert "no checksum file" in refused.stderr and refused.stderr.count("\n") == 1
    assert (tmp_path / "fb.db").read_bytes() == before
    # An old backup that somehow has a checksum still lacks the mark: --unverified again.
    sha256sum_file(old)
    refused = familybot(tmp_path, "restore", old.name, env=env)
    assert refused.returncode == 1 and "no FamilyBot mark" in refused.stderr
    assert "--unverified" in refused.stderr
    Path(f"{old}.sha256").unlink()

    ok = familybot(tmp_path, "restore", old.name, "--unverified", env=env)
    assert ok.returncode == 0, ok.stderr
    assert header_application_id(tmp_path / "fb.db") == FBOT


def test_old_encrypted_backup_restores_with_unverified(tmp_path: Path) -> None:
    old = old_familybot_backup(tmp_path)
    key = new_key()
    from cryptography.fernet import Fernet

    sealed = tmp_path / "old.db.enc"
    sealed.write_bytes(Fernet(key.encode()).encrypt(old.read_bytes()))
    live = tmp_path / "live.db"
    make_db(live, rows=2)
    with pytest.raises(BackupError, match="no FamilyBot mark"):
        restore_backup(sealed, live, key)
    assert count(live) == 2
    restore_backup(sealed, live, key, unverified=True)
    assert header_application_id(live) == FBOT


def test_new_encrypted_backup_needs_no_checksum_file_and_rejects_a_flip(tmp_path: Path) -> None:
    make_db(tmp_path / "source.db", rows=4)
    key = new_key()
    backup = create_backup(tmp_path / "source.db", tmp_path / "b.db.enc", key).path
    assert not Path(f"{backup}.sha256").exists()
    make_db(live := tmp_path / "live.db", rows=9)
    assert restore_backup(backup, live, key).previous is not None and count(live) == 4
    flip(backup, len(backup.read_bytes()) // 2)
    with pytest.raises(BackupError, match="does not open"):
        restore_backup(backup, live, key)
    assert count(live) == 4


def test_backup_of_an_unmarked_familybot_database_is_marked(tmp_path: Path) -> None:
    # Backed up after upgrading FamilyBot but before its next start: the copy is marked.
    old = old_familybot_backup(tmp_path)
    made = create_backup(old, tmp_path / "new.db").path
    assert header_application_id(made) == FBOT and header_application_id(old) == 0
    digest = hashlib.sha256(made.read_bytes()).hexdigest()
    assert Path(f"{made}.sha256").read_text() == f"{digest}  new.db\n"


def test_prune_removes_checksum_files_with_their_backups(tmp_path: Path) -> None:
    for day in (1, 2, 3):
        (tmp_path / f"familybot-2026010{day}-030000.db").write_text("x")
        (tmp_path / f"familybot-2026010{day}-030000.db.sha256").write_text("y")
    prune_backups(tmp_path, 1)
    assert sorted(os.listdir(tmp_path)) == [
        "familybot-20260103-030000.db",
        "familybot-20260103-030000.db.sha256",
    ]


def test_a_restore_stopped_before_the_swap_leaves_the_database_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill or power cut between the steps: DATABASE_PATH still holds a whole database
    (it used to be moved away first, so the next start made an empty one)."""
    make_db(tmp_path / "source.db", rows=3)
    backup = create_backup(tmp_path / "source.db", tmp_path / "b.db").path
    make_db(live := tmp_path / "live.db", rows=7)
    real_replace = os.replace

    def stopped_at_the_swap(src: object, dst: object) -> None:
        if Path(str(dst)) == live:
            raise KeyboardInterrupt  # the process dies here
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("familybot.backup.os.replace", stopped_at_the_swap)
    with pytest.raises(KeyboardInterrupt):
        restore_backup(backup, live)
    assert count(live) == 7  # still the current database, whole
    (kept,) = tmp_path.glob("live.db.before-restore-*")
    assert count(kept) == 7
    monkeypatch.setattr("familybot.backup.os.replace", real_replace)
    restore_backup(backup, live)  # and trying again works
    assert count(live) == 3


def test_a_kept_copy_with_its_wal_beside_it_is_refused_until_folded_in(tmp_path: Path) -> None:
    """A kept copy from `restore --force` may carry a -wal: restoring the main file alone
    would drop the changes in it, so restore says how to fold them in first."""
    make_db(kept := tmp_path / "kept.db", rows=5)
    writer = sqlite3.connect(kept)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.executemany("INSERT INTO notes (body) VALUES (?)", [("late",)] * 50)
    writer.commit()
    wal = tmp_path / "kept.db-wal"
    assert wal.stat().st_size > 0
    make_db(live := tmp_path / "live.db", rows=7)
    before = snapshot(tmp_path)
    with pytest.raises(BackupError, match="wal_checkpoint"):
        restore_backup(kept, live, unverified=True)
    writer.close()  # closing the last connection folds the -wal in (as the hint's command does)
    assert snapshot(tmp_path).keys() >= {"live.db"} and count(live) == 7
    assert before["live.db"] == snapshot(tmp_path)["live.db"]
    restore_backup(kept, live, unverified=True)
    assert count(live) == 55
