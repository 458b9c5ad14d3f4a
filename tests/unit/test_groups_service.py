from __future__ import annotations

import pytest

from familybot.db.connection import Database
from familybot.errors import Conflict, DiscordActionFailed, NotAllowed, NotFound, UserFacingError
from familybot.models import GroupStatus, JoinMode, MembershipStatus
from familybot.models.groups import JoinResult
from familybot.wiring import Services
from tests.support.fakes import FakeClock, RecordingPort

GUILD = 1
FAC = 10


async def make_group(
    services: Services,
    name: str = "Parents Circle",
    capacity: int | None = None,
    mode: JoinMode = JoinMode.OPEN,
) -> int:
    group = await services.groups.create(
        guild_id=GUILD,
        actor_id=FAC,
        name=name,
        description="A weekly circle",
        focus="parents of teens in IOP",
        capacity=capacity,
        join_mode=mode,
    )
    return group.id


async def join(services: Services, user: int, name: str = "Parents Circle") -> JoinResult:
    group = await services.groups.prepare_join(GUILD, user, name)
    outcome = await services.groups.consent_and_join(
        group.id, user, group.guidelines_version, guild_id=GUILD
    )
    return outcome.result


async def statuses(db: Database, group_id: int) -> dict[int, str]:
    rows = await db.fetchall(
        "SELECT user_id, status FROM memberships WHERE group_id = ?", (group_id,)
    )
    return {r["user_id"]: r["status"] for r in rows}


async def test_create_makes_space_and_records_creator_as_facilitator(
    services: Services, port: RecordingPort
) -> None:
    gid = await make_group(services)
    group = await services.groups.info(GUILD, "  parents   CIRCLE ")
    assert group.group.id == gid
    # A channel and no role: nothing on anyone's profile names the group.
    assert group.group.role_id is None and group.group.channel_id is not None
    assert port.can_see(group.group.channel_id, FAC)
    assert port.calls[0] == (
        "create_group_space",
        (GUILD, "Parents Circle", "parents of teens in IOP", (FAC,)),
    )
    roster = await services.groups.roster(GUILD, "Parents Circle")
    assert roster.facilitator_ids == [FAC]


async def test_duplicate_name_is_refused_without_side_effects(
    services: Services, port: RecordingPort
) -> None:
    await make_group(services)
    before = len(port.calls)
    with pytest.raises(Conflict, match="already a group"):
        await make_group(services, name="parents circle")
    assert len(port.calls) == before


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "x"}, "name"),
        ({"name": "y" * 51}, "50 or fewer"),
        ({"description": "   "}, "description can't be empty"),
        ({"capacity": 0}, "Capacity"),
        ({"capacity": 5000}, "at most 86 members"),
        ({"capacity": 87}, "at most 86 members"),
    ],
)
async def test_create_validates(
    services: Services, port: RecordingPort, kwargs: dict[str, object], fragment: str
) -> None:
    args: dict[str, object] = {
        "guild_id": GUILD,
        "actor_id": FAC,
        "name": "Circle",
        "description": "d",
        "focus": "f",
        "capacity": None,
        "join_mode": JoinMode.OPEN,
    }
    args.update(kwargs)
    with pytest.raises(UserFacingError, match=fragment):
        await services.groups.create(**args)  # type: ignore[arg-type]
    assert port.calls == []


async def test_discord_failure_on_create_stores_nothing(
    services: Services, port: RecordingPort, db: Database
) -> None:
    port.fail.add("create_group_space")
    with pytest.raises(DiscordActionFailed):
        await make_group(services)
    assert await db.fetchval("SELECT count(*) FROM groups") == 0


async def test_open_join_seats_member_with_consent_recorded(
    services: Services, port: RecordingPort, db: Database, clock: FakeClock
) -> None:
    gid = await make_group(services)
    assert await join(services, 100) is JoinResult.SEATED
    row = await db.fetchone(
        "SELECT * FROM memberships WHERE group_id = ? AND user_id = 100", (gid,)
    )
    assert row is not None
    assert row["status"] == "member"
    assert row["consent_version"] == 1
    assert row["consented_at"] == int(clock.now().timestamp())
    group = await services.groups.info(GUILD, "Parents Circle")
    assert port.access[group.group.channel_id or 0][100] == "rw"
    assert not port.roles  # no role given to anyone
    assert group.seats_taken == 1


async def test_prepare_join_records_nothing(services: Services, db: Database) -> None:
    await make_group(services)
    await services.groups.prepare_join(GUILD, 100, "Parents Circle")
    assert await db.fetchval("SELECT count(*) FROM memberships") == 0


