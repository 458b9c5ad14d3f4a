"""The words the groups and sessions services build (reminder times, typed-date errors,
autocomplete labels, the default guidelines) in both languages, plurals included."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from familybot import i18n
from familybot.models import Group, GroupStatus, JoinMode, SeriesStatus, SessionSeries
from familybot.services.groups.rules import DEFAULT_GUIDELINES, shown_guidelines
from familybot.services.sessions.local_input import parse_local_date, parse_local_time
from familybot.services.sessions.options import describe_offsets
from familybot.services.sessions.series_rules import parse_until, session_label


@pytest.mark.parametrize(
    ("offsets", "english", "spanish"),
    [
        ((1440,), "1 day", "1 día"),
        ((2880, 60), "2 days and 1 hour", "2 días y 1 hora"),
        ((1440, 120, 30), "1 day, 2 hours and 30 minutes", "1 día, 2 horas y 30 minutos"),
        ((5,), "5 minutes", "5 minutos"),
    ],
)
def test_reminder_times_in_words(offsets: tuple[int, ...], english: str, spanish: str) -> None:
    assert describe_offsets(offsets) == english
    with i18n.using("es"):
        assert describe_offsets(offsets) == spanish


def test_typed_dates_and_times_are_refused_in_the_current_language() -> None:
    with i18n.using("es"), pytest.raises(ValueError, match="No pude leer «mañana» como fecha"):
        parse_local_date("mañana")
    with i18n.using("es"), pytest.raises(ValueError, match="no es una fecha del calendario"):
        parse_local_date("2027-02-30")
    with i18n.using("es"), pytest.raises(ValueError, match="No pude leer «25:00» como hora"):
        parse_local_time("25:00")
    with pytest.raises(ValueError, match="I couldn't read “25:00” as a time"):
        parse_local_time("25:00")


def test_no_end_in_spanish_too() -> None:
    assert parse_until("nunca") is None and parse_until("never") is None


def _group(guidelines: str) -> Group:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return Group(
        1, 2, "Círculo", "d", "f", None, JoinMode.OPEN, guidelines, 1, None, None,
        GroupStatus.ACTIVE, 3, now, None,
    )  # fmt: skip


def test_default_guidelines_are_shown_in_the_readers_language() -> None:
    group = _group(DEFAULT_GUIDELINES.message)
    assert shown_guidelines(group).startswith("**What is shared here stays here.**")
    with i18n.using("es"):
        assert shown_guidelines(group).startswith("**Lo que se comparte aquí, se queda aquí.**")
        own = replace(group, guidelines="Nuestras normas.")
        assert shown_guidelines(own) == "Nuestras normas."  # a group's own text as written


def test_session_labels_name_the_rhythm_in_the_current_language() -> None:
    at = datetime(2027, 1, 1, tzinfo=UTC)
    series = SessionSeries(
        id=7, group_id=1, guild_id=2, title="Encuentro", tz="UTC",
        first_local=datetime(2027, 1, 5, 18), repeat="biweekly", duration_minutes=60,
        voice_channel_id=None, status=SeriesStatus.ACTIVE, created_by=3,
        planned_until=at, next_due=None,
    )  # fmt: skip
    assert session_label("Círculo", series) == "Círculo · Encuentro (every two weeks)"
    with i18n.using("es"):
        assert session_label("Círculo", series) == "Círculo · Encuentro (cada dos semanas)"
