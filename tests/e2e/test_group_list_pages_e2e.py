"""/group list past ten groups: pages with Previous / Next buttons that survive a restart."""

from __future__ import annotations

import re

from tests.e2e.harness import World, custom_ids, text_of
from tests.e2e.test_groups_e2e import create_group

NAME = re.compile(r"\*\*(Circle \w+)\*\*")


def names(body: object) -> list[str]:
    return NAME.findall(text_of(body))


def buttons(body: object) -> list[dict[str, object]]:
    data = body.get("data", body) if isinstance(body, dict) else {}
    return [c for row in (data or {}).get("components") or [] for c in row["components"]]


async def test_a_long_list_pages_by_ten_and_the_buttons_work_after_a_restart(
    world: World,
) -> None:
    await world.configure()
    h = await world.run(world.bob, "group", "list")
    assert buttons(h.callback) == []  # no groups: no buttons
    for i in range(12):
        await create_group(world, name=f"Circle {i:02d}")
    await create_group(world, name="Circle 05b", capacity=3)

    h = await world.run(world.bob, "group", "list")
    assert h.ephemeral
    first = ["Circle 00", "Circle 01", "Circle 02", "Circle 03", "Circle 04", "Circle 05"]
    assert names(h.callback) == [*first, "Circle 05b", "Circle 06", "Circle 07", "Circle 08"]
    text = text_of(h.callback)
    assert "**Circle 05b**: parents of teens in IOP\n3 seats left" in text
    assert "Join with /group join. Who is in a group is never shown publicly." in text
    assert "more. Use `/group info`" not in text
    labels = [(b["label"], bool(b.get("disabled"))) for b in buttons(h.callback)]
    assert labels == [("Previous", True), ("Page 1 of 2", True), ("Next", False)]

    await world.restart()  # the buttons carry their page: a restart does not break them
    next_id = custom_ids(h.callback)[2]
    click = await world.fake.click(world.guild_id, world.bob, next_id)
    body = await click.wait_response()
    assert body["type"] == 7  # the same private message, turned to page 2
    assert names(body) == ["Circle 09", "Circle 10", "Circle 11"]
    labels = [(b["label"], bool(b.get("disabled"))) for b in buttons(body)]
    assert labels == [("Previous", False), ("Page 2 of 2", True), ("Next", True)]

    back = await world.fake.click(world.guild_id, world.bob, custom_ids(body)[0])
    assert names(await back.wait_response()) == names(h.callback)
