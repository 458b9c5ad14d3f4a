"""One duration parser for reminder times and moderation lengths."""

from __future__ import annotations

from datetime import timedelta

import pytest

from familybot.errors import UserFacingError
from familybot.services.moderation.durations import (
    ACCEPTED_FORMS,
    DurationError,
    parse_duration,
    parse_duration_list,
)
from familybot.services.sessions.options import parse_offsets

FORMS = {
    "90m": timedelta(minutes=90),
    "1h30m": timedelta(minutes=90),
    "1h 30m": timedelta(minutes=90),
    "1 hour 30 minutes": timedelta(minutes=90),
    "2 hours": timedelta(hours=2),
    "2hrs": timedelta(hours=2),
    "1.5h": timedelta(minutes=90),
    "1d": timedelta(days=1),
    "1 day 12 hours": timedelta(days=1, hours=12),
    "1w": timedelta(weeks=1),
    "2 Weeks": timedelta(weeks=2),
    "45 min": timedelta(minutes=45),
    "30": timedelta(minutes=30),
    "90s": timedelta(seconds=90),
}


@pytest.mark.parametrize(("text", "length"), sorted(FORMS.items()))
def test_accepted_forms(text: str, length: timedelta) -> None:
    assert parse_duration(text) == length


@pytest.mark.parametrize(
    "bad", ["", "soon", "0m", "5x", "h", "1h 2h", "30m 1h", "1 hour and", "-5m", "1e3m"]
)
def test_refusals_are_kind_and_list_the_forms(bad: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(bad)
    message = str(info.value)
    assert "more than zero" in message or ACCEPTED_FORMS in message


def test_reminders_and_moderation_accept_the_same_forms() -> None:
    """Each reminder in a list is read by the same parser as a /mod length."""
    for text in ("90m", "1h30m", "2 hours", "1d", "2hrs", "1.5h", "45 min"):
        minutes = round(parse_duration(text).total_seconds() / 60)
        assert parse_offsets(text) == (minutes,), text
    with pytest.raises(UserFacingError, match="90m, 1h30m, 2 hours, 1d or 1w"):
        parse_offsets("tomorrow")


def test_lists() -> None:
    assert parse_duration_list("24h, 1h") == [timedelta(hours=24), timedelta(hours=1)]
    assert parse_duration_list("2d 30m") == [timedelta(days=2), timedelta(minutes=30)]
    assert parse_duration_list("1h30m; 1w") == [timedelta(minutes=90), timedelta(weeks=1)]
