"""`familybot resources import`: YAML or CSV, per-row errors, all-or-nothing, dry run."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

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
    assert "2 would be added, 0 already present" in dry.stdout
    done = familybot(tmp_path, "resources", "import", str(pack), "--guild", "1", env=env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "2 added, 0 already present" in done.stdout and count(db) == 2
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
    assert "pack.csv, row 2 (line 3):" in result.stderr and "https://" in result.stderr
    assert "pack.csv, row 3 (line 4):" in result.stderr and "title" in result.stderr
    assert "row 1 " not in result.stderr and "Nothing was imported" in result.stderr
    assert count(tmp_path / "fb.db") == 0


def test_import_needs_a_guild_and_a_known_format(tmp_path: Path) -> None:
    pack = tmp_path / "pack.txt"
    pack.write_text("x", encoding="utf-8")
    assert familybot(tmp_path, "resources", "import", str(pack), env=env(tmp_path)).returncode == 2
    wrong = familybot(tmp_path, "resources", "import", str(pack), "--guild", "1", env=env(tmp_path))
    assert wrong.returncode == 1 and ".csv" in wrong.stderr


def test_unknown_columns_and_duplicates_are_reported() -> None:
    from familybot.services.resources.importer import validate_rows

    rows: list[dict[str, object]] = [
        {"title": "A", "url": "https://example.org/", "category": "C", "description": "D"},
        {"title": "B", "url": "https://EXAMPLE.org", "category": "C", "description": "D"},
        {"title": "C", "url": "https://example.org/c", "category": "C", "description": "D", "x": 1},
    ]
    report = validate_rows(rows, allow_http=False)
    assert report.errors == ["row 2: same link as row 1", "row 3: unknown column(s) x"]


# --- hostile and broken files (issue 10, item 6) ------------------------------------------------
GOOD_ROWS_YAML = """\
  - title: Good one
    url: https://example.org/good
    category: Guides
    description: Fine.
"""
GOOD_ROW_CSV = "Good one,https://example.org/good,Guides,Fine\n"
HEADER = "title,url,category,description\n"

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
resources:
  - title: *i
    url: https://example.org/lol
    category: Guides
    description: Nine to the ninth.
"""

ROW_ALIAS = """\
resources:
  - &r
    title: One
    url: https://example.org/one
    category: Guides
    description: D
  - *r
"""


def _yaml(*rows: str) -> str:
    return "resources:\n" + GOOD_ROWS_YAML + "".join(rows)


# (file name, content, what the one error line must say: where, and a word of the problem)
BROKEN: list[tuple[str, str | bytes, str, str]] = [
    (
        "extra.csv",
        HEADER + GOOD_ROW_CSV + "Two,https://example.org/2,Guides,Fine,surprise,more\n",
        "row 2 (line 3)",
        "header names 4 columns",
    ),
    ("unknown.csv", "title,url,category,description,owner\n" + GOOD_ROW_CSV, "line 1", "owner"),
    ("twice.csv", "title,url,category,description,url\n", "line 1", "twice"),
    (
        "huge.csv",
        HEADER + GOOD_ROW_CSV + "Huge,https://example.org/h,Guides," + "x" * 200_000 + "\n",
        "row 2 (line 3)",
        "longer",
    ),
    (
        "long-title.csv",
        HEADER + GOOD_ROW_CSV + "T" * 5000 + ",https://example.org/t,Guides,Fine\n",
        "row 2 (line 3)",
        "150",
    ),
    (
        "missing.csv",
        HEADER + GOOD_ROW_CSV + "No link,,Guides,Fine\n",
        "row 2 (line 3)",
        "url can't be empty",
    ),
    ("nul.csv", HEADER + GOOD_ROW_CSV + "A,https://example.org/\x00,G,D\n", "line 3", "NUL"),
    (
        "latin1.csv",
        (HEADER + "Caf\xe9,https://example.org/c,G,D\n").encode("latin-1"),
        "line 2",
        "UTF-8",
    ),
    ("empty.csv", "", "empty.csv:", "empty"),
    (
        "number.yaml",
        _yaml("  - {title: 1984, url: https://example.org/n, category: G, description: D}\n"),
        "row 2 (line 6)",
        "quotes",
    ),
    (
        "norway.yaml",
        _yaml(
            "  - {title: T, url: https://example.org/no, category: G, description: D, language: no}\n"
        ),
        "row 2 (line 6)",
        "quotes",
    ),
    (
        "list.yaml",
        _yaml("  - {title: [a, b], url: https://example.org/l, category: G, description: D}\n"),
        "row 2 (line 6)",
        "not a list",
    ),
    (
        "python-tag.yaml",
        _yaml(
            "  - title: !!python/object/apply:os.system ['touch PWNED']\n    url: https://example.org/p\n    category: G\n    description: D\n"
        ),
        "row 2 (line 6)",
        "!!python/object/apply:os.system",
    ),
    (
        "python-name.yaml",
        _yaml(
            "  - !!python/object:os.Popen {title: T, url: https://example.org/q, category: G, description: D}\n"
        ),
        "row 2 (line 6)",
        "!!python/object:os.Popen",
    ),
    ("bomb.yaml", BILLION_LAUGHS, "line 2", "aliases"),
    ("row-alias.yaml", ROW_ALIAS, "line 7", "aliases"),
    (
        "deep.yaml",
        "resources:\n  - title: " + "[" * 50_000 + "]" * 50_000 + "\n",
        "line 2",
        "nest",
    ),
    (
        "nested.yaml",
        "resources:\n  - title: [[[[deep]]]]\n    url: https://example.org/n\n",
        "line 2",
        "nested too deeply",
    ),
    (
        "dup-key.yaml",
        _yaml(
            "  - {title: A, title: B, url: https://example.org/d, category: G, description: D}\n"
        ),
        "row 2 (line 6)",
        "twice",
    ),
    ("not-a-row.yaml", _yaml("  - just a sentence\n"), "row 2 (line 6)", "should be a resource"),
    (
        "missing.yaml",
        _yaml("  - {title: T, category: G, description: D}\n"),
        "row 2 (line 6)",
        "url can't be empty",
    ),
    ("shape.yaml", "title: not a list\n", "shape.yaml:", "list of resources"),
    ("syntax.yaml", "resources:\n  - title: [unclosed\n", "line 3", "valid YAML"),
    ("two-docs.yaml", "- {title: A}\n---\n- {title: B}\n", "line 2", "valid YAML"),
    (
        "bad-url-local.yaml",
        _yaml("  - {title: T, url: https://printer.local/, category: G, description: D}\n"),
        "row 2 (line 6)",
        "private network",
    ),
    (
        "bad-url-port.yaml",
        _yaml("  - {title: T, url: 'https://example.org:6379/', category: G, description: D}\n"),
        "row 2 (line 6)",
        "port 6379",
    ),
    (
        "bad-url-ip.csv",
        HEADER + GOOD_ROW_CSV + "T,https://169.254.169.254/,G,D\n",
        "row 2 (line 3)",
        "numeric address",
    ),
    (
        "bad-url-js.csv",
        HEADER + GOOD_ROW_CSV + "T,javascript:alert(1),G,D\n",
        "row 2 (line 3)",
        "https://",
    ),
]


