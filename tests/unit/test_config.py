from __future__ import annotations

from pathlib import Path

import pytest

from familybot.config import load_settings
from familybot.errors import ConfigError

GOOD_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "missing.env", environ={})
    assert s.discord_token is None
    assert s.database_path == Path("data/familybot.db")
    assert s.dev_guild_id is None
    assert s.log_level == "INFO"
    assert s.default_timezone == "UTC"


def test_env_file_then_environment_wins(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"DISCORD_TOKEN={GOOD_TOKEN}\nLOG_LEVEL=debug\nDEV_GUILD_ID=123\nDEFAULT_TIMEZONE=Europe/London\n"
    )
    s = load_settings(env, environ={"LOG_LEVEL": "WARNING"})
    assert s.require_token() == GOOD_TOKEN
    assert s.log_level == "WARNING"
    assert s.dev_guild_id == 123
    assert s.default_timezone == "Europe/London"


@pytest.mark.parametrize(
    "token", ["", "abc", "has spaces in it.aaaa.bbbbbbbbbbbbbbbbbbbbbbbbb", '"quoted"']
)
def test_missing_or_malformed_token_explains(tmp_path: Path, token: str) -> None:
    s = load_settings(tmp_path / "none", environ={"DISCORD_TOKEN": token})
    with pytest.raises(ConfigError) as info:
        s.require_token()
    assert "discord.com/developers/applications" in info.value.explanation
    assert "DISCORD_TOKEN=" in info.value.explanation


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DEV_GUILD_ID", "my server", "server id"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "IANA"),
        ("MESSAGE_CONTENT_INTENT", "maybe", "true or false"),
    ],
)
def test_bad_values_are_explained(tmp_path: Path, name: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(tmp_path / "none", environ={name: value})