async def test_join_twice_is_refused(services: Services, port: RecordingPort) -> None:
    await make_group(services)
    await join(services, 100)
    calls = len(port.calls)
    with pytest.raises(Conflict, match="already a member"):
        await services.groups.prepare_join(GUILD, 100, "Parents Circle")
    group = await services.groups.info(GUILD, "Parents Circle")
    with pytest.raises(Conflict, match="already a member"):
        await services.groups.consent_and_join(group.group.id, 100, 1, guild_id=GUILD)
    assert len(port.calls) == calls


async def test_unknown_group(services: Services) -> None:
    with pytest.raises(NotFound, match="couldn't find a group called “Nope”"):
        await services.groups.prepare_join(GUILD, 100, "Nope")
    with pytest.raises(NotFound):
        await services.groups.leave(GUILD, 100, "Nope")
    with pytest.raises(NotFound):
        await services.groups.info(GUILD, "Nope")


async def test_groups_are_per_server(services: Services) -> None:
    await make_group(services)
    with pytest.raises(NotFound):
        await services.groups.info(GUILD + 1, "Parents Circle")


async def test_capacity_waitlist_and_promotion_on_leave(
    services: Services, port: RecordingPort, db: Database
) -> None:
    gid = await make_group(services, capacity=2)
    assert await join(services, 101) is JoinResult.SEATED
    assert await join(services, 102) is JoinResult.SEATED
    group = await services.groups.prepare_join(GUILD, 103, "Parents Circle")
    outcome = await services.groups.consent_and_join(group.id, 103, 1, guild_id=GUILD)
    assert outcome.result is JoinResult.WAITLISTED and outcome.position == 1
    group = await services.groups.prepare_join(GUILD, 104, "Parents Circle")
    outcome = await services.groups.consent_and_join(group.id, 104, 1, guild_id=GUILD)
    assert outcome.position == 2
    with pytest.raises(Conflict, match="number 2 in line"):
        await services.groups.prepare_join(GUILD, 104, "Parents Circle")
    # No access for waitlisted people.
    channel = (await services.groups.info(GUILD, "Parents Circle")).group.channel_id
    assert not port.can_see(channel, 103)

    result = await services.groups.leave(GUILD, 101, "Parents Circle")
    assert result.promoted_user_ids == [103]
    assert await statuses(db, gid) == {102: "member", 103: "member", 104: "waitlisted"}
    assert port.dms[-1][0] == 103 and "seat opened" in port.dms[-1][1].title
    assert port.can_see(channel, 103) and not port.can_see(channel, 101)
    assert (await services.groups.info(GUILD, "Parents Circle")).seats_left == 0


async def test_leaving_waitlist_moves_others_up(services: Services) -> None:
    gid = await make_group(services, capacity=1)
    for user in (1, 2, 3):
        await join(services, user)
    await services.groups.leave(GUILD, 2, "Parents Circle")
    roster = await services.groups.roster(GUILD, "Parents Circle")
    assert [e.user_id for e in roster.waitlisted] == [3]
    assert gid


async def test_leave_when_not_in_group(services: Services, port: RecordingPort) -> None:
    await make_group(services)
    with pytest.raises(Conflict, match="not in “Parents Circle”"):
        await services.groups.leave(GUILD, 555, "Parents Circle")