@pytest.fixture(scope="session")
def seeded_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library holding one resource, imported once per session by the command itself;
    each test below works on its own copy (one `familybot` start per case, not two)."""
    where = tmp_path_factory.mktemp("seeded")
    seed = where / "seed.yaml"
    seed.write_text(_yaml(), encoding="utf-8")
    result = familybot(where, "resources", "import", str(seed), "--guild", "1", env=env(where))
    assert result.returncode == 0, result.stderr
    assert not Path(f"{where / 'fb.db'}-wal").exists()  # closed cleanly: one file holds it
    return where / "fb.db"


@pytest.mark.parametrize(
    ("name", "content", "where", "problem"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_a_broken_or_hostile_file_gets_one_line_per_problem_and_imports_nothing(
    tmp_path: Path, seeded_library: Path, name: str, content: str | bytes, where: str, problem: str
) -> None:
    # The library already holds one resource: it must come through untouched.
    db = tmp_path / "fb.db"
    shutil.copy2(seeded_library, db)
    before = count(db)
    pack = tmp_path / name
    if isinstance(content, bytes):
        pack.write_bytes(content)
    else:
        pack.write_text(content, encoding="utf-8")
    result = familybot(
        tmp_path, "resources", "import", str(pack), "--guild", "1", env=env(tmp_path)
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("✗ ")]
    assert len(errors) == 1, result.stderr
    assert lines[-1].startswith("Nothing was imported") and len(lines) == 2, result.stderr
    assert f"{pack}" in errors[0] and where in errors[0] and problem in errors[0], errors[0]
    assert count(db) == before == 1
    assert not (tmp_path / "PWNED").exists()


def test_importing_the_same_file_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(YAML, encoding="utf-8")
    db = tmp_path / "fb.db"
    args = ("resources", "import", str(pack), "--guild", "1")
    first = familybot(tmp_path, *args, env=env(tmp_path))
    assert first.returncode == 0 and "2 added, 0 already present" in first.stdout
    again = familybot(tmp_path, *args, env=env(tmp_path))
    assert again.returncode == 0, again.stderr
    assert "0 added, 2 already present" in again.stdout and count(db) == 2
    dry = familybot(tmp_path, *args, "--dry-run", env=env(tmp_path))
    assert "0 would be added, 2 already present" in dry.stdout
    # A grown pack adds only what is new; another server gets its own copy.
    pack.write_text(YAML + GOOD_ROWS_YAML, encoding="utf-8")
    grown = familybot(tmp_path, *args, env=env(tmp_path))
    assert "1 added, 2 already present" in grown.stdout and count(db) == 3
    other = familybot(tmp_path, "resources", "import", str(pack), "--guild", "2", env=env(tmp_path))
    assert "3 added, 0 already present" in other.stdout and count(db) == 6
    with sqlite3.connect(db) as conn:
        urls = conn.execute("SELECT url FROM resources WHERE guild_id = 1").fetchall()
    assert sorted(u for (u,) in urls) == [
        "https://example.org/good",
        "https://example.org/iop",
        "https://www.crisistextline.org/",
    ]


def test_a_csv_and_a_yaml_with_the_same_links_count_as_present(tmp_path: Path) -> None:
    csv_pack = tmp_path / "pack.csv"
    csv_pack.write_text(HEADER + "Good,HTTPS://Example.ORG/good,Guides,Fine\n", encoding="utf-8")
    yaml_pack = tmp_path / "pack.yaml"
    yaml_pack.write_text(_yaml(), encoding="utf-8")
    assert (
        "1 added"
        in familybot(
            tmp_path, "resources", "import", str(csv_pack), "--guild", "1", env=env(tmp_path)
        ).stdout
    )
    second = familybot(
        tmp_path, "resources", "import", str(yaml_pack), "--guild", "1", env=env(tmp_path)
    )
    assert "0 added, 1 already present" in second.stdout and count(tmp_path / "fb.db") == 1
