"""Time-zone search by the names people use, and what a typed name resolves to."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from familybot.services.setup.timezones import resolve_timezone, suggest_timezones

WINTER = datetime(2026, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("EST", "America/New_York"),
        ("eastern", "America/New_York"),
        ("Pacific", "America/Los_Angeles"),
        ("PST", "America/Los_Angeles"),
        ("india", "Asia/Kolkata"),
        ("IST", "Asia/Kolkata"),
        ("UK", "Europe/London"),
        ("Central Europe", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("bogot", "America/Bogota"),
        ("mexico", "America/Mexico_City"),
        ("US/Eastern", "America/New_York"),
        ("Asia/Calcutta", "Asia/Kolkata"),
    ],
)
def test_common_names_come_first(typed: str, first: str) -> None:
    assert suggest_timezones(typed, WINTER)[0].zone == first


def test_legacy_aliases_are_never_offered() -> None:
    offered = {
        s.zone
        for q in ("", "e", "es", "us", "gb", "gmt", "etc")
        for s in suggest_timezones(q, WINTER)
    }
    legacy = {z for z in offered if "/" not in z and z != "UTC"} | {
        z for z in offered if z.startswith(("US/", "Etc/", "SystemV/"))
    }
    assert not legacy, legacy


def test_labels_show_the_offset_in_force_then() -> None:
    (winter,) = [s for s in suggest_timezones("new york", WINTER) if s.zone == "America/New_York"]
    (summer,) = [s for s in suggest_timezones("new york", SUMMER) if s.zone == "America/New_York"]
    assert winter.label.endswith("UTC−05:00 now") and summer.label.endswith("UTC−04:00 now")
    kolkata = suggest_timezones("india", WINTER)[0]
    assert kolkata.label == "Asia/Kolkata · India · UTC+05:30 now"
    for s in suggest_timezones("a", WINTER):
        assert len(s.label) <= 100
        assert ZoneInfo(s.zone)  # every value is a usable zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("EST", "America/New_York"),  # what people mean, not the fixed UTC-5 zone
        ("  pacific ", "America/Los_Angeles"),
        ("US/Eastern", "America/New_York"),
        ("GB", "Europe/London"),
        ("Europe/Madrid", "Europe/Madrid"),
        ("america/new york", "America/New_York"),
        ("Mars/Base", None),
        ("", None),
    ],
)
def test_resolve(typed: str, zone: str | None) -> None:
    assert resolve_timezone(typed) == zone