async def test_role_failure_on_join_changes_nothing(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await make_group(services)
    port.fail.add("grant_channel_access")
    with pytest.raises(DiscordActionFailed):
        await join(services, 100)
    assert await db.fetchval("SELECT count(*) FROM memberships") == 0


async def test_changed_guidelines_require_fresh_consent(services: Services, db: Database) -> None:
    gid = await make_group(services)
    await services.groups.prepare_join(GUILD, 100, "Parents Circle")
    await services.groups.edit(
        guild_id=GUILD, name="Parents Circle", guidelines="Be kind. Keep it here."
    )
    with pytest.raises(Conflict, match=r"guidelines .* changed"):
        await services.groups.consent_and_join(gid, 100, 1, guild_id=GUILD)
    assert await db.fetchval("SELECT count(*) FROM memberships") == 0
    outcome = await services.groups.consent_and_join(gid, 100, 2, guild_id=GUILD)
    assert outcome.result is JoinResult.SEATED


async def test_approval_mode_needs_alerts_channel(services: Services, db: Database) -> None:
    await make_group(services, mode=JoinMode.APPROVAL)
    with pytest.raises(Conflict, match="hasn't set up a place"):
        await services.groups.prepare_join(GUILD, 100, "Parents Circle")
    assert await db.fetchval("SELECT count(*) FROM memberships") == 0


async def test_approval_flow_approve_and_deny(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await services.setup.set_alerts_channel(GUILD, 777)
    gid = await make_group(services, mode=JoinMode.APPROVAL, capacity=1)
    assert await join(services, 100) is JoinResult.PENDING
    assert ("post_join_request", (GUILD, 777, gid, "Parents Circle", 100)) in port.calls
    assert not port.can_see(
        (await services.groups.info(GUILD, "Parents Circle")).group.channel_id, 100
    )
    with pytest.raises(Conflict, match="already with the facilitators"):
        await services.groups.prepare_join(GUILD, 100, "Parents Circle")

    decision = await services.groups.decide(gid, 100, approve=True, guild_id=GUILD)
    assert decision.outcome is not None and decision.outcome.result is JoinResult.SEATED
    assert "approved" in port.dms[-1][1].body
    # A second click on the same request changes nothing.
    again = await services.groups.decide(gid, 100, approve=True, guild_id=GUILD)
    assert again.already_decided

    assert await join(services, 200) is JoinResult.PENDING
    decision = await services.groups.decide(gid, 200, approve=True, guild_id=GUILD)
    assert decision.outcome is not None and decision.outcome.result is JoinResult.WAITLISTED
    assert decision.outcome.position == 1

    assert await join(services, 300) is JoinResult.PENDING
    denied = await services.groups.decide(gid, 300, approve=False, guild_id=GUILD)
    assert denied.outcome is None and not denied.already_decided
    assert await statuses(db, gid) == {100: "member", 200: "waitlisted"}
    assert "weren't able to offer you a place" in port.dms[-1][1].body


async def test_failed_alert_post_leaves_no_pending_row(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await services.setup.set_alerts_channel(GUILD, 777)
    await make_group(services, mode=JoinMode.APPROVAL)
    port.fail.add("post_join_request")
    with pytest.raises(DiscordActionFailed):
        await join(services, 100)
    assert await db.fetchval("SELECT count(*) FROM memberships") == 0


async def test_archive_blocks_joining_and_clears_queues(
    services: Services, port: RecordingPort, db: Database
) -> None:
    gid = await make_group(services, capacity=1)
    await join(services, 1)
    await join(services, 2)
    archived = await services.groups.archive(GUILD, "Parents Circle")
    assert archived.status is GroupStatus.ARCHIVED
    assert "archive_group_space" in port.names()
    assert await statuses(db, gid) == {1: "member"}
    # The member and the facilitator keep reading their history; nobody else sees it.
    assert port.access[archived.channel_id or 0] == {FAC: "ro", 1: "ro"}
    with pytest.raises(Conflict, match="archived"):
        await services.groups.prepare_join(GUILD, 3, "Parents Circle")
    with pytest.raises(Conflict, match="archived"):
        await services.groups.consent_and_join(gid, 3, 1, guild_id=GUILD)
    assert await services.groups.list_groups(GUILD) == []
    # The name can be reused by a new group.
    await make_group(services)


async def test_edit_capacity_promotes_waitlist(services: Services, db: Database) -> None:
    gid = await make_group(services, capacity=1)
    await join(services, 1)
    await join(services, 2)
    group, promoted = await services.groups.edit(guild_id=GUILD, name="Parents Circle", capacity=0)
    assert group.capacity is None
    assert promoted == [2]
    assert await statuses(db, gid) == {1: "member", 2: "member"}


async def test_edit_needs_a_change_and_unique_name(services: Services) -> None:
    await make_group(services)
    await make_group(services, name="Siblings")
    with pytest.raises(UserFacingError, match="Nothing to change"):
        await services.groups.edit(guild_id=GUILD, name="Parents Circle")
    with pytest.raises(Conflict, match="already a group"):
        await services.groups.edit(guild_id=GUILD, name="Parents Circle", new_name="siblings")


async def test_remove_member_tells_them_privately(
    services: Services, port: RecordingPort, db: Database
) -> None:
    gid = await make_group(services)
    await join(services, 100)
    await services.groups.remove_member(GUILD, "Parents Circle", 100)
    assert await statuses(db, gid) == {}
    channel = (await services.groups.info(GUILD, "Parents Circle")).group.channel_id
    assert not port.can_see(channel, 100)
    assert port.dms[-1][0] == 100
    with pytest.raises(Conflict, match="isn't in this group"):
        await services.groups.remove_member(GUILD, "Parents Circle", 100)


async def test_add_facilitator(services: Services, port: RecordingPort) -> None:
    await make_group(services)
    with pytest.raises(NotAllowed, match="isn't a facilitator"):
        await services.groups.add_facilitator(GUILD, "Parents Circle", 20, FAC, False)
    await services.groups.add_facilitator(GUILD, "Parents Circle", 20, FAC, True)
    assert port.calls[-1][0] == "grant_channel_access"
    with pytest.raises(Conflict, match="already facilitate"):
        await services.groups.add_facilitator(GUILD, "Parents Circle", 20, FAC, True)
    roster = await services.groups.roster(GUILD, "Parents Circle")
    assert roster.facilitator_ids == [FAC, 20]


async def test_autocomplete_prefers_prefix(services: Services) -> None:
    await make_group(services, name="Siblings Circle")
    await make_group(services, name="Circle of Parents")
    assert await services.groups.autocomplete_names(GUILD, "circ") == [
        "Circle of Parents",
        "Siblings Circle",
    ]
    assert await services.groups.autocomplete_names(GUILD, "%") == []


async def test_statuses_enum_roundtrip(services: Services) -> None:
    await make_group(services, capacity=1)
    await join(services, 1)
    await join(services, 2)
    roster = await services.groups.roster(GUILD, "Parents Circle")
    assert [e.user_id for e in roster.members] == [1]
    assert MembershipStatus("waitlisted") is MembershipStatus.WAITLISTED


# --- Discord's 100 overwrites per channel: capacity is capped, kindly ---------------------------


async def test_capacity_above_what_fits_on_a_channel_is_refused_kindly(
    services: Services, port: RecordingPort, db: Database
) -> None:
    from familybot.services.groups.rules import (
        CAPACITY_MAX,
        CHANNEL_OVERWRITES_MAX,
        FACILITATORS_MAX,
    )

    # Members, facilitators, @everyone, the bot, the facilitator role and a spare fit in 100.
    assert CAPACITY_MAX + FACILITATORS_MAX + 4 == CHANNEL_OVERWRITES_MAX
    with pytest.raises(UserFacingError) as refused:
        await make_group(services, capacity=CAPACITY_MAX + 1)
    message = str(refused.value)
    assert f"at most {CAPACITY_MAX} members" in message and "Please choose" in message
    assert port.calls == [] and await db.fetchval("SELECT count(*) FROM groups") == 0

    await make_group(services, capacity=CAPACITY_MAX)  # the most is fine
    with pytest.raises(UserFacingError, match=f"at most {CAPACITY_MAX} members"):
        await services.groups.edit(guild_id=GUILD, name="Parents Circle", capacity=CAPACITY_MAX + 1)
    group = (await services.groups.info(GUILD, "Parents Circle")).group
    assert group.capacity == CAPACITY_MAX  # unchanged


async def test_no_limit_still_seats_only_as_many_as_fit_on_the_channel(
    services: Services, port: RecordingPort, db: Database
) -> None:
    from familybot.services.groups.rules import CAPACITY_MAX

    gid = await make_group(services, capacity=None)
    for user in range(1000, 1000 + CAPACITY_MAX + 2):
        await join(services, user)
    states = await statuses(db, gid)
    assert sum(1 for v in states.values() if v == "member") == CAPACITY_MAX
    assert sum(1 for v in states.values() if v == "waitlisted") == 2
    channel = (await services.groups.info(GUILD, "Parents Circle")).group.channel_id or 0
    assert len(port.access[channel]) == CAPACITY_MAX + 1  # the members and the facilitator


async def test_a_group_has_at_most_ten_facilitators(
    services: Services, port: RecordingPort
) -> None:
    from familybot.services.groups.rules import FACILITATORS_MAX

    await make_group(services)
    for user in range(2000, 2000 + FACILITATORS_MAX - 1):  # FAC is the first
        await services.groups.add_facilitator(GUILD, "Parents Circle", user, FAC, True)
    with pytest.raises(Conflict, match=f"already has {FACILITATORS_MAX} facilitators"):
        await services.groups.add_facilitator(GUILD, "Parents Circle", 3000, FAC, True)
    channel = (await services.groups.info(GUILD, "Parents Circle")).group.channel_id
    assert not port.can_see(channel, 3000)


async def test_a_facilitator_who_leaves_as_member_keeps_facilitator_access(
    services: Services, port: RecordingPort
) -> None:
    await make_group(services)
    await services.groups.add_facilitator(GUILD, "Parents Circle", 20, FAC, True)
    await join(services, 20)
    await services.groups.leave(GUILD, 20, "Parents Circle")
    channel = (await services.groups.info(GUILD, "Parents Circle")).group.channel_id
    assert port.can_see(channel, 20)


# --- a removed member comes back through the facilitators (issue 10, item 3) ----------------


async def test_removed_member_next_join_is_a_request_even_in_an_open_group(
    services: Services, port: RecordingPort, db: Database, clock: FakeClock
) -> None:
    await services.setup.set_alerts_channel(GUILD, 777)
    gid = await make_group(services)
    assert await join(services, 100) is JoinResult.SEATED
    removed_on = clock.now()
    await services.groups.remove_member(GUILD, "Parents Circle", 100)
    clock.advance(minutes=5)

    assert await join(services, 100) is JoinResult.PENDING
    assert await statuses(db, gid) == {100: "pending"}
    assert ("post_join_request", (GUILD, 777, gid, "Parents Circle", 100)) in port.calls
    assert port.join_requests_removed_at[-1] == removed_on
    # One pending request at a time.
    with pytest.raises(Conflict, match="already with the facilitators"):
        await services.groups.prepare_join(GUILD, 100, "Parents Circle")
    # Someone never removed still joins an open group at once.
    assert await join(services, 101) is JoinResult.SEATED

    decision = await services.groups.decide(gid, 100, approve=True, guild_id=GUILD)
    assert decision.outcome is not None and decision.outcome.result is JoinResult.SEATED
    assert await db.fetchval("SELECT count(*) FROM join_reviews") == 0
    # Approved: leaving and coming back later is an ordinary join again.
    await services.groups.leave(GUILD, 100, "Parents Circle")
    assert await join(services, 100) is JoinResult.SEATED


async def test_denied_request_waits_seven_days(
    services: Services, port: RecordingPort, db: Database, clock: FakeClock
) -> None:
    await services.setup.set_alerts_channel(GUILD, 777)
    gid = await make_group(services, mode=JoinMode.APPROVAL)
    assert await join(services, 100) is JoinResult.PENDING
    denied_at = clock.now()
    await services.groups.decide(gid, 100, approve=False, guild_id=GUILD)
    again = int(denied_at.timestamp()) + 7 * 24 * 3600
    assert f"<t:{again}:F>" in port.dms[-1][1].body

    clock.advance(days=7, seconds=-1)
    with pytest.raises(Conflict, match=rf"ask again from <t:{again}:F> \(<t:{again}:R>\)"):
        await services.groups.prepare_join(GUILD, 100, "Parents Circle")
    with pytest.raises(Conflict, match="ask again"):  # the old I agree button too
        await services.groups.consent_and_join(gid, 100, 1, guild_id=GUILD)
    assert await statuses(db, gid) == {}
    clock.advance(seconds=1)
    assert await join(services, 100) is JoinResult.PENDING


async def test_buttons_from_another_server_change_nothing(
    services: Services, port: RecordingPort, db: Database
) -> None:
    await services.setup.set_alerts_channel(GUILD, 777)
    gid = await make_group(services, mode=JoinMode.APPROVAL)
    with pytest.raises(NotFound, match="couldn't find that group on this server"):
        await services.groups.consent_and_join(gid, 100, 1, guild_id=GUILD + 1)
    with pytest.raises(NotFound, match="couldn't find that group on this server"):
        await services.groups.consent_and_join(gid, 100, 1, guild_id=None)
    assert await join(services, 100) is JoinResult.PENDING
    with pytest.raises(NotFound, match="couldn't find that group on this server"):
        await services.groups.decide(gid, 100, approve=True, guild_id=GUILD + 1)
    assert await statuses(db, gid) == {100: "pending"}


async def test_export_and_forget_cover_join_reviews(
    services: Services, db: Database, clock: FakeClock
) -> None:
    gid = await make_group(services)
    await services.setup.set_alerts_channel(GUILD, 777)
    await join(services, 100)
    await services.groups.remove_member(GUILD, "Parents Circle", 100)
    exported = await services.groups.export_user_data(100)
    assert exported["join_reviews"] == [
        {
            "guild_id": str(GUILD),
            "group": "Parents Circle",
            "removed_at": clock.now().isoformat(),
            "denied_at": None,
            "next_request_from": None,
        }
    ]
    assert await services.groups.delete_user_data(100) >= 0
    # Kept as the server's record, like a moderation case: forgetting can't undo a removal.
    assert await db.fetchval("SELECT count(*) FROM join_reviews") == 1
    assert await join(services, 100) is JoinResult.PENDING  # still goes to the facilitators
    assert await statuses(db, gid) == {100: "pending"}
