"""The hierarchy and permission table for every /mod action, without Discord."""

from __future__ import annotations

from datetime import timedelta

import pytest

from familybot.services.moderation.durations import parse_duration
from familybot.services.moderation.rules import (
    ADMINISTRATOR,
    BOT_NEEDS,
    MEMBER_ACTIONS,
    NEEDS_BOT_ABOVE,
    Action,
    BotSelf,
    Person,
    check_timeout_length,
    refusal,
)

ALL_PERMS = (1 << 51) - 1
ACTOR = Person(user_id=10, top_position=5)  # a facilitator whose top role is at 5
BOT = BotSelf(user_id=99, top_position=8, permissions=ALL_PERMS & ~ADMINISTRATOR)
PLAIN = Person(user_id=20, top_position=1)

# (case, actor, target, bot, the refusal should mention...) for member actions.
MEMBER_TABLE = [
    ("plain member", ACTOR, PLAIN, BOT, None),
    ("yourself", ACTOR, Person(user_id=10, top_position=5), BOT, "yourself"),
    ("the bot", ACTOR, Person(user_id=99, top_position=8), BOT, "myself"),
    ("server owner", ACTOR, Person(user_id=30, top_position=0, is_owner=True), BOT, "owner"),
    ("admin", ACTOR, Person(user_id=31, top_position=2, is_admin=True), BOT, "admins"),
    ("equal role", ACTOR, Person(user_id=32, top_position=5), BOT, "same as or above yours"),
    ("higher role", ACTOR, Person(user_id=33, top_position=6), BOT, "same as or above yours"),
    (
        "owner acting on someone high",
        Person(user_id=1, top_position=0, is_owner=True),
        Person(user_id=34, top_position=7),
        BOT,
        None,
    ),
    (
        "bot lower than target",
        Person(user_id=1, top_position=0, is_owner=True),
        Person(user_id=35, top_position=8),
        BOT,
        "above mine",
    ),
    ("someone who left", ACTOR, Person(user_id=36, in_guild=False), BOT, None),
]


@pytest.mark.parametrize("action", sorted(MEMBER_ACTIONS))
@pytest.mark.parametrize(("case", "actor", "target", "bot", "expected"), MEMBER_TABLE)
def test_member_action_table(
    action: Action, case: str, actor: Person, target: Person, bot: BotSelf, expected: str | None
) -> None:
    if expected == "above mine" and action not in NEEDS_BOT_ABOVE:
        expected = None  # a warning or a note asks nothing of Discord's hierarchy
    result = refusal(action, actor, target, bot)
    if expected is None:
        assert result is None, case
    else:
        assert result is not None and expected in result, (case, result)


@pytest.mark.parametrize("action", list(Action))
def test_missing_bot_permission_is_refused_before_discord(action: Action) -> None:
    needed, names = BOT_NEEDS[action]
    target = PLAIN if action in MEMBER_ACTIONS | {Action.UNBAN} else None
    without = BotSelf(
        user_id=99, top_position=8, permissions=(ALL_PERMS & ~ADMINISTRATOR) & ~needed
    )
    result = refusal(action, ACTOR, target, without)
    if needed:
        assert result is not None and names in result
    else:
        assert result is None
    # Administrator on the bot's role covers everything.
    admin_bot = BotSelf(user_id=99, top_position=8, permissions=ADMINISTRATOR)
    assert refusal(action, ACTOR, target, admin_bot) is None


def test_unban_checks_only_identity_and_permission() -> None:
    gone = Person(user_id=40, in_guild=False)
    assert refusal(Action.UNBAN, ACTOR, gone, BOT) is None
    assert "yourself" in (refusal(Action.UNBAN, ACTOR, Person(user_id=10), BOT) or "")


def test_durations() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1d 12h") == timedelta(days=1, hours=12)
    assert parse_duration("2W") == timedelta(weeks=2)
    for bad in ("", "soon", "0m", "5x", "h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert check_timeout_length(timedelta(days=28)) is None
    assert "28 days" in (check_timeout_length(timedelta(days=28, seconds=1)) or "")
