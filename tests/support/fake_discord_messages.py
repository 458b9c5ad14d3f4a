"""A member posting in a channel of the fake Discord: stored (so DELETE finds it) and sent to
the bot as MESSAGE_CREATE with the author's member data (roles), as Discord does."""

from __future__ import annotations

from collections.abc import Iterable

from .fake_discord import FakeDiscord
from .fake_discord_state import JSON


async def user_says(
    fake: FakeDiscord,
    channel_id: int,
    author_id: int,
    content: str,
    *,
    mentions: Iterable[int] = (),
    mention_roles: Iterable[int] = (),
    mention_everyone: bool = False,
) -> JSON:
    msg = fake.message_payload(channel_id, {"content": content}, author_id=author_id)
    msg["mentions"] = [fake.user_payload(u) for u in mentions]
    msg["mention_roles"] = [str(r) for r in mention_roles]
    msg["mention_everyone"] = mention_everyone
    fake.store_message(msg)
    event: JSON = dict(msg)
    if "guild_id" in msg:
        member = fake.member(int(msg["guild_id"]), author_id)
        event["member"] = {k: v for k, v in member.items() if k != "user"}
    await fake.dispatch("MESSAGE_CREATE", event)
    return msg
