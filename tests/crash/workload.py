"""The crash test's server and schedule: dense reminders, seeded before the first start.

Reminders are due at whole minutes in real life; here each series starts at a chosen
*second*, so that a few reminders fall due in every second of the run instead of one burst a
minute. That keeps the dispatcher busy whenever the parent decides to kill the bot. The
code under test does not care: due instants are plain UTC seconds.

Each series has exactly one reminder offset inside the run window, which makes the
expected set simple to state independently of the ledger: (series, target) pairs.

* "hour" series start one hour after their due second: their 1 h reminder is due in the
  window; their 24 h reminder was due before the seed instant, so it is never planned.
* "day" series start a day after their due second: their 24 h reminder is due in the window
  and their 1 h reminder long after it.

The series are only written (next_due = seed instant); the bot's own planner fills the
ledger at its first start, so a kill can land in the middle of planning too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from familybot.db.connection import Database
from familybot.db.migrate import migrate
from familybot.db.repositories.groups import GroupRepository
from familybot.db.repositories.reminders import ReminderRepository
from familybot.db.repositories.sessions import SessionRepository
from familybot.models import JoinMode, MembershipStatus
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_discord.permissions import MANAGE_GUILD, VIEW_CHANNEL

CHANNEL = "channel"


@dataclass
class GroupSeed:
    group_id: int
    channel_id: int
    members: list[int]


@dataclass
class Workload:
    guild_id: int
    admin: int
    start: datetime  # the seed instant; the first reminder falls due a few seconds later
    end: datetime  # the last reminder's due instant
    groups: list[GroupSeed] = field(default_factory=list)
    #: (series id, target) -> due instant, for every reminder that must be posted exactly once.
    expected: dict[tuple[int, str], datetime] = field(default_factory=dict)
    #: series id -> its group
    series_group: dict[int, GroupSeed] = field(default_factory=dict)
    dm_users: set[int] = field(default_factory=set)
    #: members of no group: their `/my reminders` changes affect no reminder.
    loners: list[int] = field(default_factory=list)

    def channel_target(self, channel_id: int) -> GroupSeed | None:
        return next((g for g in self.groups if g.channel_id == channel_id), None)


def populate_fake(
    fake: FakeDiscord, rng: random.Random, *, groups: int, users: int, loners: int
) -> tuple[int, int, list[tuple[None, int, list[int]]], list[int]]:
    """Guild, admin, one private channel per group (opened to each member by a member
    overwrite, as FamilyBot does), members (each in a few groups)."""
    owner = fake.add_user(name="owner")
    guild_id = fake.add_guild("Family Support", owner_id=owner)
    admin = fake.add_member(guild_id, name="admin", permissions=MANAGE_GUILD)
    memberships: list[list[int]] = [[] for _ in range(groups)]
    people: list[int] = []
    for u in range(users):
        mine = rng.sample(range(groups), k=min(groups, 3))
        uid = fake.add_member(guild_id, name=f"member{u}")
        people.append(uid)
        for i in mine:
            memberships[i].append(uid)
    spaces: list[tuple[None, int, list[int]]] = []
    for i in range(groups):
        overwrites = [
            {"id": guild_id, "type": 0, "allow": 0, "deny": VIEW_CHANNEL},
            {"id": fake.bot_user_id, "type": 1, "allow": VIEW_CHANNEL, "deny": 0},
            *({"id": uid, "type": 1, "allow": VIEW_CHANNEL, "deny": 0} for uid in memberships[i]),
        ]
        channel = fake.add_text_channel(guild_id, f"circle-{i}", permission_overwrites=overwrites)
        spaces.append((None, channel, memberships[i]))
    lonely = [fake.add_member(guild_id, name=f"visitor{i}") for i in range(loners)]
    return guild_id, admin, spaces, lonely


async def seed(
    db_target: str | Path,
    fake: FakeDiscord,
    rng: random.Random,
    *,
    now: datetime,
    window_seconds: int,
    per_second: int = 4,
    groups: int = 40,
    users: int = 60,
    loners: int = 10,
) -> Workload:
    """Write groups, members, DM preferences and series; return what must be posted."""
    guild_id, admin, spaces, lonely = populate_fake(
        fake, rng, groups=groups, users=users, loners=loners
    )
    start = now.replace(microsecond=0)
    work = Workload(guild_id, admin, start, start, loners=lonely)
    db = await Database.connect(db_target)
    try:
        await migrate(db)
        group_repo, session_repo = GroupRepository(db), SessionRepository(db)
        reminder_repo = ReminderRepository(db)
        people = sorted({u for _, _, members in spaces for u in members})
        work.dm_users = set(rng.sample(people, k=len(people) * 2 // 5))
        for user in sorted(work.dm_users):
            await reminder_repo.set_dm(user, True, None, start)
        for i, (role, channel, members) in enumerate(spaces):
            group = await group_repo.create(
                guild_id=guild_id,
                name=f"Circle {i}",
                description="A weekly circle",
                focus="families",
                capacity=None,
                join_mode=JoinMode.OPEN,
                guidelines="Be kind. What is said here stays here.",
                role_id=role,
                channel_id=channel,
                created_by=admin,
                now=start,
            )
            for user in members:
                await group_repo.add_membership(group.id, user, MembershipStatus.MEMBER, 1, start)
            work.groups.append(GroupSeed(group.id, channel, members))
        plans: list[tuple[int, datetime, datetime | None]] = []
        # The first reminders are due 2 s after the seed instant: the bot is not up yet, so
        # those go out overdue (within grace) at its first start.
        for second in range(2, window_seconds + 2):
            due = start + timedelta(seconds=second)
            for _ in range(per_second):
                g = rng.choice(work.groups)
                offset = rng.choice((60, 1440))
                first = (due + timedelta(minutes=offset)).replace(tzinfo=None)
                series = await session_repo.create(
                    group_id=g.group_id,
                    guild_id=guild_id,
                    title=f"Check-in {second}",
                    tz="UTC",
                    first_local=first,
                    repeat="weekly",
                    duration_minutes=60,
                    voice_channel_id=None,
                    created_by=admin,
                    now=start,
                )
                plans.append((series.id, start, start))
                work.series_group[series.id] = g
                work.expected[(series.id, CHANNEL)] = due
                for user in g.members:
                    if user in work.dm_users:
                        work.expected[(series.id, f"dm:{user}")] = due
                work.end = due
        await session_repo.set_plans(plans)
    finally:
        await db.close()
    assert work.end.tzinfo is UTC
    return work
