"""Crash safety: SIGKILL the real bot again and again while it sends reminders and answers
people, restart it, and check that nothing acknowledged was lost and nothing doubled.

The bot runs in a child process (tests/crash/child.py) against the fake Discord living in
this process, which outlives every child and so witnesses what people saw. Each cycle
starts the child and kills it with SIGKILL at a random moment: during start-up (import,
migrations, planning, command sync), after a random number of reminder sends, or after a
random number of answered commands. Then one clean run lets the bot catch up (given the
rest of the schedule plus the backlog at the bot's paced rate, plus a margin), and:

* on SQLite, PRAGMA integrity_check is "ok" (and no foreign key is dangling);
* every reminder due in the run was posted exactly once: one message per (series, target),
  none missing, none extra, independent of the ledger; and the ledger says `sent` with the
  id of that very message;
* every change the bot acknowledged (time zone, DM setting, FAQ entry, RSVP) is stored;
* recovery read channel history at most once per interrupted send: in each process life no
  more reads than distinct reminders it looked for, and Discord saw no more history requests
  than those reminders summed over the lives.

It runs on both backends (the `backend` fixture): on PostgreSQL the child gets DATABASE_URL
to a fresh database of the test server (tests/crash/store.py).

Time is the real clock, never slept through: the schedule is seeded relative to the start
(a few reminders due every second, tests/crash/workload.py), and the test waits on what the
fake receives. The bot's assumption of Discord's nonce memory (2 min) is shortened to a few
seconds for the child and the fake alike, so that a one-minute run exercises both ways an
interrupted send is resolved: resent with the same nonce, or found in the channel first.

Knobs: FAMILYBOT_CRASH_CYCLES (default 20), FAMILYBOT_CRASH_SEED (default 6005). With a
seed, the workload and the sequence of kill modes and counts repeat; the exact instants
depend on timing.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from familybot.discord.notices import REMINDER_RATE
from tests.crash.child_process import ChildBot
from tests.crash.commands import CommandDriver
from tests.crash.store import CrashStore, crash_store
from tests.crash.workload import CHANNEL, Workload, seed
from tests.e2e.harness import everyone_can_view
from tests.support.fake_discord import FakeDiscord

CYCLES = int(os.environ.get("FAMILYBOT_CRASH_CYCLES", "20"))
SEED = int(os.environ.get("FAMILYBOT_CRASH_SEED", "6005"))
# Seconds of reminders: enough that sends keep happening through every kill cycle.
WINDOW = max(20, int(CYCLES * 1.5))
BOT_NONCE_MEMORY_S = 3.0
# The fake remembers a little longer than the bot assumes, as Discord's "few minutes" do
# against the bot's 2: a resend decided just inside the bot's memory reaches Discord after
# the pacing of a short backlog.
FAKE_NONCE_MEMORY_S = 4.5
KILL_TIMEOUT = 6.0
# The clean run's time beyond the schedule and the backlog's sending time (start-up, a
# loaded machine): the backlog itself needs backlog / REMINDER_RATE seconds.
CATCH_UP_MARGIN = 30.0


class RequestTally:
    """Counts matching requests the fake has received, incrementally."""

    def __init__(self, fake: FakeDiscord, match: Callable[[str, str, object], bool]) -> None:
        self._fake, self._match = fake, match
        self._seen = 0
        self.count = 0

    def update(self) -> int:
        requests = self._fake.requests
        for rec in requests[self._seen :]:
            self.count += self._match(rec.method, rec.path, rec.json_body)
        self._seen = len(requests)
        return self.count


def is_reminder_post(method: str, path: str, body: object) -> bool:
    return (
        method == "POST"
        and path.startswith("/channels/")
        and isinstance(body, dict)
        and str(body.get("nonce") or "").startswith("fbr")
    )


def is_interaction_answer(method: str, path: str, body: object) -> bool:
    return method == "POST" and path.startswith("/interactions/")


def reminder_messages(fake: FakeDiscord, work: Workload) -> dict[tuple[int, str], list[str]]:
    """(series id, target) -> ids of the reminder messages people received."""
    out: dict[tuple[int, str], list[str]] = {}
    dm_user = {cid: uid for uid, cid in fake.dm_channels.items()}
    group_channels = {g.channel_id for g in work.groups}
    for cid, messages in fake.messages.items():
        for m in messages:
            if not str(m.get("nonce") or "").startswith("fbr"):
                continue
            series = int(m["components"][0]["components"][0]["custom_id"].split(":")[2])
            target = CHANNEL if cid in group_channels else f"dm:{dm_user[cid]}"
            out.setdefault((series, target), []).append(m["id"])
    return out


async def unresolved_rows(store: CrashStore, until: datetime) -> int:
    """Ledger rows due by `until` not yet known to be sent (or given up on); -1 before the
    ledger exists."""
    rows = await store.rows(
        "SELECT count(*) FROM reminder_ledger WHERE state IN ('pending', 'sending') "
        "AND due_at <= ?",
        (int(until.timestamp()),),
    )
    return int(rows[0][0]) if rows else -1


def recovered_in_logs(tmp: Path) -> tuple[int, int]:
    """(times, distinct reminders) the bot found an interrupted send's message in Discord.

    One reminder can be found more than once: a kill before what was found is stored means
    the next run looks again (and finds the same message)."""
    found = ledger_ids_in_logs(tmp, r"reminder recovered after an interrupted send ledger=(\d+)")
    return len(found), len(set(found))


def ledger_ids_in_logs(tmp: Path, pattern: str) -> list[str]:
    return [m for p in tmp.glob("child-*.log") for m in re.findall(pattern, p.read_text())]


def interrupted_sends(tmp: Path) -> int:
    """Distinct reminders the bot had to look for in Discord (beyond its nonce memory):
    found there, or not found and sent."""
    found = ledger_ids_in_logs(tmp, r"reminder recovered after an interrupted send ledger=(\d+)")
    absent = ledger_ids_in_logs(
        tmp, r"interrupted reminder not in Discord, sending it ledger=(\d+)"
    )
    return len(set(found) | set(absent))


def looked_for(tmp: Path) -> int:
    """Interrupted sends looked for: the distinct reminders each process life read history
    for, summed over the lives (a reminder whose send was cut off, then its look-up cut off
    by the next kill, is looked for again by the next life: two interrupted sends). Each
    life's log must show no more reads than reminders it read for (a read covers every
    reminder of its place wanted so far, so a second read there repeats the first's ids),
    else AssertionError."""
    total = 0
    for path in sorted(tmp.glob("child-*.log")):
        reads = re.findall(
            r"reading history for interrupted reminders count=\d+ ledger=([\d,]+)", path.read_text()
        )
        ids = {i for read in reads for i in read.split(",")}
        assert len(reads) <= len(ids), (
            f"{path.name}: {len(reads)} history reads for {len(ids)} interrupted reminders"
        )
        total += len(ids)
    return total


def history_reads(fake: FakeDiscord) -> int:
    """Channel-history requests the fake answered: only recovery reads history."""
    return len(fake.requests_to("GET", r"/channels/\d+/messages"))


def lines_in_logs(tmp: Path, text: str) -> list[str]:
    """The children's log lines holding `text`."""
    return [
        line for p in tmp.glob("child-*.log") for line in p.read_text().splitlines() if text in line
    ]


