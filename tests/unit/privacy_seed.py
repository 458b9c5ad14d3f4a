"""Seed a row about a person in every table, straight into SQLite (shared by privacy tests).

SEEDS must name every table in the schema: a table missing here fails the privacy tests,
so whoever adds a table decides, in one line, how a person's row in it is seeded (and so
proves that /my forget and the purges cover it).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from familybot.db.connection import Database
from familybot.models import from_unix

FAC = 700_000_000_000_000_001  # a facilitator who is not the person under test
NOW = 1_790_000_000  # 2026-09-21, a plain instant for seeded rows
# Departures far ahead of every test clock: seeded rows never fall due by themselves, and the
# instant is distinctive, so the export can be checked for it.
LEFT_AT = 1_900_000_123

_n = itertools.count(1)

SeedFn = Callable[[Database, int, int], Awaitable[None]]


@dataclass(frozen=True)
class Seed:
    fn: SeedFn | None  # None: the table is not seeded directly (see why)
    marker: Callable[[int], str] | None = None  # text /my data must contain (by the seed's n)
    why: str = ""


_last: dict[str, int] = {}


def _next(table: str) -> int:
    n = next(_n)
    _last[table] = n
    return n


async def _group(db: Database, g: int, name: str, created_by: int = FAC) -> int:
    await db.execute(
        "INSERT INTO groups (guild_id, name, name_key, description, focus, join_mode, guidelines,"
        " role_id, channel_id, created_by, created_at) "
        "VALUES (?, ?, ?, 'd', 'f', 'open', 'g', ?, ?, ?, ?)",
        (g, name, name.casefold(), next(_n) + 1000, next(_n) + 2000, created_by, NOW),
    )
    return int(await db.fetchval("SELECT max(id) FROM groups"))


async def _series(db: Database, g: int, title: str, created_by: int = FAC) -> int:
    group_id = await _group(db, g, f"{title} group")
    await db.execute(
        "INSERT INTO session_series (group_id, guild_id, title, tz, first_local, repeat,"
        " duration_minutes, created_by, created_at, planned_until) "
        "VALUES (?, ?, ?, 'UTC', '2026-10-01T18:00', 'weekly', 60, ?, ?, ?)",
        (group_id, g, title, created_by, NOW, NOW),
    )
    return int(await db.fetchval("SELECT max(id) FROM session_series"))


async def _case(db: Database, g: int, action: str, target: int, reason: str) -> int:
    number = int(
        await db.fetchval(
            "SELECT COALESCE(max(number), 0) + 1 FROM mod_cases WHERE guild_id = ?", (g,)
        )
    )
    await db.execute(
        "INSERT INTO mod_cases (guild_id, number, action, actor_id, target_id, reason, created_at,"
        " status) VALUES (?, ?, ?, ?, ?, ?, ?, 'done')",
        (g, number, action, FAC, target, reason, NOW),
    )
    return int(await db.fetchval("SELECT max(id) FROM mod_cases"))


async def guild_settings(db: Database, u: int, g: int) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO guild_settings (guild_id, updated_at) VALUES (?, ?)", (g, NOW)
    )


async def welcome_panels(db: Database, u: int, g: int) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO welcome_panels (guild_id, channel_id, message_id, posted_at) "
        "VALUES (?, ?, ?, ?)",
        (g, next(_n) + 3000, next(_n) + 4000, NOW),
    )


async def groups(db: Database, u: int, g: int) -> None:
    await _group(db, g, f"Created {_next('groups')}", created_by=u)


async def group_facilitators(db: Database, u: int, g: int) -> None:
    gid = await _group(db, g, f"Facilitated {_next('group_facilitators')}")
    await db.execute(
        "INSERT INTO group_facilitators (group_id, user_id, added_by, added_at) VALUES (?,?,?,?)",
        (gid, u, FAC, NOW),
    )


async def memberships(db: Database, u: int, g: int) -> None:
    gid = await _group(db, g, f"Joined {_next('memberships')}")
    await db.execute(
        "INSERT INTO memberships (group_id, user_id, status, consent_version, consented_at,"
        " requested_at, joined_at) VALUES (?, ?, 'member', 1, ?, ?, ?)",
        (gid, u, NOW, NOW, NOW),
    )


async def join_reviews(db: Database, u: int, g: int) -> None:
    gid = await _group(db, g, f"Reviewed {_next('join_reviews')}")
    await db.execute(
        "INSERT INTO join_reviews (group_id, user_id, removed_at, denied_at) VALUES (?, ?, ?, ?)",
        (gid, u, NOW, NOW),
    )


async def session_series(db: Database, u: int, g: int) -> None:
    await _series(db, g, f"Scheduled {_next('session_series')}", created_by=u)


async def occurrence_overrides(db: Database, u: int, g: int) -> None:
    sid = await _series(db, g, f"Moved {_next('occurrence_overrides')}")
    await db.execute(
        "INSERT INTO occurrence_overrides (series_id, occurrence_key, status, created_by,"
        " created_at) VALUES (?, '2026-10-08', 'cancelled', ?, ?)",
        (sid, u, NOW),
    )


async def rsvps(db: Database, u: int, g: int) -> None:
    sid = await _series(db, g, f"Rsvp {_next('rsvps')}")
    await db.execute(
        "INSERT INTO rsvps (series_id, occurrence_key, user_id, response, updated_at) "
        "VALUES (?, '2026-10-01', ?, 'going', ?)",
        (sid, u, NOW),
    )


async def attendance(db: Database, u: int, g: int) -> None:
    sid = await _series(db, g, f"Attended {_next('attendance')}")
    await db.execute(
        "INSERT INTO attendance (series_id, occurrence_key, user_id, marked_by, marked_at) "
        "VALUES (?, '2026-10-01', ?, ?, ?), (?, '2026-10-01', ?, ?, ?)",
        # Also a row they marked as a facilitator, about someone else: attribution goes.
        (sid, u, FAC, NOW, sid, FAC + int(str(u)[-3:]), u, NOW),
    )


async def member_prefs(db: Database, u: int, g: int) -> None:
    _next("member_prefs")
    await db.execute(
        "INSERT INTO member_prefs (user_id, timezone, dm_reminders, updated_at) "
        "VALUES (?, 'Pacific/Chatham', 1, ?) ON CONFLICT (user_id) DO UPDATE SET "
        "timezone = excluded.timezone, dm_reminders = 1, dm_offsets = NULL, "
        "updated_at = excluded.updated_at",
        (u, NOW),
    )


async def member_language(db: Database, u: int, g: int) -> None:
    n = _next("member_language")
    await db.execute(
        "INSERT INTO member_language (user_id, language, updated_at) VALUES (?, 'es', ?) "
        "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
        "updated_at = excluded.updated_at",
        (u, NOW + 70_000 + n),
    )


async def dm_failures(db: Database, u: int, g: int) -> None:
    await db.execute(
        "INSERT INTO dm_failures (user_id, kind, created_at) VALUES (?, ?, ?)",
        (u, f"kind-{_next('dm_failures')}", NOW),
    )


async def reminder_ledger(db: Database, u: int, g: int) -> None:
    sid = await _series(db, g, f"Reminded {_next('reminder_ledger')}")
    await db.execute(
        "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start, offset_minutes,"
        " target, due_at, state, sent_at) VALUES (?, '2026-10-01', ?, 60, ?, ?, 'sent', ?)",
        (sid, NOW, f"dm:{u}", NOW - 3600, NOW - 3600),
    )


async def scheduled_event_mirror(db: Database, u: int, g: int) -> None:
    gid = await _group(db, g, f"Mirrored {next(_n)}")
    await db.execute(
        "INSERT INTO scheduled_event_mirror (group_id, guild_id, event_id, start, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (gid, g, next(_n), NOW, NOW),
    )


async def crisis_local_lines(db: Database, u: int, g: int) -> None:
    n = _next("crisis_local_lines")
    await db.execute(
        "INSERT INTO crisis_local_lines (guild_id, name, name_key, contact, added_by, added_at) "
        "VALUES (?, ?, ?, '555', ?, ?)",
        (g, f"Line {n}", f"line {n}", u, NOW),
    )


async def faq(db: Database, u: int, g: int) -> None:
    n = _next("faq")
    await db.execute(
        "INSERT INTO faq (guild_id, question, question_key, answer, created_by, created_at) "
        "VALUES (?, ?, ?, 'a', ?, ?)",
        (g, f"Question {n}", f"question {n}", u, NOW),
    )


async def resources(db: Database, u: int, g: int) -> None:
    n = _next("resources")
    for status in ("pending", "approved"):  # a suggestion goes; a vetted one stays, unnamed
        await db.execute(
            "INSERT INTO resources (guild_id, title, url, category, category_key, description,"
            " status, suggested_by, suggested_at) VALUES (?, ?, 'https://x.org', 'c', 'c', 'd',"
            " ?, ?, ?)",
            (g, f"Resource {n} {status}", status, u, NOW),
        )


async def resource_settings(db: Database, u: int, g: int) -> None:
    await db.execute("INSERT OR IGNORE INTO resource_settings (guild_id) VALUES (?)", (g,))


async def mod_cases(db: Database, u: int, g: int) -> None:
    n = _next("mod_cases")
    await _case(db, g, "warn", u, f"Reason {n}")  # kept: the server's record
    await _case(db, g, "note", u, f"Private note {n}")  # removed by /my forget


async def case_reason_history(db: Database, u: int, g: int) -> None:
    case_id = await _case(db, g, "note", u, "Note")
    await db.execute(
        "INSERT INTO case_reason_history (case_id, old_reason, new_reason, changed_by,"
        " changed_at) VALUES (?, 'a', 'b', ?, ?)",
        (case_id, u, NOW),
    )


async def scheduled_unbans(db: Database, u: int, g: int) -> None:
    case_id = await _case(db, g, "ban", u, "Ban")
    await db.execute(
        "INSERT INTO scheduled_unbans (case_id, guild_id, user_id, due_at, lifted_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (case_id, g, u, NOW, NOW),
    )


async def audit_log(db: Database, u: int, g: int) -> None:
    await db.execute(
        "INSERT INTO audit_log (guild_id, actor_id, action, target_id, target_kind, result,"
        " created_at) VALUES (?, ?, ?, ?, 'user', 'ok', ?)",
        (g, FAC, f"mod.warn{_next('audit_log')}", u, NOW),
    )


async def member_departures(db: Database, u: int, g: int) -> None:
    _next("member_departures")
    await db.execute(
        "INSERT OR IGNORE INTO member_departures (guild_id, user_id, left_at) VALUES (?, ?, ?)",
        (g, u, LEFT_AT),
    )


async def guild_departures(db: Database, u: int, g: int) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO guild_departures (guild_id, removed_at) VALUES (?, ?)",
        (g, LEFT_AT),
    )


async def reports(db: Database, u: int, g: int) -> None:
    n = _next("reports")
    for number, (reporter, author) in enumerate(((u, FAC), (FAC, u)), start=n * 10):
        await db.execute(
            "INSERT INTO reports (guild_id, number, kind, category, reporter_id,"
            " reported_author_id, reported_message_id, channel_id, created_at) "
            "VALUES (?, ?, 'report', 'other', ?, ?, ?, 1, ?)",
            (g, number, reporter, author, 600_000 + number, NOW),
        )


async def report_numbers(db: Database, u: int, g: int) -> None:
    await db.execute(
        "INSERT INTO report_numbers (guild_id, last_number) VALUES (?, 99) "
        "ON CONFLICT (guild_id) DO UPDATE SET last_number = 99",
        (g,),
    )


async def calendar_feeds(db: Database, u: int, g: int) -> None:
    n = _next("calendar_feeds")
    await db.execute(
        "INSERT INTO calendar_feeds (guild_id, user_id, titles, token_hash,"
        " link_created_at, updated_at) VALUES (?, ?, 'full', ?, ?, ?) ON CONFLICT (guild_id, "
        "user_id) DO UPDATE SET titles = 'full', token_hash = excluded.token_hash, "
        "link_created_at = excluded.link_created_at, updated_at = excluded.updated_at",
        (g, u, f"{n:064x}", NOW + n, NOW),
    )


def _m(fmt: str) -> Callable[[int], str]:
    return lambda n: fmt.format(n=n)


FTS = "maintained by triggers on resources"
TERMS = "the typo index's words, kept from the search index's vocabulary: no person in it"
SEEDS: dict[str, Seed] = {
    "guild_settings": Seed(guild_settings, why="the server's settings: no person in it"),
    "welcome_panels": Seed(welcome_panels, why="where the start-here panel is: no person in it"),
    "groups": Seed(groups, _m("Created {n}")),
    "group_facilitators": Seed(group_facilitators, _m("Facilitated {n}")),
    "memberships": Seed(memberships, _m("Joined {n}")),
    "join_reviews": Seed(join_reviews, _m("Reviewed {n}")),
    "session_series": Seed(session_series, _m("Scheduled {n}")),
    "occurrence_overrides": Seed(occurrence_overrides, _m("Moved {n}")),
    "rsvps": Seed(rsvps, _m("Rsvp {n}")),
    "attendance": Seed(attendance, _m("Attended {n}")),
    "member_prefs": Seed(member_prefs, _m("Pacific/Chatham")),
    "dm_failures": Seed(dm_failures, _m("kind-{n}")),
    # /my language: the choice and when it was made (no row means "auto").
    "member_language": Seed(member_language, lambda n: from_unix(NOW + 70_000 + n).isoformat()),
    "reminder_ledger": Seed(reminder_ledger, _m("Reminded {n}")),
    "scheduled_event_mirror": Seed(scheduled_event_mirror, why="a group's next session"),
    "occurrence_links": Seed(
        None, why="links an edited series' dates to the next: no person in it"
    ),
    "crisis_local_lines": Seed(crisis_local_lines, _m("Line {n}")),
    "faq": Seed(faq, _m("Question {n}")),
    "resources": Seed(resources, _m("Resource {n} pending")),
    "resource_settings": Seed(resource_settings, why="the server's library options"),
    "resources_fts_data": Seed(None, why=FTS),
    "resources_fts_idx": Seed(None, why=FTS),
    "resources_fts_docsize": Seed(None, why=FTS),
    "resources_fts_config": Seed(None, why=FTS),
    "resource_terms": Seed(None, why=TERMS),
    "resource_term_grams": Seed(None, why=TERMS),
    "resource_terms_todo": Seed(None, why=TERMS),
    "resource_term_weights": Seed(None, why=TERMS),
    "resource_term_ranks": Seed(None, why=TERMS),
    "resource_search": Seed(
        None, why="PostgreSQL's copy of approved resources' search vectors: no person in it"
    ),
    "mod_cases": Seed(mod_cases, _m("Reason {n}")),
    "case_reason_history": Seed(case_reason_history, why="kept with its case"),
    "scheduled_unbans": Seed(scheduled_unbans, why="kept with its case"),
    "audit_log": Seed(audit_log, _m("mod.warn{n}")),
    "reports": Seed(reports, lambda n: f'"reported_message_id": {600_000 + n * 10}'),
    "report_numbers": Seed(report_numbers, why="a server's counter: no person in it"),
    "audit_purge_allowed": Seed(None, why="only filled during a server purge"),
    "member_departures": Seed(member_departures, lambda n: from_unix(LEFT_AT).isoformat()),
    "guild_departures": Seed(guild_departures, why="a server's departure: no person in it"),
    "install_identity": Seed(None, why="one random id for the whole install: no person in it"),
    # /my data says a link exists and when it was made, never the token or its hash.
    "calendar_feeds": Seed(calendar_feeds, lambda n: from_unix(NOW + n).isoformat()),
    "interaction_claims": Seed(
        None, why="an interaction's id and when, no person or server; gone within an hour"
    ),
    "job_runs": Seed(None, why="a database-wide job's name and times, no person or server"),
    "leader_lease": Seed(None, why="which process leads (a random token), no person"),
    "digest_posts": Seed(
        None, why="a server's review digest post: ids, nonce and times, no person; 30 days"
    ),
}


async def table_names(db: Database) -> list[str]:
    return sorted(await db.tables())


async def check_every_table_seeded(db: Database) -> None:
    missing = [t for t in await table_names(db) if t not in SEEDS]
    assert not missing, (
        f"table(s) {missing} have no entry in tests/unit/privacy_seed.py SEEDS: add one so "
        "/my forget, /my data and the purges are proven to cover them"
    )


async def seed_all(db: Database, user_id: int, guild_id: int) -> dict[str, int]:
    """One (or a few) rows about this person in every table; returns each table's seed n."""
    seeded: dict[str, int] = {}
    for table, seed in SEEDS.items():
        if seed.fn is not None:
            await seed.fn(db, user_id, guild_id)
            seeded[table] = _last.get(table, 0)
    return seeded


async def rows_mentioning(db: Database, value: int) -> dict[str, list[dict[str, Any]]]:
    """Every row, in every table, with this id in any column (or as a 'dm:<id>' target)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for table in await table_names(db):
        found = [
            dict(r)
            for r in await db.fetchall(f'SELECT * FROM "{table}"')
            if any(v == value or v == f"dm:{value}" for v in tuple(r))
        ]
        if found:
            out[table] = found
    return out


async def row_counts(db: Database) -> dict[str, int]:
    return {
        t: int(await db.fetchval(f'SELECT count(*) FROM "{t}"'))
        for t in await table_names(db)
        if not t.startswith(("resources_fts", "resource_term"))
    }
