"""A local fake of Discord (REST under /api/v10 + Gateway websocket) for end-to-end tests.

One module per Discord resource; ``server.FakeDiscord`` combines them. Start at ``server``
for how to use it. Threads and moderation routes are opt-in: ``threads.install(fake)``,
``moderation.install(fake)``.
"""

from .interactions import InteractionHandle
from .options import ChannelOpt, MentionableOpt, RoleOpt, UserOpt
from .routing import Recorded
from .server import FakeDiscord, SchemaError, point_discord_py_at

__all__ = [
    "ChannelOpt",
    "FakeDiscord",
    "InteractionHandle",
    "MentionableOpt",
    "Recorded",
    "RoleOpt",
    "SchemaError",
    "UserOpt",
    "point_discord_py_at",
]
