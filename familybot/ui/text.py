"""Small display helpers shared by embeds and replies."""

from __future__ import annotations

from datetime import datetime

ZERO_WIDTH_SPACE = "\u200b"


def user_mention(user_id: int) -> str:
    return f"<@{user_id}>"


def channel_mention(channel_id: int) -> str:
    return f"<#{channel_id}>"


def role_mention(role_id: int) -> str:
    return f"<@&{role_id}>"


def ts(instant: datetime, style: str = "F") -> str:
    """Discord timestamp markup: each reader sees their own local time."""
    return f"<t:{int(instant.timestamp())}:{style}>"


def when(instant: datetime) -> str:
    return f"{ts(instant, 'F')} ({ts(instant, 'R')})"


def defuse(text: str) -> str:
    """Make mass-mention text inert to the eye too (allowed_mentions already stops pings)."""
    return text.replace("@everyone", f"@{ZERO_WIDTH_SPACE}everyone").replace(
        "@here", f"@{ZERO_WIDTH_SPACE}here"
    )


def clip(text: str, limit: int) -> str:
    """Cut to `limit` characters at a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def shown(text: str, limit: int = 100) -> str:
    """A user-supplied name as it appears inside one of our sentences."""
    return clip(defuse(text), limit)
