"""Views of persistent components, as drawn: the look and the custom_id, no behaviour.

Each button or menu's custom_id carries its state and matches the template of a
`discord.ui.DynamicItem` that the feature's cog registers (cogs/<feature>_components.py),
so a press is answered there, also after a restart. The view built here is only what is
posted: it is not kept in memory to answer presses (the registered items do that).
"""

from __future__ import annotations

import discord


class PostedView(discord.ui.View):
    """A view whose items are all answered by registered dynamic items."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    def is_dispatchable(self) -> bool:
        # discord.py keeps a dispatchable view in memory (forever, with no timeout) to
        # route presses to its items; these presses are routed by custom_id template to
        # the items the cogs registered, so there is nothing to keep.
        return False
