"""Pure rules of `/session edit` (the split and the pairing) and of the Events mirror's
recurrence (what Discord can show truly)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from familybot.models import OccurrenceOverride, SeriesStatus, SessionSeries
from familybot.models.sessions import Occurrence
from familybot.services.sessions.event_specs import discord_expansion, discord_recurrence
from familybot.services.sessions.recurrence import Repeat, SeriesRule, occurrences
from familybot.services.sessions.series_edit import EditRefused, RuleChange, nth_weekday, plan_edit

NY = "America/New_York"
# Tuesday 2 March 2027, 18:00 New York, weekly.
WEEKLY = SeriesRule(NY, datetime(2027, 3, 2, 18), Repeat.WEEKLY, 90)
# Monday 8 March 2027, 12:00 UTC: the 2 March session is past, 9 March is next.
NOW = datetime(2027, 3, 8, 12, tzinfo=UTC)


def test_time_change_keeps_the_past_and_pairs_every_upcoming_session() -> None:
    plan = plan_edit(WEEKLY, RuleChange(start_time=time(19)), NOW)
    assert plan.old_until == datetime(2027, 3, 2, 18)  # the last session that started
    assert plan.new_rule.first_local == datetime(2027, 3, 9, 19)
    assert plan.pairs[0].old.key == "2027-03-09" and plan.pairs[0].new_key == "2027-03-09"
    assert all(p.new_rule_start - p.old.start_utc == timedelta(hours=1) for p in plan.pairs)
    assert plan.unpaired == []


def test_day_change_pairs_by_order_in_the_same_week() -> None:
    plan = plan_edit(WEEKLY, RuleChange(weekday=3), NOW)  # Thursday
    assert [(p.old.key, p.new_key) for p in plan.pairs[:3]] == [
        ("2027-03-09", "2027-03-11"),
        ("2027-03-16", "2027-03-18"),
        ("2027-03-23", "2027-03-25"),
    ]


def test_day_change_to_an_earlier_day_already_past_moves_on_a_period() -> None:
    # Monday 8 March 18:00 has not passed at 12:00 UTC, Sunday 7 March has.
    assert plan_edit(WEEKLY, RuleChange(weekday=0), NOW).new_rule.first_local.date().day == 8
    plan = plan_edit(WEEKLY, RuleChange(weekday=6), NOW)
    assert plan.new_rule.first_local == datetime(2027, 3, 14, 18)


def test_until_ends_sooner_and_leaves_sessions_without_a_partner() -> None:
    until = datetime(2027, 3, 23, 23, 59)
    plan = plan_edit(WEEKLY, RuleChange(until=until), NOW)
    assert [p.new_key for p in plan.pairs] == ["2027-03-09", "2027-03-16", "2027-03-23"]
    assert plan.unpaired[0].key == "2027-03-30"
    with pytest.raises(EditRefused):
        plan_edit(WEEKLY, RuleChange(until=datetime(2027, 3, 1, 23, 59)), NOW)


def test_repeat_change_pairs_only_the_next_session() -> None:
    plan = plan_edit(WEEKLY, RuleChange(repeat=Repeat.MONTHLY), NOW)
    # 9 March 2027 is the 2nd Tuesday: monthly on the 2nd Tuesday from then on.
    assert plan.new_rule.monthly_week == 2
    assert [(p.old.key, p.new_key) for p in plan.pairs] == [("2027-03-09", "2027-03-09")]
    assert plan.unpaired[0].key == "2027-03-16"
    with pytest.raises(EditRefused):
        plan_edit(WEEKLY, RuleChange(week=-1), NOW)  # week is for monthly series


def test_monthly_week_last_and_nth_weekday() -> None:
    monthly = SeriesRule("Europe/London", datetime(2027, 3, 25, 19, 30), Repeat.MONTHLY, 60)
    plan = plan_edit(monthly, RuleChange(week=-1), datetime(2027, 3, 20, tzinfo=UTC))
    keys = [o.key for o in occurrences(plan.new_rule, NOW, NOW + timedelta(days=85))]
    assert keys == ["2027-03-25", "2027-04-29", "2027-05-27"]  # April: the 5th Thursday
    assert nth_weekday(2027, 4, 3, 4).day == 22 and nth_weekday(2027, 2, 0, -1).day == 22


def test_zone_change_keeps_the_clock_time() -> None:
    plan = plan_edit(WEEKLY, RuleChange(tz="Europe/London"), NOW)
    assert plan.new_rule.first_local == datetime(2027, 3, 9, 18)
    assert plan.pairs[0].new_rule_start == datetime(2027, 3, 9, 18, tzinfo=UTC)


def test_a_series_with_nothing_ahead_cannot_be_edited() -> None:
    once = SeriesRule(NY, datetime(2027, 3, 2, 18), Repeat.ONCE, 60)
    with pytest.raises(EditRefused):
        plan_edit(once, RuleChange(start_time=time(19)), NOW)


# --------------------------------------------------------------------------- Events mirror


def series(tz: str, first: datetime, repeat: Repeat, **kw: object) -> SessionSeries:
    return SessionSeries(
        id=1,
        group_id=1,
        guild_id=1,
        title="t",
        tz=tz,
        first_local=first,
        repeat=repeat.value,
        duration_minutes=60,
        voice_channel_id=None,
        status=SeriesStatus.ACTIVE,
        created_by=1,
        planned_until=NOW,
        next_due=None,
        **kw,  # type: ignore[arg-type]
    )


def first_of(s: SessionSeries) -> Occurrence:
    rule = SeriesRule(s.tz, s.first_local, Repeat(s.repeat), 60, s.until_local, s.monthly_week)
    return occurrences(rule, NOW, NOW + timedelta(days=60))[0]


def test_recurring_only_where_discord_lands_on_every_session() -> None:
    kolkata = series("Asia/Kolkata", datetime(2027, 3, 9, 18, 30), Repeat.BIWEEKLY)
    rec = discord_recurrence(kolkata, {}, first_of(kolkata))
    assert rec is not None and not rec.monthly and rec.interval == 2 and rec.weekday == 1
    monthly = series("Asia/Kolkata", datetime(2027, 3, 9, 18, 30), Repeat.MONTHLY)
    rec = discord_recurrence(monthly, {}, first_of(monthly))
    assert rec is not None and rec.monthly and rec.n == 2
    start = first_of(monthly).start_utc
    got = discord_expansion(rec, start, start + timedelta(days=200))
    assert [g.astimezone(UTC).day for g in got][:4] == [9, 13, 11, 8]  # 2nd Tuesdays
    # Not expressible: DST zone, a last weekday, an end date, a cancel ahead.
    new_york = series(NY, datetime(2027, 3, 9, 18), Repeat.WEEKLY)
    assert discord_recurrence(new_york, {}, first_of(new_york)) is None
    last = series("Asia/Kolkata", datetime(2027, 3, 25, 18), Repeat.MONTHLY, monthly_week=-1)
    assert discord_recurrence(last, {}, first_of(last)) is None
    ends = series(
        "Asia/Kolkata", datetime(2027, 3, 9, 18), Repeat.WEEKLY, until_local=datetime(2027, 6, 1)
    )
    assert discord_recurrence(ends, {}, first_of(ends)) is None
    cancel = {"2027-03-23": OccurrenceOverride(1, "2027-03-23", "cancelled", None, None)}
    assert discord_recurrence(kolkata, cancel, first_of(kolkata)) is None
    past = {"2027-03-02": OccurrenceOverride(1, "2027-03-02", "cancelled", None, None)}
    assert discord_recurrence(kolkata, past, first_of(kolkata)) is not None


def test_an_earlier_time_that_has_passed_today_does_not_shift_later_weeks() -> None:
    """Edited at 18:00 to 17:00 on the day: tonight's 19:00 has no partner this week (it no
    longer takes place, and its people are told); every later week keeps its own date, so a
    Christmas cancellation or a reply stays on Christmas week."""
    old = SeriesRule("Europe/London", datetime(2026, 11, 3, 19, 0), Repeat.WEEKLY, 60)
    now = datetime(2026, 12, 8, 18, 0, tzinfo=UTC)
    plan = plan_edit(old, RuleChange(start_time=time(17, 0)), now)
    assert [o.key for o in plan.unpaired][:1] == ["2026-12-08"]
    assert all(p.old.key == p.new_key for p in plan.pairs)
    assert [p.old.key for p in plan.pairs][:3] == ["2026-12-15", "2026-12-22", "2026-12-29"]


def test_a_day_change_pairs_within_the_same_week_even_when_that_day_has_passed() -> None:
    old = SeriesRule("Europe/London", datetime(2026, 11, 3, 19, 0), Repeat.WEEKLY, 60)  # Tue
    now = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)  # Tuesday noon: Monday the 7th has passed
    plan = plan_edit(old, RuleChange(weekday=0), now)  # to Monday
    pairs = {p.old.key: p.new_key for p in plan.pairs}
    assert "2026-12-08" not in pairs  # this week's Monday is gone: no stand-in
    assert pairs["2026-12-22"] == "2026-12-21"  # Christmas week stays Christmas week
