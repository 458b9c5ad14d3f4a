"""Light automod: what counts, who is exempt, and the case it leaves (a category, no text)."""

from __future__ import annotations

import pytest

from familybot.db.connection import Database
from familybot.services.moderation.automod import (
    MASS_MENTION_THRESHOLD,
    Violation,
    find_violation,
)
from familybot.services.safety.service import MessageOutcome
from tests.support.fakes import FakeClock
from tests.support.safety_fakes import FAC_ROLE, GROUP_CHANNEL, MODLOG, SafetyWorld, safety_world

INVITE = "come hang out at discord.gg/abc123 it's fun"


def _msg(content: str, mentions: int = 0, everyone: bool = False) -> Violation | None:
    from familybot.models.safety import SeenMessage

    return find_violation(
        SeenMessage(
            guild_id=1,
            guild_name="g",
            channel_id=2,
            message_id=3,
            author_id=4,
            content=content,
            mention_ids=frozenset(range(100, 100 + mentions)) | {4},  # self never counts
            mention_everyone=everyone,
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "discord.gg/abc123",
        "https://discord.gg/Abc-123",
        "see https://discord.com/invite/xyz",
        "http://discordapp.com/invite/xyz",
        "www.discord.gg / spaced",
    ],
)
def test_invite_links_are_found(text: str) -> None:
    assert _msg(text) is Violation.INVITE


@pytest.mark.parametrize(
    "text",
    [
        "our discord server is great",
        "https://discord.com/channels/1/2/3",  # a jump link is not an invite
        "the discord.gg domain is short",
        "https://example.org/invite/abc",
    ],
)
def test_ordinary_links_are_not_invites(text: str) -> None:
    assert _msg(text) is None


def test_mass_mentions_threshold_and_everyone() -> None:
    assert _msg("hi", mentions=MASS_MENTION_THRESHOLD - 1) is None
    assert _msg("hi", mentions=MASS_MENTION_THRESHOLD) is Violation.MASS_MENTIONS
    assert _msg("hi", everyone=True) is Violation.MASS_MENTIONS


async def _world(db: Database, clock: FakeClock) -> SafetyWorld:
    return await safety_world(db, clock, watch=False, automod=True)


async def test_an_invite_is_removed_with_a_note_and_a_case(db: Database, clock: FakeClock) -> None:
    w = await _world(db, clock)
    outcome = await w.send(INVITE, author=42)
    assert isinstance(outcome, MessageOutcome) and outcome.automod is not None
    ((channel, _message_id, reason),) = w.io.deleted
    assert channel == GROUP_CHANNEL and "automod" in reason and "abc123" not in reason
    ((user, note),) = w.port.dms
    assert user == 42 and "invite" in note.body and "isn't a punishment" in note.body
    row = await db.fetchone("SELECT * FROM mod_cases")
    assert row is not None
    assert (row["action"], row["actor_id"], row["target_id"]) == ("automod", 0, 42)
    assert row["reason"] == "Invite link" and row["status"] == "done" and row["dm"] == "sent"
    assert row["channel_id"] == GROUP_CHANNEL and row["modlog_message_id"] is not None
    ((modlog, entry),) = w.port.modlog
    assert modlog == MODLOG and entry.actor_id == 0 and entry.reason == "Invite link"
    assert "abc123" not in repr(entry)


async def test_mass_mentions_are_removed_and_closed_dms_are_recorded(
    db: Database, clock: FakeClock
) -> None:
    w = await _world(db, clock)
    w.port.closed_dms.add(42)
    await w.send("hey", author=42, mentions=frozenset(range(200, 206)))
    assert len(w.io.deleted) == 1
    row = await db.fetchone("SELECT reason, dm FROM mod_cases")
    assert row is not None and (row["reason"], row["dm"]) == ("Mass mentions", "closed")


async def test_facilitators_are_exempt(db: Database, clock: FakeClock) -> None:
    w = await _world(db, clock)
    await w.send(INVITE, author=42, roles=frozenset({FAC_ROLE}))
    assert not w.io.deleted and await db.fetchval("SELECT COUNT(*) FROM mod_cases") == 0


async def test_without_manage_messages_nothing_is_done(db: Database, clock: FakeClock) -> None:
    w = await _world(db, clock)
    w.io.manage_messages = False
    outcome = await w.send(INVITE)
    assert isinstance(outcome, MessageOutcome) and outcome.automod is not None
    assert not outcome.automod.removed and outcome.automod.case is None
    assert not w.io.deleted and not w.port.dms
    assert await db.fetchval("SELECT COUNT(*) FROM mod_cases") == 0


async def test_a_refused_delete_is_a_failed_case_and_no_note(
    db: Database, clock: FakeClock
) -> None:
    w = await _world(db, clock)
    w.io.delete_fails = True
    await w.send(INVITE)
    assert not w.port.dms
    row = await db.fetchone("SELECT status, dm FROM mod_cases")
    assert row is not None and (row["status"], row["dm"]) == ("failed", None)


async def test_off_or_outside_group_channels_nothing_happens(
    db: Database, clock: FakeClock
) -> None:
    w = await _world(db, clock)
    await w.send(INVITE, channel=GROUP_CHANNEL + 1)
    await db.execute("UPDATE guild_settings SET automod = 0")
    await w.send(INVITE)
    assert not w.io.deleted and await db.fetchval("SELECT COUNT(*) FROM mod_cases") == 0
