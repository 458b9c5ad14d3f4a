"""The facilitator views' rendering stays inside Discord's limits, however big the group."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from familybot.models import Group, GroupStatus, JoinMode, SeriesStatus, SessionSeries
from familybot.models.facilitator_views import GroupStats, RsvpRoster, SessionFigures
from familybot.models.sessions import Occurrence
from familybot.ui.facilitator import chart_alt_text, per_session_embed, rsvp_embeds, stats_text

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
GROUP = Group(
    id=1,
    guild_id=1,
    name="Parents Circle @everyone",
    description="d",
    focus="f",
    capacity=None,
    join_mode=JoinMode.OPEN,
    guidelines="g",
    guidelines_version=1,
    role_id=None,
    channel_id=None,
    status=GroupStatus.ACTIVE,
    created_by=1,
    created_at=NOW,
    archived_at=None,
)
SERIES = SessionSeries(
    id=7,
    group_id=1,
    guild_id=1,
    title="Weekly check-in " + "x" * 90,
    tz="America/New_York",
    first_local=datetime(2026, 1, 1, 18),
    repeat="weekly",
    duration_minutes=90,
    voice_channel_id=None,
    status=SeriesStatus.ACTIVE,
    created_by=1,
    planned_until=NOW,
    next_due=None,
)


def test_long_rsvp_lists_split_within_discords_embed_limits() -> None:
    base = 10**18  # snowflake-sized ids: the longest mentions
    going = [base + i for i in range(150)]
    unanswered = [base + 1000 + i for i in range(700)]
    roster = RsvpRoster(
        SERIES,
        GROUP,
        Occurrence("2026-12-03", NOW, NOW + timedelta(hours=1)),
        going=going,
        maybe=[],
        cant=[base + 5000],
        unanswered=unanswered,
        former=2,
    )
    embeds = rsvp_embeds(roster)
    assert len(embeds) > 1
    seen: list[int] = []
    for embed in embeds:
        data = embed.to_dict()
        assert len(embed) <= 6000 and len(data.get("fields", [])) <= 25
        assert len(data["title"]) <= 256 and len(data.get("description", "")) <= 4096
        for field in data.get("fields", []):
            assert len(field["name"]) <= 256 and len(field["value"]) <= 1024
            seen += [int(x) for x in re.findall(r"<@(\d+)>", field["value"])]
    # Everyone is listed exactly once, nobody is cut off.
    assert sorted(seen) == sorted([*going, base + 5000, *unanswered])
    first = embeds[0].to_dict()
    assert "Going 150 · Maybe 0 · Can't make it 1 · Not answered 700" in first["description"]
    assert "2 replies from people who have since left" in first["description"]
    assert "@everyone" not in first["description"]  # the group's name is defused
    names = [f["name"] for e in embeds for f in e.to_dict().get("fields", [])]
    assert "Maybe (0)" in names and "Not answered yet (700), continued" in names


def test_stats_text_and_alternatives_fit() -> None:
    sessions = [
        SessionFigures(7, f"k{i}", "t", NOW, date(2026, 1, 1) + timedelta(weeks=i), 3, 1, 0, i % 4)
        for i in range(52)
    ]
    stats = GroupStats(GROUP, 52, NOW - timedelta(weeks=52), NOW, sessions, 39, 9, 4, 3, 78)
    text = stats_text(stats)
    assert len(text) <= 2000
    assert "Average attendance: 2 per session (over the 39 sessions with attendance taken)" in text
    assert "Retention: 3 of the 4 who joined in this period are still members (75%)" in text
    assert "Seats: no limit" in text
    alt = chart_alt_text(stats)
    assert len(alt) <= 1024 and "52 sessions" in alt and "Parents" not in alt
    table = per_session_embed(stats).to_dict()["description"]
    assert len(table) <= 4096 and len(table.splitlines()) == 52
