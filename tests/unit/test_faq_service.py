"""The FAQ and the crisis settings services on real SQLite; FAQ embeds with hostile text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from familybot.errors import Conflict, NotFound, UserFacingError
from familybot.ui.help_embeds import EMBED_TOTAL_MAX, faq_embed
from familybot.wiring import Services

GUILD = 1
FAC = 10


async def test_add_ask_remove(services: Services) -> None:
    faq = services.faq
    entry = await faq.add(GUILD, FAC, "  When do   groups meet? ", "Tuesdays at 7 pm.")
    assert entry.question == "When do groups meet?" and entry.created_by == FAC
    assert (await faq.find(GUILD, "when do groups meet?")).answer == "Tuesdays at 7 pm."
    assert (await faq.find(GUILD, "groups meet")).id == entry.id  # the only one containing it
    await faq.add(GUILD, FAC, "Who runs the groups?", "Trained facilitators.")
    assert await faq.autocomplete(GUILD, "wh") == ["When do groups meet?", "Who runs the groups?"]
    assert await faq.autocomplete(GUILD, "run") == ["Who runs the groups?"]
    with pytest.raises(NotFound):
        await faq.find(GUILD, "groups")  # ambiguous: both contain it
    assert await faq.autocomplete(2, "") == []  # another server sees nothing
    with pytest.raises(NotFound):
        await faq.find(2, "When do groups meet?")
    removed = await faq.remove(GUILD, "WHEN DO GROUPS MEET?")
    assert removed.id == entry.id
    with pytest.raises(NotFound, match="couldn't find a question"):
        await faq.find(GUILD, "When do groups meet?")
    with pytest.raises(NotFound):
        await faq.remove(GUILD, "When do groups meet?")


async def test_duplicates_and_limits(services: Services) -> None:
    faq = services.faq
    await faq.add(GUILD, FAC, "Is it free?", "Yes.")
    with pytest.raises(Conflict, match="already a question"):
        await faq.add(GUILD, FAC, "is it   FREE?", "No.")
    await faq.add(2, FAC, "Is it free?", "Another server may have its own.")
    for question, answer, fragment in (
        ("ab", "x", "at least 3"),
        ("q" * 101, "x", "100 characters or fewer"),
        ("Fine question", "   ", "can't be empty"),
        ("Fine question", "a" * 4001, "4000 characters or fewer"),
    ):
        with pytest.raises(UserFacingError, match=fragment):
            await faq.add(GUILD, FAC, question, answer)


async def test_user_data_export_and_forget(services: Services) -> None:
    await services.faq.add(GUILD, FAC, "Is it free?", "Yes.")
    exported = await services.faq.export_user_data(FAC)
    assert exported["faq_written"][0]["question"] == "Is it free?"
    assert await services.faq.delete_user_data(FAC) == 1
    assert (await services.faq.find(GUILD, "Is it free?")).created_by == 0


async def test_crisis_region_and_local_lines_are_cached(services: Services) -> None:
    crisis = services.crisis
    assert crisis.cached(GUILD) is None and crisis.cached(None) is None
    await crisis.set_region(GUILD, "uk")
    assert crisis.cached(GUILD) is not None and crisis.cached(GUILD).region == "UK"  # type: ignore[union-attr]
    await crisis.add_line(GUILD, FAC, "County  team", "Call 01234 567890", "9-5")
    known = crisis.cached(GUILD)
    assert known is not None and [x.name for x in known.local_lines] == ["County team"]
    assert crisis.local_names(GUILD) == ["County team"]
    with pytest.raises(Conflict):
        await crisis.add_line(GUILD, FAC, "county team", "Call 1", None)
    for name, contact, fragment in (
        ("x", "Call 1", "name of 2 to 80"),
        ("Web", "http://example.org", "https://"),
        ("Web", "chat at ftp://example.org", "https://"),
        ("Web", "no", "3 to 200"),
    ):
        with pytest.raises(UserFacingError, match=fragment):
            await crisis.add_line(GUILD, FAC, name, contact, None)
    with pytest.raises(UserFacingError):
        await crisis.set_region(GUILD, "Narnia")
    # A fresh service (a restart) warms its cache from the database.
    fresh = type(crisis)(crisis._settings, crisis._lines, crisis._clock)
    assert await fresh.warm() == 1
    warmed = fresh.cached(GUILD)
    assert warmed is not None and warmed.region == "UK" and len(warmed.local_lines) == 1
    await crisis.remove_line(GUILD, "COUNTY TEAM")
    assert crisis.cached(GUILD).local_lines == ()  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await crisis.remove_line(GUILD, "County team")


HOSTILE = st.sampled_from(
    [
        "@everyone",
        "@here",
        "<@&123>",
        "<@456>",
        "[click](https://evil.example)",
        "\u200b",
        "\u202e",
        "\u2067",
        "**",
        " ",
        "\n",
        "word",
        "🙂",
    ]
)
hostile_text = st.one_of(
    st.lists(HOSTILE, max_size=3000).map("".join),
    st.text(max_size=200),
    st.builds(
        lambda a, b: a * 10_000 + b, st.sampled_from(["x", "@everyone ", "\u200b"]), st.text()
    ),
)


@settings(max_examples=150, deadline=None)
@given(question=hostile_text, answer=hostile_text)
def test_faq_embed_never_exceeds_discord_limits(question: str, answer: str) -> None:
    embed = faq_embed(question, answer)
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed) <= EMBED_TOTAL_MAX
    shown = f"{embed.title}{embed.description}"
    assert "@everyone" not in shown and "@here" not in shown
