"""What `/setup show` checks: the facts read from Discord, and the problems found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelFacts:
    bot_permissions: frozenset[str]
    everyone_can_view: bool


@dataclass(frozen=True)
class GuildFacts:
    """What Discord says about one server, from the bot's point of view."""

    bot_permissions: frozenset[str]  # guild-wide
    roles: frozenset[int]  # every role that exists
    roles_below_bot: frozenset[int]  # those under the bot's highest role: it can manage them
    channels: Mapping[int, ChannelFacts]  # every channel that exists (text-like)
    message_content_wanted: bool  # MESSAGE_CONTENT_INTENT in the config
    message_content_requested: bool  # what the bot asked the gateway for
    message_content_enabled: bool  # the application's flags: switched on in the portal


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.what} {self.fix}"
