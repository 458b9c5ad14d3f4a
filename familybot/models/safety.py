"""The safety watch's outputs: the private note to a member, the alert to facilitators."""

from __future__ import annotations

from dataclasses import dataclass

from familybot.models.crisis import CrisisLine


# --- what the watch sends ------------------------------------------------------------------
@dataclass(frozen=True)
class CrisisDM:
    """The private message to the author: warm words, then the server's crisis lines."""

    guild_name: str
    region: str | None
    lines: tuple[CrisisLine, ...]
    facilitators_told: bool


@dataclass(frozen=True)
class SafetyAlert:
    """The facilitators' alert: who and where (ids), a jump link; never the message text."""

    guild_id: int
    channel_id: int
    message_id: int
    author_id: int
    dm_delivered: bool

    @property
    def jump_url(self) -> str:
        return f"https://discord.com/channels/{self.guild_id}/{self.channel_id}/{self.message_id}"


@dataclass(frozen=True)
class SeenMessage:
    """One message in a server, as the watch and automod need it. Content is never stored."""

    guild_id: int
    guild_name: str
    channel_id: int
    message_id: int
    author_id: int
    content: str
    mention_ids: frozenset[int] = frozenset()  # users and roles mentioned
    mention_everyone: bool = False  # @everyone/@here that actually pinged
