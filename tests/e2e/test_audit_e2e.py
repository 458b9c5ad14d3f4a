"""The audit log end to end: every facilitator and admin command and button leaves one
entry (ids only) after its reply, refusals included, and /setup audit shows them."""

from __future__ import annotations

import logging
import sqlite3

import asyncpg
import pytest

from tests.e2e.harness import World, custom_ids, eventually, rows, text_of

pytestmark = pytest.mark.asyncio

REASON = "Please be gentle in the parents channel"


async def audit(world: World, count: int) -> list[dict[str, object]]:
    """The audit rows, once there are `count` (completion hooks run just after replies)."""

    async def enough() -> list[dict[str, object]] | None:
        found = await rows(
            world,
            "SELECT actor_id, action, target_id, target_kind, result FROM audit_log ORDER BY id",
        )
        return found if len(found) >= count else None

    found: list[dict[str, object]] = await eventually(enough)
    return found


def entry(
    actor: int, action: str, target: int | None, kind: str | None, result: str = "ok"
) -> dict[str, object]:
    return {
        "actor_id": actor,
        "action": action,
        "target_id": target,
        "target_kind": kind,
        "result": result,
    }


async def test_admin_and_facilitator_commands_are_recorded_with_ids_only(world: World) -> None:
    await world.configure()
    # The set-up's two entries first: their completion hooks run just after the replies, so
    # on a loaded machine the next command's entry could otherwise be written before them.
    await audit(world, 2)
    # A plain member trying an admin command: refused, and recorded as such.
    h = await world.run(world.alice, "setup", "alerts", channel=world.modlog_channel)
    assert h.ephemeral and "Only server admins" in h.content
    # A facilitator warning someone: the reason is never stored in the audit log.
    await world.run_to_end(world.facilitator, "mod", "warn", member=world.bob, reason=REASON)
    # A member command leaves no entry at all.
    await world.run(world.carol, "group", "list")
    # A group command's target is the group, by id.
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle",
        focus="parents",
        join_mode="open",
    )
    found = await audit(world, 5)
    (group,) = await rows(world, "SELECT id FROM groups")
    assert found == [
        entry(world.admin, "setup.facilitator-role", world.facilitator_role, "role"),
        entry(world.admin, "setup.alerts", world.alerts_channel, "channel"),
        entry(world.alice, "setup.alerts", world.modlog_channel, "channel", "refused"),
        entry(world.facilitator, "mod.warn", world.bob, "user"),
        entry(world.facilitator, "group.create", group["id"], "group"),
    ]
    # The audit log holds no free text anywhere.
    assert REASON not in str(await rows(world, "SELECT * FROM audit_log"))


async def test_approval_buttons_are_recorded_and_refusals_too(world: World) -> None:
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle",
        focus="parents",
        join_mode="approval",
    )
    h = await world.run(world.alice, "group", "join", name="Parents Circle")
    (consent,) = custom_ids(h.callback)
    click = await world.fake.click(world.guild_id, world.alice, consent)
    await click.wait_response()
    alert = await eventually(lambda: world.fake.messages_in(world.alerts_channel))
    approve_id, _ = custom_ids(alert[-1])
    message_id = int(alert[-1]["id"])
    for user in (world.bob, world.facilitator):
        press = await world.fake.click(
            world.guild_id, user, approve_id, message_id=message_id, channel_id=world.alerts_channel
        )
        await press.wait_response()
    found = await audit(world, 5)
    assert found[-2:] == [
        entry(world.bob, "button.join-approve", world.alice, "user", "refused"),
        entry(world.facilitator, "button.join-approve", world.alice, "user"),
    ]


async def test_setup_audit_shows_recent_entries_to_admins_only(world: World) -> None:
    await world.configure()
    await world.run_to_end(world.facilitator, "mod", "warn", member=world.bob, reason=REASON)
    await audit(world, 3)

    h = await world.run(world.admin, "setup", "audit")
    assert h.ephemeral
    shown = text_of(h.callback)
    lines = [line for line in shown.splitlines() if "`" in line]
    # Newest first, with Discord timestamps and mentions (fine: only the admin sees it).
    assert "`mod.warn`" in lines[0] and f"<@{world.bob}>" in lines[0]
    assert f"<@{world.facilitator}>" in lines[0] and "<t:" in lines[0]
    assert "`setup.facilitator-role`" in lines[-1]
    assert REASON not in shown

    h = await world.run(world.admin, "setup", "audit", count=1)
    assert len([line for line in text_of(h.callback).splitlines() if "`" in line]) == 1

    h = await world.run(world.admin, "setup", "audit", member=world.facilitator)
    filtered = text_of(h.callback)
    assert "`mod.warn`" in filtered and "setup.alerts" not in filtered

    h = await world.run(world.alice, "setup", "audit")
    assert h.ephemeral and "Only server admins" in h.content
    assert "mod.warn" not in text_of(h.callback)


async def test_a_failing_audit_write_never_breaks_the_command(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.configure()
    await audit(world, 2)
    # Make every audit insert fail from now on (think: a disk problem on that table only).
    if world.database_url is None:
        conn = sqlite3.connect(world.db_path)
        conn.execute(
            "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
        )
        conn.commit()
        conn.close()
    else:
        pg = await asyncpg.connect(world.database_url)
        await pg.execute(
            "CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk trouble'; END $$; "
            "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_broken()"
        )
        await pg.close()
    with caplog.at_level(logging.ERROR, logger="familybot.services.audit.service"):
        h = await world.run(world.admin, "setup", "timezone", tz="Europe/London")
        assert h.ephemeral and "Europe/London" in h.content
        await eventually(lambda: caplog.records)
    assert (await rows(world, "SELECT timezone FROM guild_settings"))[0]["timezone"] == (
        "Europe/London"
    )
    (record,) = caplog.records
    assert record.getMessage() == (
        f"audit record failed guild={world.guild_id} actor={world.admin} "
        "action=setup.timezone error=IntegrityError"
    )