async def run_until_killed(
    child: ChildBot,
    fake: FakeDiscord,
    rng: random.Random,
    sends: RequestTally,
    answers: RequestTally,
    reminders_end: datetime,
) -> str:
    """Start the bot and SIGKILL it at a random moment; returns what the moment was."""
    mode = rng.choices(("startup", "reminders", "commands"), weights=(1, 3, 2))[0]
    if mode == "reminders" and datetime.now(UTC) >= reminders_end:
        mode = "commands"  # a slow machine outlived the schedule: no sends left to wait for
    identified = len(fake.identify_payloads)
    sent0, answered0 = sends.update(), answers.update()
    await child.spawn()
    began = time.monotonic()
    if mode == "startup":
        at = began + rng.uniform(0.0, 1.5)
        moment = lambda: time.monotonic() >= at  # noqa: E731
        label = "startup: a random instant"
    elif mode == "reminders":
        want = rng.randint(1, 25)
        moment = lambda: sends.update() - sent0 >= want  # noqa: E731
        label = f"reminders: after {want} sends"
    else:
        want = rng.randint(1, 12)
        moment = lambda: answers.update() - answered0 >= want  # noqa: E731
        label = f"commands: after {want} answers"
    while not moment():
        child.check_alive()
        if time.monotonic() - began > KILL_TIMEOUT:
            label += " (timed out: killed anyway)"
            break
        await asyncio.sleep(0.002)
    if mode != "startup" and len(fake.identify_payloads) == identified:
        label += " (before identify)"
    await child.kill()
    return label


