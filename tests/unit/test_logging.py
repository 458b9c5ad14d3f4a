"""Structured logs: one line per event, parseable, ids only; libraries that log secrets or
people's words at DEBUG stay at INFO even when LOG_LEVEL=DEBUG."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from familybot.config import load_settings
from familybot.errors import ConfigError
from familybot.logging_setup import NEVER_DEBUG, configure_logging, fields_of
from tests.e2e.harness import World, custom_ids
from tests.support.fake_discord import FakeDiscord
from tests.support.fixtures import fake_discord

__all__ = ["fake_discord"]

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} [A-Z]+ +[\w.]+: .*$")
REASON = "Spoke harshly to another parent about their son"
GROUP = "Parents Circle"
DESCRIPTION = "A weekly circle for parents of teens"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = (*NEVER_DEBUG, "apscheduler")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_debug_never_reaches_libraries_that_log_secrets(restore_logging: None) -> None:
    configure_logging("DEBUG", stream=io.StringIO())
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("familybot.bot").isEnabledFor(logging.DEBUG)
    for name in ("discord", "discord.http", "discord.gateway", "discord.client", "aiosqlite"):
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        assert logging.getLogger(name).isEnabledFor(logging.INFO), name
    assert not logging.getLogger("discord.webhook.async_").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
    configure_logging("ERROR", stream=io.StringIO())
    assert not logging.getLogger("discord.http").isEnabledFor(logging.WARNING)


def test_a_traceback_stays_on_its_events_line(restore_logging: None) -> None:
    for fmt in ("text", "json"):
        out = io.StringIO()
        configure_logging("INFO", fmt, stream=out)
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logging.getLogger("familybot.test").exception("job failed job=%d", 7)
        lines = out.getvalue().splitlines()
        assert len(lines) == 1, (fmt, lines)
        if fmt == "json":
            record = json.loads(lines[0])
            assert record["fields"] == {"job": 7}
            assert "ValueError: boom" in record["exception"]
        else:
            assert TEXT_LINE.match(lines[0]) and "ValueError: boom\\nsecond line" in lines[0]


def test_fields_are_the_messages_key_value_pairs() -> None:
    assert fields_of("audit action=mod.ban guild=12 actor=34 target=user:56 result=ok") == {
        "action": "mod.ban",
        "guild": 12,
        "actor": 34,
        "target": "user:56",
        "result": "ok",
    }
    assert fields_of("ready user=1, guilds=2") == {"user": 1, "guilds": 2}


def test_log_format_setting() -> None:
    assert load_settings(Path("/nonexistent.env"), environ={}).log_format == "text"
    env = {"LOG_FORMAT": "JSON"}
    assert load_settings(Path("/nonexistent.env"), environ=env).log_format == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        load_settings(Path("/nonexistent.env"), environ={"LOG_FORMAT": "xml"})


async def test_a_busy_session_logs_one_parseable_line_per_event_with_ids_only(
    fake_discord: FakeDiscord, tmp_path: Path, restore_logging: None
) -> None:
    out = io.StringIO()
    configure_logging("DEBUG", "json", stream=out)
    world = World(fake=fake_discord, tmp=tmp_path)
    world.populate()
    await world.start_bot()
    try:
        await world.configure()
        await world.run_to_end(
            world.facilitator,
            "group",
            "create",
            name=GROUP,
            description=DESCRIPTION,
            focus="parents",
            join_mode="open",
        )
        h = await world.run(world.alice, "group", "join", name=GROUP)
        (consent,) = custom_ids(h.callback)
        click = await world.fake.click(world.guild_id, world.alice, consent)
        await click.wait_response()
        await world.run_to_end(world.facilitator, "mod", "warn", member=world.bob, reason=REASON)
        await world.run(world.carol, "setup", "alerts", channel=world.alerts_channel)  # refused
        await world.run(world.admin, "setup", "show")
    finally:
        await world.stop_bot()

    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    ours = [r for r in records if not r["logger"].startswith("tests.")]
    assert any(r["message"].startswith("audit action=mod.warn") for r in ours)
    assert any(r["logger"] == "familybot.db.migrate" for r in ours)
    assert not [r for r in ours if r["level"] == "DEBUG" and r["logger"].startswith("discord")]
    user = fake_discord.users
    forbidden = [
        *(user[uid]["username"] for uid in (world.alice, world.bob, world.carol)),
        "Family Support",  # the server's name
        GROUP,
        DESCRIPTION,
        REASON,
        fake_discord.token,
    ]
    for record in ours:
        text = json.dumps(record)
        leaked = [word for word in forbidden if word.lower() in text.lower()]
        assert not leaked, f"{leaked} in a log line: {text[:300]}"


def test_text_is_the_default_and_writes_to_stderr(restore_logging: None) -> None:
    configure_logging("INFO")
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr


def test_rate_limit_warnings_name_no_member_or_group(restore_logging: None) -> None:
    """discord.py's own 429 warning names the request's URL; its ids must not reach the log."""
    out = io.StringIO()
    configure_logging("INFO", stream=out)
    channel, user, role, guild = 1100000000000000044, 1100000000000000010, 1100000000000000045, 9
    for url in (
        f"https://discord.com/api/v10/channels/{channel}/permissions/{user}",
        f"https://discord.com/api/v10/guilds/{guild}0000000000000000/members/{user}/roles/{role}",
    ):
        logging.getLogger("discord.http").warning(
            "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.",
            "PUT",
            url,
            1.5,
        )
    logged = out.getvalue()
    assert "responded with 429" in logged and "/permissions/{id}" in logged
    for value in (channel, user, role):
        assert str(value) not in logged
