"""Crisis lines: the shipped file, the loader's checks, regions and stale entries."""

from __future__ import annotations

from datetime import date

import pytest

from familybot.cli.check import check_crisis_lines
from familybot.models.crisis import CrisisLine
from familybot.services.crisis.service import (
    COLUMNS,
    CrisisDataError,
    CrisisDirectory,
    months_before,
    parse_crisis_lines,
    shipped_text,
)

HEADER = ",".join(COLUMNS)
GOOD = "US,988 Lifeline,Call or text 988,call;text,24/7,,https://988lifeline.org,2026-11-01"


def names(lines: list[CrisisLine]) -> list[str]:
    return [line.name for line in lines]


def test_shipped_file_loads_and_has_what_the_issue_asks_for() -> None:
    directory = CrisisDirectory.load()
    all_text = " ".join(f"{x.name} {x.contact} {x.notes} {x.hours}" for x in directory.lines)
    for needle in ("988", "741741", "1-800-662-4357", "1-800-950-6264", "116 123", "9-8-8"):
        assert needle in all_text, needle
    assert "findahelpline.com" in all_text and "emergency number" in all_text
    assert all(line.source_url.startswith("https://") for line in directory.lines)
    assert all(line.verified == date(2026, 11, 27) for line in directory.lines)
    nami = next(x for x in directory.lines if x.name == "NAMI HelpLine")
    assert "Not a crisis line" in nami.notes and "Weekdays" in nami.hours
    samhsa = next(x for x in directory.lines if "SAMHSA" in x.name)
    assert "Spanish" in samhsa.notes and samhsa.hours == "24/7"


def test_lines_for_each_region() -> None:
    directory = CrisisDirectory.load()
    us = names(directory.lines_for("US"))
    assert us[0] == "988 Suicide & Crisis Lifeline" and "Crisis Text Line" in us
    assert us[-2:] == ["Emergency services", "Find a Helpline"]
    assert names(directory.lines_for(None)) == us  # no region chosen: the US lines
    uk = names(directory.lines_for("UK"))
    assert uk == ["Samaritans", "Emergency services", "Find a Helpline"]
    assert names(directory.lines_for("ie")) == uk
    assert names(directory.lines_for("CA"))[0] == "9-8-8 Suicide Crisis Helpline"
    assert names(directory.lines_for("OTHER")) == ["Emergency services", "Find a Helpline"]
    local = CrisisLine(region="UK", name="County team", contact="01234 567890")
    assert names(directory.lines_for("UK", [local])) == [
        "Samaritans",
        "County team",
        "Emergency services",
        "Find a Helpline",
    ]


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("MARS,X,Call 1,call,24/7,,https://x.org,2026-11-01", "region 'MARS'"),
        ("US,,Call 1,call,24/7,,https://x.org,2026-11-01", "name is empty"),
        ("US,X,Call 1,fax,24/7,,https://x.org,2026-11-01", "channels 'fax'"),
        ("US,X,Call 1,call,24/7,,http://x.org,2026-11-01", "source_url must be an https"),
        ("US,X,see http://x.org,call,24/7,,https://x.org,2026-11-01", "only https"),
        ("US,X,Call 1,call,24/7,,https://x.org,01/11/2026", "not a date"),
        ("US,X,Call 1,call,24/7,,https://x.org", "expected 8 columns"),
        ("US,X,Call 1,call,24/7,,https://x.org,2026-11-01,extra", "expected 8 columns"),
    ],
)
def test_malformed_rows_are_rejected_with_their_line_number(row: str, fragment: str) -> None:
    text = f"{HEADER}\n{GOOD}\n\n{row}\n"
    with pytest.raises(CrisisDataError) as info:
        parse_crisis_lines(text)
    assert "line 4" in str(info.value) and fragment in str(info.value)


def test_bad_header_and_missing_default_region() -> None:
    with pytest.raises(CrisisDataError, match="line 1: the header"):
        parse_crisis_lines("region,name\nUS,x\n")
    with pytest.raises(CrisisDataError, match="no lines for the default region"):
        parse_crisis_lines(f"{HEADER}\n{GOOD.replace('US,', 'UK,', 1)}\n")


def test_stale_entries_use_an_explicit_today() -> None:
    text = (
        f"{HEADER}\n{GOOD}\n"
        "UK,Old line,Call 116 123,call,24/7,,https://www.samaritans.org,2026-05-26\n"
    )
    directory = CrisisDirectory.load(text)
    assert directory.stale(date(2026, 11, 26)) == []  # exactly six months: not yet stale
    assert names(directory.stale(date(2026, 11, 27))) == ["Old line"]
    assert names(directory.stale(date(2027, 6, 1))) == ["988 Lifeline", "Old line"]
    assert months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert months_before(date(2026, 3, 15), 6) == date(2025, 9, 15)


def test_check_command_warns_about_stale_lines() -> None:
    ok, lines = check_crisis_lines(date(2026, 11, 27))
    assert ok and lines == [f"✓ Crisis lines: {len(CrisisDirectory.load())} loaded"]
    ok, lines = check_crisis_lines(date(2027, 6, 28))
    assert ok and len(lines) == 1 + len(CrisisDirectory.load())
    assert "verified 2026-11-27, over 6 months ago" in lines[1] and "https://" in lines[1]
    ok, lines = check_crisis_lines(date(2026, 11, 27), text="nonsense\n")
    assert not ok and lines[0].startswith("✗ Crisis lines:")


def test_shipped_text_is_packaged() -> None:
    assert shipped_text().startswith(HEADER)
