"""Errors whose messages are safe and kind enough to show to people as they are."""

from __future__ import annotations


class UserFacingError(Exception):
    """A problem the person can act on. ``message`` is shown to them, ephemerally."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(UserFacingError):
    """Something the person named does not exist (or is not visible to them)."""


class NotAllowed(UserFacingError):
    """The person lacks the role or permission for this action."""


class Conflict(UserFacingError):
    """The action does not fit the current state (already joined, archived, full...)."""


class DiscordActionFailed(UserFacingError):
    """Discord refused something the bot tried (missing permission, outage). Nothing was kept."""


class ChannelGone(DiscordActionFailed):
    """The channel the bot tried to change no longer exists on Discord."""


class ConfigError(Exception):
    """Configuration is missing or malformed; ``explanation`` tells the operator what to do."""

    def __init__(self, explanation: str) -> None:
        super().__init__(explanation)
        self.explanation = explanation
