"""`familybot check` on PostgreSQL: backend and version, the pg_trgm extension (there, or
missing and who may create it), and whether pg_dump can back the server up."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from familybot import backup_pg
from familybot.cli.check import _check_database
from familybot.config import load_settings
from tests.support import backends


@pytest.fixture
async def pg_name() -> AsyncIterator[str]:
    if "postgres" not in backends.backends():
        pytest.skip("PostgreSQL variants not selected (FAMILYBOT_TEST_BACKENDS)")
    name = await backends.SERVER.fresh_database()
    try:
        yield name
    finally:
        await backends.SERVER.drop(name)


async def _check(tmp_path: Path, url: str) -> str:
    settings = load_settings(tmp_path / "none.env", environ={"DATABASE_URL": url})
    ok, lines = await _check_database(settings)
    assert ok, lines
    return "\n".join(lines)


async def _as_superuser(name: str, sql: str) -> None:
    conn = await asyncpg.connect(backends.url_for(name))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _url_as(name: str, user: str) -> str:
    parts = urlsplit(backends.url_for(name))
    host = parts.hostname or "127.0.0.1"
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def test_check_reports_version_extension_and_backup_tool(
    tmp_path: Path, pg_name: str
) -> None:
    text = await _check(tmp_path, backends.url_for(pg_name))
    assert "Backend: PostgreSQL 1" in text
    assert "Extension pg_trgm 1." in text and "installed" in text
    if shutil.which("pg_dump"):
        assert "Backups: pg_dump 1" in text and "can back up this server" in text
    else:  # a machine with the server's address but without the client tools
        assert "⚠ Backups: pg_dump is not installed" in text


async def test_a_missing_extension_says_whether_this_user_may_create_it(
    tmp_path: Path, pg_name: str
) -> None:
    await _as_superuser(pg_name, "DROP EXTENSION pg_trgm CASCADE")
    text = await _check(tmp_path, backends.url_for(pg_name))
    assert "PostgreSQL extension pg_trgm is missing" in text
    admin = urlsplit(backends.admin_url()).username
    assert f"the database user {admin} may create it: run `familybot migrate`" in text

    role = f"fbt_role_{uuid.uuid4().hex[:8]}"
    await _as_superuser(pg_name, f"CREATE ROLE {role} LOGIN")
    try:
        await _as_superuser(pg_name, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        text = await _check(tmp_path, _url_as(pg_name, role))
        assert f"the database user {role} may not create it" in text
        assert "needs the CREATE privilege on the database" in text
        assert f"Ask the database owner to run CREATE EXTENSION pg_trgm; in {pg_name}" in text
        await _as_superuser(pg_name, f'GRANT CREATE ON DATABASE "{pg_name}" TO {role}')
        text = await _check(tmp_path, _url_as(pg_name, role))
        assert f"the database user {role} may create it" in text  # pg_trgm is trusted
    finally:
        await backends.SERVER.drop(pg_name)
        await _as_superuser("postgres", f"DROP ROLE IF EXISTS {role}")


async def test_check_says_what_to_install_without_pg_dump(
    tmp_path: Path, pg_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_pg, "SEARCH_DIRS", [])
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    text = await _check(tmp_path, backends.url_for(pg_name))
    assert "⚠ Backups: pg_dump is not installed" in text
    assert "sudo apt install postgresql-client-1" in text


async def test_a_database_that_does_not_exist_is_a_setting_to_fix_not_a_server_to_wait_for(
    pg_name: str,
) -> None:
    """`familybot run` waits for a server that is down (kind "down"); a wrong database name
    will not fix itself, so it stays a configuration error (kind None: exit status 2)."""
    from familybot.db.base import DatabaseUnavailable
    from familybot.db.postgres import PostgresDatabase

    with pytest.raises(DatabaseUnavailable) as wrong:
        await PostgresDatabase.open_url(backends.url_for(pg_name + "_missing"))
    assert wrong.value.kind is None and "does not exist" in str(wrong.value)


async def test_a_database_url_option_asyncpg_refuses_is_a_setting_to_fix(pg_name: str) -> None:
    """`?sslmode=bogus` once counted as the server down: `familybot run` waited for it forever,
    telling the operator to check that PostgreSQL was running."""
    from familybot.db.base import DatabaseUnavailable
    from familybot.db.postgres import PostgresDatabase

    with pytest.raises(DatabaseUnavailable) as wrong:
        await PostgresDatabase.open_url(backends.url_for(pg_name) + "?sslmode=bogus")
    assert wrong.value.kind is None and "sslmode" in str(wrong.value)


def test_a_cut_tls_handshake_is_the_server_down_a_refused_certificate_a_setting() -> None:
    import ssl

    from familybot.db.pg_errors import connect_error

    cut = connect_error(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), "db")
    assert cut is not None and cut.kind == "down"
    refused = connect_error(ssl.SSLCertVerificationError(1, "certificate verify failed"), "db")
    assert refused is not None and refused.kind is None
