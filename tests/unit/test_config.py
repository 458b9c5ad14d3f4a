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


def test_calendar_feed_settings(tmp_path: Path) -> None:
    """Off by default, on 127.0.0.1; when on, a public https address is required."""
    off = load_settings(tmp_path / "missing.env", environ={})
    assert not off.calendar_feed_enabled and off.calendar_feed_base_url is None
    assert (off.calendar_feed_host, off.calendar_feed_port) == ("127.0.0.1", 8765)
    on = load_settings(
        tmp_path / "missing.env",
        environ={
            "CALENDAR_FEED_ENABLED": "true",
            "CALENDAR_FEED_PORT": "9000",
            "CALENDAR_FEED_BASE_URL": "https://calendar.example.org/",
        },
    )
    assert on.calendar_feed_enabled and on.calendar_feed_port == 9000
    assert on.calendar_feed_base_url == "https://calendar.example.org"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"CALENDAR_FEED_ENABLED": "true"}, "CALENDAR_FEED_BASE_URL is not set"),
        ({"CALENDAR_FEED_PORT": "70000"}, "from 0 to 65535"),
        ({"CALENDAR_FEED_PORT": "http"}, "CALENDAR_FEED_PORT"),
        ({"CALENDAR_FEED_HOST": "my host"}, "CALENDAR_FEED_HOST"),
        ({"CALENDAR_FEED_BASE_URL": "http://calendar.example.org"}, "must start with https://"),
        ({"CALENDAR_FEED_BASE_URL": "calendar.example.org"}, "public address"),
        ({"CALENDAR_FEED_BASE_URL": "https://x.org/?a=1"}, "without ?query"),
    ],
)
def test_bad_calendar_feed_settings_are_one_clear_line(
    tmp_path: Path, env: dict[str, str], fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "missing.env", environ=env)
    assert fragment in caught.value.explanation and "\n" not in caught.value.explanation
