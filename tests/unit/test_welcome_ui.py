"""The start-here panel's and /help's texts stay within Discord's limits, for every role."""

from __future__ import annotations

import itertools

import discord

from familybot.ui.help import help_embed
from familybot.ui.welcome import (
    PANEL_BUTTONS,
    how_embed,
    panel_embed,
    panel_view,
)


def assert_within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= 6000
    assert len(embed.fields) <= 25
    assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
    for field in embed.fields:
        assert 1 <= len(field.name or "") <= 256
        assert 1 <= len(field.value or "") <= 1024


def test_help_fits_discord_for_every_kind_of_person() -> None:
    sizes = {}
    for in_server, facilitator, admin in itertools.product((True, False), repeat=3):
        embed = help_embed(in_server=in_server, facilitator=facilitator, admin=admin)
        assert_within_limits(embed)
        sizes[(in_server, facilitator, admin)] = len(embed.fields)
    # Outside a server nobody sees facilitator or admin tools, whatever they are elsewhere.
    assert sizes[(False, True, True)] == sizes[(False, False, False)]
    assert sizes[(True, False, False)] < sizes[(True, True, False)] < sizes[(True, True, True)]


def test_panel_and_how_this_works_fit_discord() -> None:
    assert_within_limits(panel_embed())
    assert_within_limits(how_embed())
    view = panel_view()
    assert view.timeout is None  # persistent: it must outlive every restart
    buttons = [getattr(child, "item", child) for child in view.children]
    labels = [b.label for b in buttons if isinstance(b, discord.ui.Button)]
    assert labels == [label for label, _, _ in PANEL_BUTTONS.values()]
    assert all(len(label) <= 80 for label in labels)
