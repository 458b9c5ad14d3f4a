"""Benchmark databases: a cached base per size, stamped with planning state for "now".

The base (groups, members, DM preferences, weekly session series) does not depend on the
time, so it is built once per size and cached under CACHE_DIR. Each run copies it and
*stamps* the copy for the current instant, leaving it as a bot that ran until a moment ago
would have: every series has `planned_until` (the last reminder instant the planner has
written) and `next_due` (the first one after it), the ledger holds the last 7 days of
reminders as sent and those due in the next 25 minutes as pending (the last planner pass
was 5 minutes ago, with its 30-minute horizon).

Stamping uses the bot's own recurrence rules (`familybot.services.sessions.recurrence.occurrences`,
what the planner expands series with) once per distinct (zone, weekday, local time), and a
sample of series is checked against the planner's `next_effective_start_after`.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from bench.common import CACHE_DIR, PLANTED_OFFSET_MINUTES, naive_utc, utc
from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.models import SeriesStatus, SessionSeries
from familybot.services.reminders.rules import next_effective_start_after
from familybot.services.sessions.recurrence import Repeat, SeriesRule, occurrences

BASE_VERSION = 3
SERIES_PER_GROUP = 20
GROUPS_PER_GUILD = 50
MEMBERS_PER_GROUP = 8
DM_SUBSCRIBER_EVERY = 8  # one member in eight has DM reminders on
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
)
# Group reminder offsets (minutes before the session), weighted towards the default.
OFFSET_SETS = ("1440,60",) * 7 + ("60",) * 2 + ("1440,180,30",)
FIRST_GUILD_ID = 900_000_000_000_000_000
FIRST_CHANNEL_ID = 910_000_000_000_000_000
FIRST_USER_ID = 920_000_000_000_000_000
# The last planner pass ran this long ago, looking PLAN_HORIZON (30 min) ahead.
LAST_PASS_AGO = timedelta(minutes=5)
HISTORY = timedelta(days=7)


def base_path(n_series: int) -> Path:
    return CACHE_DIR / f"base-v{BASE_VERSION}-{n_series}.db"


async def ensure_base(n_series: int) -> Path:
    """The cached base database for `n_series` series, built if missing."""
    path = base_path(n_series)
    if path.exists():
        return path
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    remove_db(tmp)
    await _build_base(tmp, n_series)
    tmp.rename(path)
    return path


async def _build_base(path: Path, n_series: int) -> None:
    rng = random.Random(n_series)
    today = date.today()
    created = int(utc(0).timestamp())
    n_groups = max(1, n_series // SERIES_PER_GROUP)
    groups: list[tuple[object, ...]] = []
    members: list[tuple[object, ...]] = []
    prefs: list[tuple[object, ...]] = []
    user_id = FIRST_USER_ID
    for g in range(1, n_groups + 1):
        guild_id = FIRST_GUILD_ID + (g - 1) // GROUPS_PER_GUILD
        name = f"Family group {g}"
        groups.append(
            (
                g,
                guild_id,
                name,
                name.casefold(),
                "A weekly circle for families.",
                "families of people in treatment",
                12,
                "open",
                "Be kind. What is said here stays here.",
                None,  # no group role: access is a member overwrite on the channel
                FIRST_CHANNEL_ID + 2 * g + 1,
                1,
                created,
                rng.choice(OFFSET_SETS),
            )
        )
        for m in range(MEMBERS_PER_GROUP):
            user_id += 1
            members.append((g, user_id, "member", 1, created, created, created))
            if m % DM_SUBSCRIBER_EVERY == 0:
                prefs.append((user_id, 1, created))
    series: list[tuple[object, ...]] = []
    for s in range(1, n_series + 1):
        g = (s - 1) % n_groups + 1
        weekday = rng.randrange(7)
        slot = rng.randrange(180)  # 07:00 .. 21:55 local, every 5 minutes
        first = today - timedelta(days=rng.randrange(14, 730))
        first -= timedelta(days=(first.weekday() - weekday) % 7)
        first_local = datetime.combine(first, time(7 + slot // 12, (slot % 12) * 5))
        series.append(
            (
                s,
                g,
                FIRST_GUILD_ID + (g - 1) // GROUPS_PER_GUILD,
                f"Weekly session {s}",
                rng.choice(ZONES),
                first_local.isoformat(),
                "weekly",
                rng.choice((60, 90, 120)),
                created,
                created,
            )
        )
    db = await Database.open(path)
    try:
        await migrate(db)
        async with db.transaction():
            conn = db.connection
            await conn.executemany(
                "INSERT INTO groups (id, guild_id, name, name_key, description, focus, capacity, "
                "join_mode, guidelines, role_id, channel_id, created_by, created_at, "
                "reminder_offsets) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                groups,
            )
            await conn.executemany(
                "INSERT INTO memberships (group_id, user_id, status, consent_version, "
                "consented_at, requested_at, joined_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                members,
            )
            await conn.executemany(
                "INSERT INTO member_prefs (user_id, dm_reminders, updated_at) VALUES (?, ?, ?)",
                prefs,
            )
            await conn.executemany(
                "INSERT INTO session_series (id, group_id, guild_id, title, tz, first_local, "
                "repeat, duration_minutes, created_by, created_at, planned_until, next_due) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, NULL)",
                series,
            )
        await db.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()


@dataclass(frozen=True)
class StampInfo:
    series: int
    ledger_sent: int
    ledger_pending: int
    due_next_30_min: int  # series the first planner pass at start-up will plan
    seconds: float


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def flush_file(path: Path) -> None:
    """Its dirty pages written to the disk now, not during a later timed start."""
    with path.open("rb+") as file:
        os.fdatasync(file.fileno())


def copy_db(src: Path, dest: Path) -> None:
    """A copy written through to the disk: otherwise the kernel writes its dirty pages
    back while the next start runs (250 MB at 1M sessions, none at 10k): an unfair
    share of the disk and the CPU for the larger sizes."""
    remove_db(dest)
    shutil.copyfile(src, dest)
    flush_file(dest)


def catch_up(path: Path, now: float) -> int:
    """A stamped copy as a bot running until `now` leaves it: pending reminders due by then
    marked sent, as `stamp` marks the history (a copy is started minutes after its stamp;
    each start then sent that backlog while starting, bench/reminders.py). Returns rows."""
    con = sqlite3.connect(path)
    try:
        cur = con.execute(
            "UPDATE reminder_ledger SET state = 'sent', attempts = 1, attempt_at = due_at, "
            "sent_at = due_at, message_id = (series_id << 20) + (due_at % 1000000) "
            "WHERE state = 'pending' AND due_at <= ?",
            (int(now),),
        )
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return cur.rowcount
    finally:
        con.close()


async def stamp(base: Path, dest: Path, now: float) -> StampInfo:
    """Copy `base` to `dest` and write planning state and ledger rows as of `now`."""
    import time as _time

    started = _time.perf_counter()
    copy_db(base, dest)
    now_i = int(now)
    horizon = int((utc(now) - LAST_PASS_AGO).timestamp()) + 30 * 60
    window_lo = utc(now - HISTORY.total_seconds() - 2 * 86400)
    window_hi = utc(now + 10 * 86400)
    history_lo = now_i - int(HISTORY.total_seconds())
    db = await Database.open(dest)
    try:
        await migrate(db)  # a base cached before a newer migration is brought up to date
        rows = await db.fetchall(
            "SELECT s.id, s.group_id, s.tz, s.first_local, g.reminder_offsets, g.channel_id "
            "FROM session_series s JOIN groups g ON g.id = s.group_id"
        )
        subs: dict[int, list[int]] = defaultdict(list)
        for r in await db.fetchall(
            "SELECT m.group_id, m.user_id FROM memberships m JOIN member_prefs p "
            "ON p.user_id = m.user_id WHERE m.status = 'member' AND p.dm_reminders = 1"
        ):
            subs[r["group_id"]].append(r["user_id"])
        starts_by_combo: dict[tuple[str, int, time], list[tuple[str, int]]] = {}
        plans: list[tuple[int, int, int]] = []
        ledger: list[tuple[object, ...]] = []
        n_pending = 0
        due_soon = 0
        soon = now_i + 30 * 60
        for r in rows:
            first_local = datetime.fromisoformat(r["first_local"])
            combo = (r["tz"], first_local.weekday(), first_local.time())
            starts = starts_by_combo.get(combo)
            if starts is None:
                rule = SeriesRule(r["tz"], first_local, Repeat.WEEKLY, 60)
                starts = [
                    (o.key, int(o.start_utc.timestamp()))
                    for o in occurrences(rule, window_lo, window_hi)
                ]
                starts_by_combo[combo] = starts
            offsets = [int(x) for x in r["reminder_offsets"].split(",")]
            targets = ["channel"] + [f"dm:{u}" for u in subs.get(r["group_id"], [])]
            dues = sorted(
                (start - off * 60, key, start, off) for key, start in starts for off in offsets
            )
            planned_until = max(d for d, *_ in dues if d <= horizon)
            next_due = min(d for d, *_ in dues if d > planned_until)
            plans.append((planned_until, next_due, r["id"]))
            due_soon += next_due <= soon
            for due, key, start, off in dues:
                if not history_lo < due <= planned_until:
                    continue
                sent = due <= now_i
                n_pending += not sent
                for target in targets:
                    ledger.append(
                        (
                            r["id"],
                            key,
                            start,
                            off,
                            target,
                            due,
                            "sent" if sent else "pending",
                            int(sent),
                            due if sent else None,
                            due if sent else None,
                            (r["id"] << 20) + (due % 1_000_000) if sent else None,
                        )
                    )
        async with db.transaction():
            conn = db.connection
            await conn.executemany(
                "UPDATE session_series SET planned_until = ?, next_due = ? WHERE id = ?", plans
            )
            await conn.executemany(
                "INSERT INTO reminder_ledger (series_id, occurrence_key, occurrence_start, "
                "offset_minutes, target, due_at, state, attempts, attempt_at, sent_at, "
                "message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ledger,
            )
        await _check_sample(db, plans, rows)
        await db.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()
    sent_rows = sum(1 for row in ledger if row[6] == "sent")
    return StampInfo(
        series=len(rows),
        ledger_sent=sent_rows,
        ledger_pending=len(ledger) - sent_rows,
        due_next_30_min=due_soon,
        seconds=_time.perf_counter() - started,
    )


async def _check_sample(
    db: Database, plans: list[tuple[int, int, int]], rows: list[object]
) -> None:
    """The planner's own helper must agree with the stamped next_due for a sample."""
    by_id = {p[2]: p for p in plans}
    rng = random.Random(7)
    sample = rng.sample(sorted(by_id), min(200, len(by_id)))
    for series_id in sample:
        planned_until, next_due, _ = by_id[series_id]
        row = await db.fetchone(
            "SELECT s.*, g.reminder_offsets FROM session_series s JOIN groups g "
            "ON g.id = s.group_id WHERE s.id = ?",
            (series_id,),
        )
        assert row is not None
        series = SessionSeries(
            id=series_id,
            group_id=row["group_id"],
            guild_id=row["guild_id"],
            title=row["title"],
            tz=row["tz"],
            first_local=datetime.fromisoformat(row["first_local"]),
            repeat=row["repeat"],
            duration_minutes=row["duration_minutes"],
            voice_channel_id=None,
            status=SeriesStatus.ACTIVE,
            created_by=1,
            planned_until=utc(planned_until),
            next_due=utc(next_due),
        )
        expected: int | None = None
        for off in (int(x) for x in row["reminder_offsets"].split(",")):
            start = next_effective_start_after(
                series, {}, utc(planned_until) + timedelta(minutes=off)
            )
            assert start is not None
            due = int(start.timestamp()) - off * 60
            expected = due if expected is None else min(expected, due)
        if expected != next_due:
            raise AssertionError(
                f"stamped next_due {next_due} != planner's {expected} for series {series_id}"
            )


