"""A local fake of Discord (REST under /api/v10 + Gateway websocket) for end-to-end tests.

Start at ``server`` (``FakeDiscord``, its usage, the HTTP side). One module per Discord
resource, each a mixin whose base classes are the resources it builds on:

- ``store``: ids and the containers, with the look-ups that answer "Unknown ..." errors
- ``permissions``: permission bits, overwrite maths, the checks routes make for the bot
- ``users``, ``guilds``, ``roles``, ``members``, ``channels``, ``messages``,
  ``scheduled_events``, ``applications`` (commands): payloads, helpers and REST routes
- ``options``, ``interactions``: injecting slash commands, components and modals;
  ``interaction_responses``: the callback and webhook routes the bot answers with
- ``gateway``: sessions, shards, dispatch, RESUME; ``ratelimits``: 429s and ``fail_next``
- ``routing``: the recorded request and route templates; ``common``, ``errors``
- ``threads``, ``moderation``: opt-in routes, ``install(fake)`` in the tests that need them

A new route goes in its resource's ``route_table``; a test can add one with ``add_route``.
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
