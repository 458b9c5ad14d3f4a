"""A SQLite install never imports asyncpg or the PostgreSQL backend (issue 15: 20-45 ms of
start-up); a PostgreSQL URL still opens, importing them then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.backends import admin_url, backends

PG_MODULES = ("asyncpg", "familybot.db.postgres")


def _run(code: str, **env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_PATH")}
    environ.update(env)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environ
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_bot_cogs_and_cli_import_without_asyncpg() -> None:
    code = (
        "import importlib, json, sys, familybot.bot as bot, familybot.cli.main\n"
        "import familybot.db.migrate, familybot.wiring\n"
        "for name in bot.COGS: importlib.import_module(name)\n"
        f"print(json.dumps([m for m in {PG_MODULES!r} if m in sys.modules]))\n"
    )
    assert _run(code) == []


def test_opening_and_migrating_sqlite_leaves_asyncpg_out(tmp_path: Path) -> None:
    code = (
        "import asyncio, json, sys\n"
        "from familybot.db.connection import Database\n"
        "from familybot.db.migrate import migrate\n"
        "async def main():\n"
        f"    db = await Database.connect({str(tmp_path / 'f.db')!r})\n"
        "    applied = await migrate(db)\n"
        "    await db.close()\n"
        "    assert applied and not db.is_postgres\n"
        "asyncio.run(main())\n"
        f"print(json.dumps([m for m in {PG_MODULES!r} if m in sys.modules]))\n"
    )
    assert _run(code) == []


@pytest.mark.skipif("postgres" not in backends(), reason="PostgreSQL backend not selected")
def test_a_postgresql_url_still_opens_through_the_lazy_backend() -> None:
    code = (
        "import asyncio, json, sys\n"
        "from familybot.db.connection import Database, as_postgres\n"
        "before = 'asyncpg' in sys.modules\n"
        "async def main():\n"
        f"    db = await Database.connect({admin_url()!r})\n"
        "    try:\n"
        "        assert as_postgres(db) is db\n"
        "        return await db.fetchval('SELECT 41 + 1')\n"
        "    finally:\n"
        "        await db.close()\n"
        "value = asyncio.run(main())\n"
        "print(json.dumps([before, value]))\n"
    )
    try:
        before, value = _run(code)
    except subprocess.CalledProcessError as exc:
        if "DatabaseUnavailable" in exc.stderr:
            pytest.skip("no PostgreSQL server answers")
        raise
    assert (before, value) == (False, 42)