@dataclass(frozen=True)
class PlantedSeries:
    series_id: int
    group_id: int
    due_at: int


async def plant_due_series(
    db: Database,
    dues: list[int],
    now: float,
    *,
    channel_ids: list[int] | None = None,
    guild_ids: list[int] | None = None,
) -> list[PlantedSeries]:
    """One new group (channel reminders only, offset 60 min) and one weekly series per due
    instant, left as the planner leaves a series not yet in its horizon: planned_until is
    now, next_due the reminder instant. The next planner pass writes their ledger rows."""
    top_group = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM groups"))
    top_series = int(await db.fetchval("SELECT coalesce(max(id), 0) FROM session_series"))
    groups: list[tuple[object, ...]] = []
    series: list[tuple[object, ...]] = []
    planted: list[PlantedSeries] = []
    for i, due in enumerate(dues):
        gid, sid = top_group + 1 + i, top_series + 1 + i
        channel = channel_ids[i] if channel_ids else FIRST_CHANNEL_ID + 10_000_000 + 2 * i
        guild = guild_ids[i] if guild_ids else FIRST_GUILD_ID + 10_000 + i // GROUPS_PER_GUILD
        name = f"Planted group {gid}"
        groups.append(
            (gid, guild, name, name.casefold(), channel, int(now), str(PLANTED_OFFSET_MINUTES))
        )
        start = due + PLANTED_OFFSET_MINUTES * 60
        series.append((sid, gid, guild, naive_utc(start).isoformat(), int(now), int(now), due))
        planted.append(PlantedSeries(sid, gid, due))
    async with db.transaction():
        await db.connection.executemany(
            "INSERT INTO groups (id, guild_id, name, name_key, description, focus, join_mode, "
            "guidelines, channel_id, created_by, created_at, reminder_offsets) "
            "VALUES (?, ?, ?, ?, 'planted', 'planted', 'open', 'Be kind.', ?, 1, ?, ?)",
            groups,
        )
        await db.connection.executemany(
            "INSERT INTO session_series (id, group_id, guild_id, title, tz, first_local, repeat, "
            "duration_minutes, created_by, created_at, planned_until, next_due) "
            "VALUES (?, ?, ?, 'Planted session', 'UTC', ?, 'weekly', 60, 1, ?, ?, ?)",
            series,
        )
    return planted
