"""`familybot resources import`: YAML or CSV, per-row errors, all-or-nothing, dry run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import familybot

YAML = """\
resources:
  - title: Crisis text line
    url: https://www.crisistextline.org/
    category: Crisis support
    description: Text HOME to 741741 any time, day or night.
    region: US
    language: English
    audience: Anyone
  - title: Understanding IOP
    url: https://example.org/iop
    category: Guides
    description: What intensive outpatient programs do.
"""

CSV = """\
title,url,category,description,region
Good one,https://example.org/ok,Guides,Fine,UK
Bad link,javascript:alert(1),Guides,Nope,
,https://example.org/x,Guides,Missing title,
"""


def count(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM resources").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def env(tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_PATH": str(tmp_path / "fb.db")}


def test_yaml_dry_run_then_import(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(YAML, encoding="utf-8")
    db = tmp_path / "fb.db"
    dry = familybot(
        tmp_path, "resources", "import", str(pack), "--dry-run", "--guild", "1", env=env(tmp_path)
    )
    assert dry.returncode == 0, dry.stderr
    assert "All 2 resources are valid" in dry.stdout and count(db) == 0
    done = familybot(tmp_path, "resources", "import", str(pack), "--guild", "1", env=env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "Imported 2" in done.stdout and count(db) == 2
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT status, vetted_at, review_due_at, region FROM resources ORDER BY id"
        ).fetchone()
    assert row[0] == "approved" and row[1] is not None and row[2] > row[1] and row[3] == "US"


def test_csv_with_bad_rows_writes_nothing(tmp_path: Path) -> None:
    pack = tmp_path / "pack.csv"
    pack.write_text(CSV, encoding="utf-8")
    result = familybot(
        tmp_path, "resources", "import", str(pack), "--guild", "1", env=env(tmp_path)
    )
    assert result.returncode == 1
    assert "row 2:" in result.stderr and "https://" in result.stderr
    assert "row 3:" in result.stderr and "title" in result.stderr
    assert "row 1:" not in result.stderr and "Nothing was imported" in result.stderr
    assert count(tmp_path / "fb.db") == 0


def test_import_needs_a_guild_and_a_known_format(tmp_path: Path) -> None:
    pack = tmp_path / "pack.txt"
    pack.write_text("x", encoding="utf-8")
    assert familybot(tmp_path, "resources", "import", str(pack), env=env(tmp_path)).returncode == 2
    wrong = familybot(tmp_path, "resources", "import", str(pack), "--guild", "1", env=env(tmp_path))
    assert wrong.returncode == 1 and ".csv" in wrong.stderr


def test_unknown_columns_and_duplicates_are_reported() -> None:
    from familybot.services.resource_import import validate_rows

    rows: list[dict[str, object]] = [
        {"title": "A", "url": "https://example.org/", "category": "C", "description": "D"},
        {"title": "B", "url": "https://EXAMPLE.org", "category": "C", "description": "D"},
        {"title": "C", "url": "https://example.org/c", "category": "C", "description": "D", "x": 1},
    ]
    report = validate_rows(rows, allow_http=False)
    assert report.errors == ["row 2: same link as row 1", "row 3: unknown column(s) x"]
