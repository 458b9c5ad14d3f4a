"""The `familybot` command line, as a new user meets it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from familybot.cli import check as cli_check
from familybot.cli import run as cli_run
from familybot.config import load_settings
from familybot.db.connection import Database
from familybot.permissions import permissions_value
from tests.support import backends
from tests.support.fake_discord import FakeDiscord, point_discord_py_at

GOOD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def familybot(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DATABASE_", "DEV_GUILD"))
    }
    return subprocess.run(
        [sys.executable, "-m", "familybot", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_token_explains_and_exits_2(tmp_path: Path) -> None:
    result = familybot(tmp_path, "run")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "discord.com/developers/applications" in result.stderr
    assert "DISCORD_TOKEN=paste-your-token-here" in result.stderr


def test_run_with_malformed_token_explains(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('DISCORD_TOKEN="not a token"\n')
    result = familybot(tmp_path, "run")
    assert result.returncode == 2
    assert "does not look like a bot token" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_is_explained(tmp_path: Path) -> None:
    result = familybot(tmp_path, "check", env={"DEFAULT_TIMEZONE": "Atlantis/Capital"})
    assert result.returncode == 2
    assert "IANA time zone" in result.stderr and "Traceback" not in result.stderr


def test_check_prints_invite_url_and_intents(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={GOOD_TOKEN}\n")
    result = familybot(tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    url = (
        "https://discord.com/oauth2/authorize?client_id=1100000000000000001"
        f"&scope=bot+applications.commands&permissions={permissions_value()}"
    )
    assert url in result.stdout
    assert "Manage Roles" in result.stdout and "Manage Channels" in result.stdout
    assert "needs no privileged intents" in result.stdout
    assert "integrity ok" in result.stdout
    assert GOOD_TOKEN not in result.stdout
    assert "enable '" not in result.stdout.split("Gateway intents:")[1]  # none asked for


def test_check_names_each_privileged_intent_the_config_turns_on(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={GOOD_TOKEN}\nMESSAGE_CONTENT_INTENT=true\nMEMBERS_INTENT=true\n"
    )
    result = familybot(tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    intents = result.stdout.split("Gateway intents:")[1]
    assert "enable 'Message Content Intent'" in intents
    assert "enable 'Server Members Intent'" in intents


def test_permissions_are_exactly_what_features_use() -> None:
    # View, Send, Embed, Read History, Manage Roles, Manage Channels, Manage Events (for
    # /setup events); /mod: Kick, Ban, Manage Messages (purge), Moderate Members (timeout);
    # reports and /ask: Create Private Threads, Send Messages in Threads, Mention Everyone (a
    # role mention is what brings the facilitators into a private thread); nothing like
    # Administrator.
    assert permissions_value() == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 28) | (
        1 << 4
    ) | (1 << 33) | (1 << 1) | (1 << 2) | (1 << 13) | (1 << 40) | (1 << 36) | (1 << 38) | (1 << 17)


async def test_migrate_then_check(tmp_path: Path, backend: str) -> None:
    if backend == "postgres":
        name = await backends.SERVER.empty_database()
        env = {"DATABASE_URL": backends.url_for(name)}
    else:
        env = {"DATABASE_PATH": "db/fb.sqlite"}
    try:
        result = await asyncio.to_thread(familybot, tmp_path, "migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert "applied 0001_foundation" in result.stdout
        if backend == "sqlite":
            assert (tmp_path / "db" / "fb.sqlite").exists()
        again = await asyncio.to_thread(familybot, tmp_path, "migrate", env=env)
        assert "applied" not in again.stdout and "schema version" in again.stdout
    finally:
        if backend == "postgres":
            await backends.SERVER.drop(name)


def test_application_id_from_token() -> None:
    assert cli_check.application_id_from_token(GOOD_TOKEN) == 1100000000000000001
    assert cli_check.application_id_from_token("!!!.x.y") is None


async def test_sigterm_shuts_down_cleanly(tmp_path: Path, backend: str) -> None:
    database = {"DATABASE_PATH": str(tmp_path / "fb.db")}
    if backend == "postgres":
        database["DATABASE_URL"] = backends.url_for(await backends.SERVER.clean_database())
    fake = FakeDiscord()
    await fake.start()
    undo = point_discord_py_at(fake)
    try:
        fake.add_guild("Family Support")
        settings = load_settings(
            tmp_path / "none.env", environ={"DISCORD_TOKEN": fake.token, **database}
        )
        run = asyncio.create_task(cli_run._run(settings, fake.token))
        await fake.wait_until_identified(timeout=10)
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(run, 10) == 0
        # The bot closed its gateway connection on the way out.
        assert not fake.connected
        # The database was closed cleanly and is intact.
        if backend == "postgres":  # every connection of the bot's pool closed
            conn = await asyncpg.connect(database["DATABASE_URL"])
            try:
                # A server process leaves the list a moment after its client said goodbye
                # (the test's own reset connection, just before): give it a few seconds.
                for _ in range(50):
                    others = await conn.fetchval(
                        "SELECT COUNT(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                    if others == 0:
                        break
                    await asyncio.sleep(0.1)
            finally:
                await conn.close()
            assert others == 0
        else:
            db = await Database.open(tmp_path / "fb.db")
            assert await db.fetchval("PRAGMA integrity_check") == "ok"
            await db.close()
    finally:
        undo()
        await fake.stop()


@pytest.mark.parametrize("args", [["--version"]])
def test_version(tmp_path: Path, args: list[str]) -> None:
    result = familybot(tmp_path, *args)
    assert result.returncode == 0 and "familybot 0.1.0" in result.stdout


def test_manage_roles_is_asked_for_to_open_a_channel_to_each_member_not_for_group_roles() -> None:
    # Groups have no role any more; Discord calls the permission to set a channel's
    # overwrites Manage Roles ("Manage Permissions" on a channel), so it stays, for that.
    from familybot.permissions import NEEDS

    reasons = {need.permission: need.reason for need in NEEDS}
    assert "group's role" not in reasons["manage_roles"]
    assert "private channel" in reasons["manage_roles"]
    assert "manage_channels" in reasons