def catch_up_seconds(work: Workload, fake: FakeDiscord, now: datetime) -> float:
    """How long the clean run may take: until the schedule's end, plus the backlog (every
    reminder not yet posted, those still to fall due included) at the bot's paced rate, plus
    a margin for start-up and a loaded machine."""
    backlog = len(set(work.expected) - set(reminder_messages(fake, work)))
    return max(0.0, (work.end - now).total_seconds()) + backlog / REMINDER_RATE + CATCH_UP_MARGIN


async def catch_up(child: ChildBot, work: Workload, store: CrashStore, fake: FakeDiscord) -> None:
    """The last, clean run: until every due reminder went out and the ledger is settled."""
    identified = len(fake.identify_payloads)
    await child.spawn()
    deadline = time.monotonic() + catch_up_seconds(work, fake, datetime.now(UTC))
    while True:
        child.check_alive()
        # Connected means set up, with its signal handler in place: only then can it be done.
        up = len(fake.identify_payloads) > identified
        posted = reminder_messages(fake, work)
        if up and set(work.expected) <= set(posted) and await unresolved_rows(store, work.end) == 0:
            return
        if time.monotonic() > deadline:
            missing = len(set(work.expected) - set(posted))
            raise AssertionError(
                f"the bot did not catch up: {missing} reminders never posted, "
                f"{await unresolved_rows(store, work.end)} ledger rows unresolved\n{child.tail()}"
            )
        await asyncio.sleep(0.1)


async def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, backend: str
) -> None:
    async with crash_store(backend, tmp_path) as store:
        await _sigkill_cycles(tmp_path, store)


