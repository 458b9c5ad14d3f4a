"""The rule in words (one pure function) and the monthly week / end-date rules."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from familybot.services.sessions.recurrence import (
    Repeat,
    SeriesRule,
    monthly_week_of,
    next_occurrence,
    occurrences,
)
from familybot.services.sessions.series_rules import (
    describe_rule,
    fourth_is_last,
    parse_until,
    parse_week,
)

LONDON = "Europe/London"
NY = "America/New_York"


def rule(first: str, repeat: Repeat, tz: str = LONDON, **kw: object) -> SeriesRule:
    return SeriesRule(tz, datetime.fromisoformat(first), repeat, 60, **kw)  # type: ignore[arg-type]


def test_once_in_words() -> None:
    # 2 March 2027 is a Tuesday.
    assert (
        describe_rule(rule("2027-03-02T18:00", Repeat.ONCE, NY))
        == "once, on Tuesday 2 March 2027 at 18:00 (America/New_York)"
    )


def test_weekly_in_words() -> None:
    assert (
        describe_rule(rule("2027-03-02T18:00", Repeat.WEEKLY, NY))
        == "every week on Tuesday at 18:00 (America/New_York)"
    )


def test_biweekly_in_words() -> None:
    assert (
        describe_rule(rule("2027-03-02T18:00", Repeat.BIWEEKLY, NY))
        == "every other week on Tuesday at 18:00 (America/New_York)"
    )


def test_monthly_nth_in_words() -> None:
    # 9 March 2027 is the 2nd Tuesday.
    assert (
        describe_rule(rule("2027-03-09T18:00", Repeat.MONTHLY))
        == "every month on the 2nd Tuesday at 18:00 (Europe/London)"
    )


def test_monthly_last_with_until_in_words() -> None:
    # 25 March 2027 is both the 4th and the last Thursday of March.
    last = rule(
        "2027-03-25T19:30",
        Repeat.MONTHLY,
        monthly_week=-1,
        until_local=parse_until("2027-06-30"),
    )
    assert (
        describe_rule(last)
        == "every month on the last Thursday at 19:30 (Europe/London), until 30 June 2027"
    )
    fourth = rule("2027-03-25T19:30", Repeat.MONTHLY)
    assert describe_rule(fourth).startswith("every month on the 4th Thursday at 19:30")


def test_weekly_until_in_words() -> None:
    weekly = rule("2027-03-02T18:00", Repeat.WEEKLY, until_local=parse_until("2027-04-27"))
    assert describe_rule(weekly).endswith(", until 27 April 2027")


def test_fifth_weekday_is_called_last() -> None:
    # 30 March 2027 is the 5th Tuesday: the old derived rule meant "last".
    assert "the last Tuesday" in describe_rule(rule("2027-03-30T18:00", Repeat.MONTHLY))


def test_trap_detection() -> None:
    assert fourth_is_last(date(2027, 3, 25))  # 4th and last Thursday
    assert not fourth_is_last(date(2027, 4, 22))  # 4th Thursday; 29 April is the last
    assert not fourth_is_last(date(2027, 4, 29))  # 5th (last), not 4th


def test_last_and_fourth_differ_in_a_month_with_five() -> None:
    start = datetime(2027, 3, 1, tzinfo=UTC)
    end = datetime(2027, 8, 1, tzinfo=UTC)
    last = rule("2027-03-25T19:30", Repeat.MONTHLY, monthly_week=-1)
    fourth = rule("2027-03-25T19:30", Repeat.MONTHLY, monthly_week=4)
    derived = rule("2027-03-25T19:30", Repeat.MONTHLY)
    # April 2027 has five Thursdays (1, 8, 15, 22, 29); July too (1 … 29).
    assert [o.key for o in occurrences(last, start, end)] == [
        "2027-03-25",
        "2027-04-29",
        "2027-05-27",
        "2027-06-24",
        "2027-07-29",
    ]
    assert [o.key for o in occurrences(fourth, start, end)] == [
        "2027-03-25",
        "2027-04-22",
        "2027-05-27",
        "2027-06-24",
        "2027-07-22",
    ]
    assert [o.key for o in occurrences(derived, start, end)] == [
        o.key for o in occurrences(fourth, start, end)
    ]


def test_until_ends_the_series_inclusively() -> None:
    weekly = rule("2027-03-02T18:00", Repeat.WEEKLY, until_local=parse_until("2027-03-16"))
    found = occurrences(weekly, datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    assert [o.key for o in found] == ["2027-03-02", "2027-03-09", "2027-03-16"]
    assert next_occurrence(weekly, found[-1].start_utc) is None


def test_week_must_match_the_first_date() -> None:
    assert monthly_week_of(date(2027, 3, 25), -1)
    assert not monthly_week_of(date(2027, 3, 11), -1)
    with pytest.raises(ValueError):
        rule("2027-03-11T18:00", Repeat.MONTHLY, monthly_week=-1)
    with pytest.raises(ValueError):
        rule("2027-03-11T18:00", Repeat.WEEKLY, monthly_week=2)


def test_parsers() -> None:
    assert parse_week("last") == -1 and parse_week("2nd") == 2
    with pytest.raises(ValueError):
        parse_week("5th")
    assert parse_until("never") is None
    assert parse_until("2027-06-30") == datetime(2027, 6, 30, 23, 59)
    with pytest.raises(ValueError):
        parse_until("30/06/2027")
