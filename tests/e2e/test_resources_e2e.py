"""The resource library end to end: suggest -> review -> approve -> search -> share."""

from __future__ import annotations

import pytest

from tests.e2e.harness import World, custom_ids, eventually, text_of

pytestmark = pytest.mark.asyncio


async def suggest(world: World, user: int, title: str, url: str) -> object:
    return await world.run_to_end(
        user,
        "resource",
        "suggest",
        title=title,
        url=url,
        category="Guides",
        description="Worksheets to manage anxiety at home @everyone <@&1>",
    )


def dm_bodies(world: World) -> list[str]:
    out = []
    for r in world.fake.requests_to("POST", r"/channels/\d+/messages"):
        channel = world.fake.channel(int(r.path.split("/")[2]))
        if "guild_id" not in channel:
            out.append(text_of(r.json_body))
    return out


async def test_suggest_review_approve_search_share(world: World) -> None:
    await world.configure()
    h = await suggest(world, world.alice, "Anxiety toolkit", "https://example.org/toolkit")
    assert "Thank you for suggesting" in h.responses[-1]["body"]["content"]
    alerts = await eventually(
        lambda: world.fake.requests_to("POST", rf"/channels/{world.alerts_channel}/messages")
    )
    assert "/resource review" in text_of(alerts[-1].json_body)

    # Members can't review, and pending items are invisible to them.
    h = await world.run(world.alice, "resource", "review")
    assert h.ephemeral and "Only facilitators" in h.content
    h = await world.run(world.bob, "resource", "search", query="anxiety")
    assert "Nothing in the library" in text_of(h.callback)

    h = await world.run(world.facilitator, "resource", "review")
    assert h.ephemeral and "Anxiety toolkit" in text_of(h.callback)
    approve, reject = custom_ids(h.callback)
    assert approve.endswith(":approve") and reject.endswith(":reject")
    click = await world.fake.click(world.guild_id, world.facilitator, approve)
    body = await click.wait_response()
    assert body["type"] == 7 and "approved" in body["data"]["content"]
    await eventually(lambda: any("was added" in t for t in dm_bodies(world)))

    h = await world.run(world.bob, "resource", "search", query="anxeity")
    shown = text_of(h.callback)
    assert h.ephemeral and "Anxiety toolkit" in shown and "https://example.org/toolkit" in shown

    ac = await world.fake.autocomplete(
        world.guild_id,
        world.bob,
        "resource",
        "share",
        focused="resource",
        options={"resource": "anx"},
    )
    choices = (await ac.wait_response())["data"]["choices"]
    assert [c["name"] for c in choices] == ["Anxiety toolkit"]

    general = world.fake.guilds[world.guild_id].general_channel_id
    before = len(world.fake.requests_to("POST", rf"/channels/{general}/messages"))
    h = await world.run_to_end(
        world.bob, "resource", "share", resource=choices[0]["value"], channel=general
    )
    assert "Shared" in h.responses[-1]["body"]["content"]
    posts = world.fake.requests_to("POST", rf"/channels/{general}/messages")[before:]
    assert len(posts) == 1
    card = posts[0].json_body
    assert card["allowed_mentions"]["parse"] == []
    (embed,) = card["embeds"]
    assert embed["title"] == "Anxiety toolkit" and embed["url"] == "https://example.org/toolkit"
    assert "@everyone" not in embed["description"] and "<@&" not in embed["description"]


async def test_reject_modal_works_after_a_restart(world: World) -> None:
    await world.configure()
    await suggest(world, world.alice, "Miracle cure", "https://example.org/cure")
    h = await world.run(world.facilitator, "resource", "review")
    _, reject = custom_ids(h.callback)
    click = await world.fake.click(world.guild_id, world.facilitator, reject)
    body = await click.wait_response()
    assert body["type"] == 9  # the modal
    modal_id = body["data"]["custom_id"]
    await world.restart()
    submit = await world.fake.submit_modal(
        world.guild_id, world.facilitator, modal_id, {"reason": "Not evidence-based"}
    )
    answer = await submit.wait_response()
    assert "not added" in text_of(answer)
    await eventually(lambda: any("Not evidence-based" in t for t in dm_bodies(world)))
    h = await world.run(world.bob, "resource", "search", query="miracle")
    assert "Nothing in the library" in text_of(h.callback)
    # A member can't submit the modal to reject things.
    await suggest(world, world.alice, "Another", "https://example.org/another")
    submit = await world.fake.submit_modal(
        world.guild_id, world.bob, "fb:res-reject:2", {"reason": "mine"}
    )
    assert "Only facilitators" in text_of(await submit.wait_response())


async def test_unsafe_link_is_refused_kindly(world: World) -> None:
    await world.configure()
    h = await suggest(world, world.alice, "Bad", "javascript:alert(1)")
    reply = h.responses[-1]["body"]
    assert int(reply["flags"]) & 64 and "https://" in reply["content"]