async def _sigkill_cycles(tmp_path: Path, store: CrashStore) -> None:
    began = time.monotonic()
    workload_rng, kill_rng, people_rng = (random.Random(f"{SEED}:{n}") for n in range(3))
    fake = FakeDiscord()
    fake.time_based_ids = True
    fake.nonce_window_seconds = FAKE_NONCE_MEMORY_S
    await fake.start()
    child = ChildBot(
        fake,
        tmp_path,
        {
            "DISCORD_TOKEN": fake.token,
            **store.env(),
            "DEFAULT_TIMEZONE": "America/New_York",
            "LOG_LEVEL": "INFO",
            "BACKUP_DIR": str(tmp_path / "backups"),
            "CRASH_NONCE_MEMORY_S": str(BOT_NONCE_MEMORY_S),
        },
    )
    driver: CommandDriver | None = None
    kills: list[str] = []
    try:
        work = await seed(
            store.target, fake, workload_rng, now=datetime.now(UTC), window_seconds=WINDOW
        )
        child.env["DEV_GUILD_ID"] = str(work.guild_id)
        driver = CommandDriver(fake, work, people_rng)
        driver.start()
        sends = RequestTally(fake, is_reminder_post)
        answers = RequestTally(fake, is_interaction_answer)
        for _ in range(CYCLES):
            kills.append(await run_until_killed(child, fake, kill_rng, sends, answers, work.end))
            driver.abandon_in_flight()
        await catch_up(child, work, store, fake)
        await driver.stop()
        for _ in range(250):  # give answers already on their way up to 5 s to arrive
            if not driver.in_flight():
                break
            await asyncio.sleep(0.02)
        await child.stop()
    finally:
        if driver is not None:
            await driver.stop()
        await child.ensure_dead()
        await fake.stop()

    fake.assert_no_unhandled_routes()
    fake.assert_no_schema_errors()

    # 1. The database survived every kill intact.
    assert await store.integrity_problems() == []
    ledger = {
        (row[0], row[1]): (row[2], row[3])
        for row in await store.rows(
            "SELECT series_id, target, state, message_id FROM reminder_ledger WHERE due_at <= ?",
            (int(work.end.timestamp()),),
        )
    }

    # 2. Every reminder due was posted exactly once, and the ledger knows which message it was.
    posted = reminder_messages(fake, work)
    twice = {k: v for k, v in posted.items() if len(v) > 1}
    missing = set(work.expected) - set(posted)
    extra = set(posted) - set(work.expected)
    assert not twice, f"{len(twice)} reminders posted more than once, e.g. {list(twice)[:5]}"
    assert not missing, f"{len(missing)} reminders never posted, e.g. {sorted(missing)[:5]}"
    assert not extra, f"{len(extra)} reminders nobody scheduled, e.g. {sorted(extra)[:5]}"
    wrong = {
        k: ledger.get(k) for k in work.expected if ledger.get(k) != ("sent", int(posted[k][0]))
    }
    assert not wrong, (
        f"{len(wrong)} ledger rows disagree with Discord, e.g. {list(wrong.items())[:5]}"
    )
    nonces = Counter(m["nonce"] for msgs in fake.messages.values() for m in msgs if m.get("nonce"))
    assert max(nonces.values()) == 1

    # 3. Every acknowledged change is stored.
    assert driver is not None
    acknowledged, lost = await driver.verify(store)
    assert not lost, f"{len(lost)} acknowledged changes lost: {lost[:5]}"
    assert acknowledged > 0, "no command was ever acknowledged: the test exercised nothing"

    posts = sends.update()
    recovered = recovered_in_logs(tmp_path)
    # 4. Recovery reads a place's history once for all its interrupted reminders of a run,
    # and stores what it found at once: at most one read per interrupted send, in each life
    # (looked_for) and in all (the history requests Discord answered).
    reads, interrupted = history_reads(fake), interrupted_sends(tmp_path)
    lookups = looked_for(tmp_path)
    print(
        f"\ncrash safety ({store.backend}): seed={SEED} kill cycles survived={CYCLES} "
        f"reminders={len(work.expected)} posted once each (POSTs incl. resends={posts}, "
        f"found in the channel after an interrupted send={recovered[1]} distinct, {recovered[0]} times) "
        f"commands issued={len(driver.issued)} acknowledged={acknowledged} "
        f"(events lost with a dying socket: {driver.undelivered}) "
        f"history reads={reads} for {lookups} look-ups of interrupted sends "
        f"({interrupted} distinct reminders) "
        f"duration={time.monotonic() - began:.1f}s\n"
        f"kill moments: {dict(Counter(k.split(':')[0] for k in kills))}"
    )
    assert sum("timed out" in k for k in kills) <= CYCLES // 2, kills
    assert reads <= lookups, (
        f"{reads} history reads for {lookups} look-ups ({interrupted} reminders)"
    )
    # A replan while a due-instant's run is still going must not add a twin job that
    # APScheduler then refuses with a warning (it once logged hundreds of these).
    # 5. Care: every message went to a private group channel or a DM, crash or no crash.
    public = [
        r.path
        for r in fake.requests_to("POST", r"/channels/\d+/messages")
        if everyone_can_view(fake, int(r.path.split("/")[2]))
    ]
    assert not public, f"{len(public)} messages posted where @everyone can see, e.g. {public[:3]}"
    refused = lines_in_logs(tmp_path, "maximum number of running instances")
    assert not refused, f"{len(refused)} scheduler warnings, e.g. {refused[0]}"
