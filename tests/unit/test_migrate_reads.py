"""Starting on an up-to-date database reads no migration file (issue 15: a start after a
reboot reads every file from the disk: 21 reads of SQL that is not applied); a new
database still reads and applies them all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from familybot.db.migrate import available_migrations

SCRIPT = """
import asyncio, json, sys
opened = []
sys.addaudithook(lambda event, args: event == "open" and str(args[0]).endswith(".sql")
                 and opened.append(str(args[0])))
from familybot.db.connection import Database
from familybot.db.migrate import migrate
async def main():
    db = await Database.connect(sys.argv[1])
    try:
        return [m.number for m in await migrate(db)]
    finally:
        await db.close()
applied = asyncio.run(main())
print(json.dumps({"applied": applied, "opened": [p.rsplit("/", 1)[-1] for p in opened]}))
"""


def _migrate(path: Path) -> dict[str, list[object]]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, text=True, check=True
    )
    result: dict[str, list[object]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_an_up_to_date_database_reads_no_migration_file(tmp_path: Path) -> None:
    db = tmp_path / "familybot.db"
    latest = available_migrations()[-1].number
    first = _migrate(db)
    assert first["applied"] == list(range(1, latest + 1))
    assert len(first["opened"]) == latest

    again = _migrate(db)

    assert again == {"applied": [], "opened": []}
