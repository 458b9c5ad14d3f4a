"""Hostile review: messages posted where everyone (or the facilitators) read them speak
the server's language, not the language of the member whose press caused them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.harness import World, custom_ids, eventually

pytestmark = pytest.mark.asyncio


def labels(body: Any) -> list[str]:
    return [
        str(c.get("label"))
        for row in body.get("components") or []
        for c in row.get("components") or []
    ]


async def test_join_request_in_alerts_channel_speaks_the_servers_language(world: World) -> None:
    await world.configure()
    await world.run_to_end(
        world.facilitator,
        "group",
        "create",
        name="Parents Circle",
        description="A weekly circle for parents",
        focus="parents of teens in IOP",
        join_mode="approval",
    )
    h = await world.fake.slash(
        world.guild_id,
        world.alice,
        "group",
        "join",
        options={"name": "Parents Circle"},
        locale="es-ES",
    )
    await h.wait_response()
    (consent_id,) = custom_ids(h.callback)
    click = await world.fake.click(
        world.guild_id, world.alice, consent_id, message_id=world.fake.next_id(), locale="es-ES"
    )
    await click.wait_response()
    alert = await eventually(lambda: world.fake.messages_in(world.alerts_channel))
    # The server never chose Spanish: its facilitators read English buttons.
    assert labels(alert[-1]) == ["Approve", "Deny"]


async def test_series_change_notice_in_group_channel_speaks_the_servers_language(
    world: World,
) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.e2e.harness import rows, text_of
    from tests.e2e.test_sessions_e2e import setup_group

    channel = await setup_group(world)
    day = datetime.now(UTC).date() + timedelta(days=10)
    await world.run_to_end(
        world.facilitator,
        "session",
        "schedule",
        group="Parents Circle",
        title="Evening circle",
        date=day.isoformat(),
        time="19:30",
        duration=90,
        timezone="Europe/London",
        repeat="weekly",
    )
    [series] = await rows(world, "SELECT id FROM session_series WHERE status = 'active'")
    before = len(world.fake.messages_in(channel))
    h = await world.fake.slash(
        world.guild_id,
        world.facilitator,
        "session",
        "edit",
        options={"session": str(series["id"]), "time": "20:00"},
        locale="es-ES",
    )
    await h.wait_response()
    posts = await eventually(lambda: world.fake.messages_in(channel)[before:])
    shown = text_of(posts[-1])
    assert "From now on" in shown
    # The group's channel reads the server's language (English), whole sentences included.
    assert "every week on" in shown, shown


async def test_start_here_panel_speaks_the_servers_language_not_the_admins(
    world: World,
) -> None:
    from tests.e2e.harness import text_of
    from tests.e2e.test_welcome_e2e import start_here

    await world.configure()
    cid = await start_here(world)
    h = await world.fake.slash(
        world.guild_id, world.admin, "setup", "welcome", options={"channel": cid}, locale="es-ES"
    )
    await h.wait_response()
    english = await eventually(lambda: world.fake.messages_in(cid))
    panel = english[-1]
    # The server never chose Spanish (README: a message to a channel speaks /setup language).
    assert "Bienvenido/a" not in text_of(panel), text_of(panel)[:80]
    assert text_of(panel).startswith("Start here"), text_of(panel)[:80]
